#include "pc/kafka/security_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "pc/common/env.h"
#include "spdlog/spdlog.h"

// The environment twin as the flag's default: pcctl reads no PC_ variables by itself, and
// pc::runtime's parser sets the same value again for services.
using pc::EnvOr;

ABSL_FLAG(std::string, kafka_security_protocol, EnvOr("PC_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
          "Kafka: PLAINTEXT, SSL (TLS; mTLS with --kafka_cert_file) or SASL_SSL (TLS + SCRAM)");
ABSL_FLAG(std::string, kafka_ca_file, EnvOr("PC_KAFKA_CA_FILE", ""),
          "Kafka: PEM CA certificate that signed the broker's certificate (empty: the system's CAs)");
ABSL_FLAG(std::string, kafka_cert_file, EnvOr("PC_KAFKA_CERT_FILE", ""),
          "Kafka: PEM client certificate (mTLS; the broker's principal is its CN)");
ABSL_FLAG(std::string, kafka_key_file, EnvOr("PC_KAFKA_KEY_FILE", ""),
          "Kafka: PEM private key of --kafka_cert_file");
ABSL_FLAG(std::string, kafka_sasl_mechanism, EnvOr("PC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
          "Kafka: SASL mechanism with SASL_SSL (SCRAM-SHA-512 or SCRAM-SHA-256)");
ABSL_FLAG(std::string, kafka_sasl_username, EnvOr("PC_KAFKA_SASL_USERNAME", ""),
          "Kafka: SASL user name with SASL_SSL");
ABSL_FLAG(std::string, kafka_sasl_password_file, EnvOr("PC_KAFKA_SASL_PASSWORD_FILE", ""),
          "Kafka: file holding the SASL password (never the password itself)");

namespace pc::kafka {

absl::StatusOr<Security> SecurityFromFlags() {
  Security security{.protocol = absl::GetFlag(FLAGS_kafka_security_protocol),
                    .ca_file = absl::GetFlag(FLAGS_kafka_ca_file),
                    .cert_file = absl::GetFlag(FLAGS_kafka_cert_file),
                    .key_file = absl::GetFlag(FLAGS_kafka_key_file),
                    .sasl_mechanism = absl::GetFlag(FLAGS_kafka_sasl_mechanism),
                    .sasl_username = absl::GetFlag(FLAGS_kafka_sasl_username),
                    .sasl_password_file = absl::GetFlag(FLAGS_kafka_sasl_password_file)};
  if (absl::Status status = ValidateSecurity(security); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Kafka security configuration: --", status.message()));
  }
  return security;
}

absl::Status VerifyConnectionAtStart(const std::string& brokers, const Security& security,
                                     absl::Duration timeout) {
  absl::Status status = VerifyConnection(brokers, security, timeout);
  if (status.ok()) {
    spdlog::info("kafka: connected to {} ({})", brokers, security.protocol);
    return status;
  }
  if (absl::IsUnavailable(status)) {
    spdlog::warn("{}; going on, the clients keep retrying", std::string(status.message()));
    return absl::OkStatus();
  }
  return status;
}

}  // namespace pc::kafka
