// gRPC over TLS from certificate files that are re-read when they change (cert-manager and
// kubelet rotate mounted Secrets in place), for every server and client in the project.
//
//   pc::tls::Files files = pc::tls::FilesFromFlags();        // --grpc_tls_* (flags.h)
//   auto server_creds = pc::tls::ServerCredentials(files);   // TLS if cert+key, mTLS if client CA
//   auto channel_creds = pc::tls::ChannelCredentials(files); // TLS if a CA file is given
//   PC_CHECK_OK(server_creds.status());
//   builder.AddListeningPort("0.0.0.0:50051", *server_creds);
//   auto channel = grpc::CreateChannel("relationship:50052", *channel_creds);
//
// Empty paths mean plaintext (unit tests, `pcctl` against a plaintext server). Files are
// checked at start (missing, unreadable or not PEM → INVALID_ARGUMENT naming the flag), then
// watched by gRPC's FileWatcherCertificateProvider every `refresh_interval`: new connections
// use the new files; a half-rotated pair (key and certificate that do not match) is ignored
// until both are in place.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace pc::tls {

struct Files {
  // This process's certificate chain and private key (PEM): what its gRPC server serves,
  // and what its clients present when a server asks for a client certificate (mTLS).
  std::string cert_file;
  std::string key_file;
  // Server: require a client certificate signed by this CA (mTLS). Empty: none is asked.
  std::string client_ca_file;
  // Client: verify the server's certificate (chain and host name) against this CA.
  // Empty: plaintext channels.
  std::string ca_file;
  absl::Duration refresh_interval = absl::Seconds(30);
};

// The files from --grpc_tls_cert_file, --grpc_tls_key_file, --grpc_tls_client_ca_file,
// --grpc_tls_ca_file and --grpc_tls_refresh_interval.
Files FilesFromFlags();

// OK, or INVALID_ARGUMENT naming the first flag whose file cannot be used: cert without key
// (or the reverse), a client CA without a certificate, a file that is missing, unreadable or
// holds no PEM block.
absl::Status Validate(const Files& files);

// Insecure credentials when cert_file is empty; otherwise TLS with the watched pair, asking
// for and verifying client certificates against client_ca_file when it is set.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const Files& files);

// Insecure credentials when ca_file is empty; otherwise TLS that verifies the server against
// ca_file (host name included) and presents cert_file/key_file when they are set.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const Files& files);

// True when ChannelCredentials(files) would be TLS.
inline bool ClientUsesTls(const Files& files) { return !files.ca_file.empty(); }

}  // namespace pc::tls
