#include "pc/tls/tls.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace pc::tls {
namespace {

namespace gx = grpc::experimental;

absl::Status CheckPemFile(const char* flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", path, "' holds no PEM data"));
  }
  return absl::OkStatus();
}

unsigned int RefreshSeconds(const Files& files) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(files.refresh_interval)));
}

}  // namespace

absl::Status Validate(const Files& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--grpc_tls_cert_file and --grpc_tls_key_file: give both or neither");
  }
  if (!files.client_ca_file.empty() && files.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--grpc_tls_client_ca_file: mTLS needs a server certificate (--grpc_tls_cert_file)");
  }
  if (files.refresh_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--grpc_tls_refresh_interval: must be at least 1s");
  }
  const std::pair<const char*, const std::string*> checks[] = {
      {"grpc_tls_cert_file", &files.cert_file},
      {"grpc_tls_key_file", &files.key_file},
      {"grpc_tls_client_ca_file", &files.client_ca_file},
      {"grpc_tls_ca_file", &files.ca_file}};
  for (const auto& [flag, path] : checks) {
    if (path->empty()) continue;
    if (absl::Status s = CheckPemFile(flag, *path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const Files& files) {
  if (absl::Status s = Validate(files); !s.ok()) return s;
  if (files.cert_file.empty()) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<gx::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.client_ca_file, RefreshSeconds(files));
  gx::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return gx::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const Files& files) {
  if (absl::Status s = Validate(files); !s.ok()) return s;
  if (files.ca_file.empty()) return grpc::InsecureChannelCredentials();
  auto provider = std::make_shared<gx::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.ca_file, RefreshSeconds(files));
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  if (!files.cert_file.empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(std::make_shared<gx::HostNameCertificateVerifier>());
  return gx::TlsCredentials(options);
}

}  // namespace pc::tls
