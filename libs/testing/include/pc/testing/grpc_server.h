// An in-process gRPC server on a loopback port chosen by the kernel, for tests.
//
//   MyServiceImpl impl;
//   pc::testing::InProcessServer server({&impl});
//   auto stub = partnercenter::invitation::v1::InvitationService::NewStub(server.Channel());
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace pc::testing {

class InProcessServer {
 public:
  explicit InProcessServer(const std::vector<grpc::Service*>& services);
  ~InProcessServer();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::shared_ptr<grpc::Channel> Channel() const;
  grpc::Server* server() { return server_.get(); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace pc::testing
