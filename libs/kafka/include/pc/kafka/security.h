// How a Kafka client proves who it is and checks who the broker is (docs/security.md).
//
// Every client of this library — publisher, consumer, tailer, admin calls, EndOffsets — takes
// a `Security` and applies it through one function (src/security.cc), so a service cannot
// end up with one secured and one plaintext connection. Services fill it from the flags in
// pc/kafka/security_flags.h.
//
//   pc::kafka::Security security{.protocol = "SSL", .ca_file = "/etc/kafka/ca.crt",
//                                .cert_file = "/etc/kafka/user.crt",
//                                .key_file = "/etc/kafka/user.key"};
//   PC_CHECK_OK(pc::kafka::ValidateSecurity(security));          // files readable, combination sane
//   absl::Status reached = pc::kafka::VerifyConnection(brokers, security);
//   // UNAUTHENTICATED: the broker's certificate, our certificate or our password was refused.
//
// Protocols: PLAINTEXT (no TLS, no authentication; mock cluster and unsecured brokers only),
// SSL (TLS, the broker verified against `ca_file`; with `cert_file`/`key_file` the client
// authenticates with its certificate: mTLS, principal = the certificate's CN on our brokers),
// SASL_SSL (TLS plus SASL SCRAM-SHA-512 with `sasl_username` and the password read from
// `sasl_password_file`; see docs/security.md for librdkafka 2.0.2's SCRAM bug against Kafka 4).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pc::kafka {

struct Security {
  std::string protocol = "PLAINTEXT";  // PLAINTEXT | SSL | SASL_SSL
  std::string ca_file = {};            // PEM CA certificate(s) that signed the broker's certificate
  std::string cert_file = {};          // PEM client certificate (mTLS); needs key_file
  std::string key_file = {};           // PEM private key of cert_file, unencrypted
  std::string sasl_mechanism = "SCRAM-SHA-512";
  std::string sasl_username = {};
  std::string sasl_password_file = {};  // the password is read from this file, never passed inline
};

// OK if `security` is a usable combination and every file it names is readable; otherwise
// INVALID_ARGUMENT saying which setting and which file. Never includes a secret.
absl::Status ValidateSecurity(const Security& security);

// Connects to `brokers` with `security` and asks for the cluster's metadata, waiting at most
// `timeout`. OK once the broker answered. UNAUTHENTICATED when the TLS handshake or the SASL
// authentication was refused (the message says which: e.g. the broker's certificate does not
// verify against ca_file), INVALID_ARGUMENT for a bad configuration, UNAVAILABLE when no
// broker answered in time (with librdkafka's last error, e.g. a protocol mismatch).
absl::Status VerifyConnection(const std::string& brokers, const Security& security,
                              absl::Duration timeout = absl::Seconds(10));

}  // namespace pc::kafka
