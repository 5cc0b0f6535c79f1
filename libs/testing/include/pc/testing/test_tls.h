// A local CA and one certificate per process for tests that start services over mTLS, made by
// the script `make run` uses (tools/dev/grpc-certs.sh).
//
//   pc::testing::TestTls tls(dir, {"invitation", "relationship", "client"});
//   std::vector<std::string> args = {PC_INVITATION_BINARY, ...};
//   for (auto& f : tls.Flags("invitation")) args.push_back(f);   // serve + call over mTLS
//   auto channel = grpc::CreateChannel(address, tls.Credentials("client"));
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/security/credentials.h"

namespace pc::testing {

class TestTls {
 public:
  // Writes dir/ca.pem and dir/<name>.{pem,key}; throws if the script fails.
  TestTls(std::filesystem::path dir, const std::vector<std::string>& names);
  // --grpc_tls_{cert,key,client_ca,ca}_file for a process named `name`.
  std::vector<std::string> Flags(const std::string& name) const;
  // mTLS channel credentials presenting `name`'s pair and trusting the CA.
  std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& name) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace pc::testing
