# pc_proto(<target> PROTOS a.proto b.proto [GRPC] [DEPS other_proto_targets])
#
# Generates C++ (and with GRPC, gRPC stubs with gmock mocks) for .proto files under
# protos/ at build time, into one static library target per proto package.
set(PC_PROTO_ROOT ${CMAKE_SOURCE_DIR}/protos)
set(PC_PROTO_OUT ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${PC_PROTO_OUT})
find_program(PC_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

function(pc_proto target)
  cmake_parse_arguments(ARG "GRPC" "" "PROTOS;DEPS" ${ARGN})
  set(srcs "")
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${PC_PROTO_ROOT} ${abs})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outs ${PC_PROTO_OUT}/${stem}.pb.cc ${PC_PROTO_OUT}/${stem}.pb.h)
    set(args --cpp_out=${PC_PROTO_OUT})
    if(ARG_GRPC)
      list(APPEND outs ${PC_PROTO_OUT}/${stem}.grpc.pb.cc ${PC_PROTO_OUT}/${stem}.grpc.pb.h
                       ${PC_PROTO_OUT}/${stem}_mock.grpc.pb.h)
      list(APPEND args --grpc_out=generate_mock_code=true:${PC_PROTO_OUT}
                       --plugin=protoc-gen-grpc=${PC_GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ${args} -I ${PC_PROTO_ROOT} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}")
    list(FILTER outs INCLUDE REGEX "\\.cc$")
    list(APPEND srcs ${outs})
  endforeach()
  add_library(${target} STATIC ${srcs})
  if(PC_FUZZ)
    # Generated code is not what the fuzz targets test: no coverage or sanitizer
    # instrumentation, which roughly halves the fuzz build.
    target_compile_options(${target} PRIVATE -fno-sanitize=all)
  endif()
  target_include_directories(${target} PUBLIC ${PC_PROTO_OUT})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
endfunction()
