#include "absl/flags/flag.h"
#include "pc/tls/tls.h"

ABSL_FLAG(std::string, grpc_tls_cert_file, "",
          "PEM certificate chain this process serves over gRPC TLS and presents as a client "
          "when a server asks (mTLS). Empty: plaintext server.");
ABSL_FLAG(std::string, grpc_tls_key_file, "", "PEM private key of --grpc_tls_cert_file.");
ABSL_FLAG(std::string, grpc_tls_client_ca_file, "",
          "PEM CA bundle; when set, the gRPC server requires client certificates signed by it "
          "(mTLS).");
ABSL_FLAG(std::string, grpc_tls_ca_file, "",
          "PEM CA bundle outgoing gRPC calls verify servers against (TLS). Empty: plaintext "
          "channels.");
ABSL_FLAG(absl::Duration, grpc_tls_refresh_interval, absl::Seconds(30),
          "How often the TLS files above are re-read (rotation without a restart).");

namespace pc::tls {

Files FilesFromFlags() {
  return {.cert_file = absl::GetFlag(FLAGS_grpc_tls_cert_file),
          .key_file = absl::GetFlag(FLAGS_grpc_tls_key_file),
          .client_ca_file = absl::GetFlag(FLAGS_grpc_tls_client_ca_file),
          .ca_file = absl::GetFlag(FLAGS_grpc_tls_ca_file),
          .refresh_interval = absl::GetFlag(FLAGS_grpc_tls_refresh_interval)};
}

}  // namespace pc::tls
