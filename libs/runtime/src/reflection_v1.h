// grpc.reflection.v1.ServerReflection, which gRPC 1.51's reflection plugin does not serve (it
// serves only grpc.reflection.v1alpha). Answers from the same places the plugin does: the
// generated descriptor pool and the server's own list of registered services, so v1 and
// v1alpha give the same answers. Server::Start registers it beside the plugin.
//
//   ReflectionV1Service reflection;
//   builder.RegisterService(&reflection);
//   // in a ServerBuilderPlugin's InitServer:
//   reflection.SetServiceList(initializer->GetServiceList());
#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace pc::runtime {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // The server's list of service names (grpc::Server owns it and keeps it up to date).
  void SetServiceList(const std::vector<std::string>* services) { services_ = services; }

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  const std::vector<std::string>* services_ = nullptr;
};

}  // namespace pc::runtime
