// The Kafka security flags every process that talks to Kafka shares (services, pcctl, test
// helpers). Each has a PC_… environment twin (read as the flag's default, so it works in
// binaries with and without pc::runtime's flag parsing):
//
//   --kafka_security_protocol   PC_KAFKA_SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_SSL
//   --kafka_ca_file             PC_KAFKA_CA_FILE             CA that signed the broker's certificate
//   --kafka_cert_file           PC_KAFKA_CERT_FILE           client certificate (mTLS)
//   --kafka_key_file            PC_KAFKA_KEY_FILE            its private key
//   --kafka_sasl_mechanism      PC_KAFKA_SASL_MECHANISM      SCRAM-SHA-512
//   --kafka_sasl_username       PC_KAFKA_SASL_USERNAME
//   --kafka_sasl_password_file  PC_KAFKA_SASL_PASSWORD_FILE  file holding the password
//
//   auto security = pc::kafka::SecurityFromFlags();      // validated; INVALID_ARGUMENT names the flag
//   PC_CHECK_OK(security.status());
//   PC_CHECK_OK(pc::kafka::VerifyConnectionAtStart(brokers, *security));
#pragma once

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pc/kafka/security.h"

ABSL_DECLARE_FLAG(std::string, kafka_security_protocol);
ABSL_DECLARE_FLAG(std::string, kafka_ca_file);
ABSL_DECLARE_FLAG(std::string, kafka_cert_file);
ABSL_DECLARE_FLAG(std::string, kafka_key_file);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_mechanism);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_username);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_password_file);

namespace pc::kafka {

// The flags above as a Security, checked with ValidateSecurity (the error names the flag).
absl::StatusOr<Security> SecurityFromFlags();

// What a process does at start: VerifyConnection, then OK if the broker answered, an error
// if it refused our credentials or the configuration is bad, and OK with a logged warning if
// no broker answered in time (a broker that is down is not a configuration error: clients
// keep retrying on their own).
absl::Status VerifyConnectionAtStart(const std::string& brokers, const Security& security,
                                     absl::Duration timeout = absl::Seconds(10));

}  // namespace pc::kafka
