# Helpers that give every library, binary and test the same shape.
#
#   pc_library(kafka
#     SOURCES src/publisher.cc src/consumer.cc
#     PUBLIC_DEPS pc::common absl::status
#     PRIVATE_DEPS PkgConfig::RDKAFKA)
#
# makes the static library `pc_kafka` with the alias `pc::kafka`, whose public headers live
# in `include/pc/kafka/`. Dependencies whose types do not appear in those headers go in
# PRIVATE_DEPS. Project code is compiled with warnings as errors (PC_WERROR).
#
#   pc_test(kafka_unit_test LABELS unit SOURCES tests/publisher_test.cc DEPS pc::kafka)
#
# makes a GoogleTest binary whose cases CTest lists one by one with the given labels.
# Tests labelled `integration` or `e2e` need the real broker and PostgreSQL, which CTest
# fixtures start once per run (see cmake/PcTestInfra.cmake).

function(pc_warnings target)
  # GCC 12 gives false maybe-uninitialized warnings on std::variant at -O2, and designated
  # initializers that leave members at their defaults are intended.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
                         -Wno-missing-field-initializers -Wno-maybe-uninitialized)
  if(PC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(pc_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(pc_${name} STATIC ${ARG_SOURCES})
    target_include_directories(pc_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                          PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(pc_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    pc_warnings(pc_${name})
  else()
    add_library(pc_${name} INTERFACE)
    target_include_directories(pc_${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(pc_${name} INTERFACE ${ARG_PUBLIC_DEPS})
  endif()
  add_library(pc::${name} ALIAS pc_${name})
endfunction()

function(pc_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  pc_warnings(${name})
endfunction()

# Labels: unit | integration | e2e | browser | deploy. Integration and e2e tests get the
# real Kafka broker and PostgreSQL through the `kafka` and `postgres` fixtures.
function(pc_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  pc_warnings(${name})
  set(fixtures "")
  set(env "")
  if("integration" IN_LIST ARG_LABELS OR "e2e" IN_LIST ARG_LABELS)
    set(fixtures "kafka;postgres")
    set(env ${PC_TEST_ENVIRONMENT})
  endif()
  gtest_discover_tests(${name}
    TEST_PREFIX "${name}."
    TEST_LIST ${name}_TESTS
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
  # gtest_discover_tests splits list-valued properties into words, so the fixtures and the
  # environment are set on the discovered tests by a script CTest includes after discovery.
  if(fixtures)
    set(script "${CMAKE_CURRENT_BINARY_DIR}/${name}_fixtures.cmake")
    file(WRITE "${script}"
      "foreach(t IN LISTS ${name}_TESTS)\n"
      "  set_tests_properties(\"\${t}\" PROPERTIES FIXTURES_REQUIRED \"${fixtures}\" ENVIRONMENT \"${env}\")\n"
      "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
  endif()
endfunction()

# pc_service_binary(pc-relationship SOURCES src/main.cc DEPS …): a service's release binary and,
# from the same objects, `pc-relationship-failpoints`, which links pc::failpoints so that
# PC_FAILPOINTS can crash or pause it at named points (tests/fault). Images ship only the first.
function(pc_service_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name}_objects OBJECT ${ARG_SOURCES})
  target_link_libraries(${name}_objects PRIVATE ${ARG_DEPS})
  pc_warnings(${name}_objects)
  add_executable(${name} $<TARGET_OBJECTS:${name}_objects>)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  add_executable(${name}-failpoints $<TARGET_OBJECTS:${name}_objects>)
  target_link_libraries(${name}-failpoints PRIVATE pc::failpoints ${ARG_DEPS})
  set_property(GLOBAL APPEND PROPERTY PC_SERVICE_BINARIES ${name})
endfunction()
