#include "pc/runtime/tls.h"

#include <cstdlib>

#include "pc/tls/tls.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    spdlog::critical("gRPC TLS: {}", std::string(value.status().message()));
    std::abort();
  }
  return *std::move(value);
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFromFlags() {
  const pc::tls::Files files = pc::tls::FilesFromFlags();
  if (!files.cert_file.empty()) {
    spdlog::info("gRPC server: TLS{} (certificate {}, re-read every {})",
                 files.client_ca_file.empty() ? "" : " with client certificates (mTLS)",
                 files.cert_file, absl::FormatDuration(files.refresh_interval));
  }
  return OrDie(pc::tls::ServerCredentials(files));
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFromFlags() {
  return OrDie(pc::tls::ChannelCredentials(pc::tls::FilesFromFlags()));
}

}  // namespace pc::runtime
