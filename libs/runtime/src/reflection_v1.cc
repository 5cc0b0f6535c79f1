#include "reflection_v1.h"

#include <unordered_set>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace pc::runtime {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;

// Adds `file` and, transitively, the files it imports (each once) to the response.
void AddFile(const FileDescriptor* file, std::unordered_set<std::string>* seen,
             ServerReflectionResponse* response) {
  if (!seen->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  response->mutable_file_descriptor_response()->add_file_descriptor_proto(
      proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), seen, response);
}

grpc::Status NotFound(const std::string& what) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, what + " not found.");
}

}  // namespace

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    ServerReflectionResponse response;
    std::unordered_set<std::string> seen;
    grpc::Status status;
    switch (request.message_request_case()) {
      case ServerReflectionRequest::kFileByFilename: {
        const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
        status = file == nullptr ? NotFound("File") : grpc::Status::OK;
        if (file != nullptr) AddFile(file, &seen, &response);
        break;
      }
      case ServerReflectionRequest::kFileContainingSymbol: {
        const FileDescriptor* file =
            pool->FindFileContainingSymbol(request.file_containing_symbol());
        status = file == nullptr ? NotFound("Symbol") : grpc::Status::OK;
        if (file != nullptr) AddFile(file, &seen, &response);
        break;
      }
      case ServerReflectionRequest::kFileContainingExtension: {
        const auto& ask = request.file_containing_extension();
        const auto* type = pool->FindMessageTypeByName(ask.containing_type());
        const auto* extension =
            type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ask.extension_number());
        status = type == nullptr        ? NotFound("Type")
                 : extension == nullptr ? NotFound("Extension")
                                        : grpc::Status::OK;
        if (extension != nullptr) AddFile(extension->file(), &seen, &response);
        break;
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        status = type == nullptr ? NotFound("Type") : grpc::Status::OK;
        if (type != nullptr) {
          std::vector<const google::protobuf::FieldDescriptor*> extensions;
          pool->FindAllExtensions(type, &extensions);
          auto* numbers = response.mutable_all_extension_numbers_response();
          numbers->set_base_type_name(type->full_name());
          for (const auto* extension : extensions) {
            numbers->add_extension_number(extension->number());
          }
        }
        break;
      }
      case ServerReflectionRequest::kListServices:
        status = services_ == nullptr ? NotFound("Services") : grpc::Status::OK;
        if (services_ != nullptr) {
          auto* list = response.mutable_list_services_response();
          for (const std::string& name : *services_) list->add_service()->set_name(name);
        }
        break;
      default:
        status = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
    }
    if (!status.ok()) {
      response.clear_message_response();
      response.mutable_error_response()->set_error_code(status.error_code());
      response.mutable_error_response()->set_error_message(status.error_message());
    }
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace pc::runtime
