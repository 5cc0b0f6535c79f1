#include "pc/testing/test_tls.h"

#include <cstdlib>
#include <stdexcept>

#include "pc/tls/tls.h"

namespace pc::testing {

TestTls::TestTls(std::filesystem::path dir, const std::vector<std::string>& names)
    : dir_(std::move(dir)) {
  std::string cmd = std::string("bash '") + PC_GRPC_CERTS_SCRIPT + "' '" + dir_.string() + "'";
  for (const std::string& n : names) cmd += " " + n;
  cmd += " >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("grpc-certs.sh failed: " + cmd);
}

std::vector<std::string> TestTls::Flags(const std::string& name) const {
  return {"--grpc_tls_cert_file=" + (dir_ / (name + ".pem")).string(),
          "--grpc_tls_key_file=" + (dir_ / (name + ".key")).string(),
          "--grpc_tls_client_ca_file=" + (dir_ / "ca.pem").string(),
          "--grpc_tls_ca_file=" + (dir_ / "ca.pem").string()};
}

std::shared_ptr<grpc::ChannelCredentials> TestTls::Credentials(const std::string& name) const {
  auto creds = pc::tls::ChannelCredentials({.cert_file = (dir_ / (name + ".pem")).string(),
                                            .key_file = (dir_ / (name + ".key")).string(),
                                            .ca_file = (dir_ / "ca.pem").string()});
  if (!creds.ok()) throw std::runtime_error(std::string(creds.status().message()));
  return *creds;
}

}  // namespace pc::testing
