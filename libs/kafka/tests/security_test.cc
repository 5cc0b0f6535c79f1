// Unit tests of the Kafka client security settings (pc/kafka/security.h): the combinations
// ValidateSecurity refuses, and the librdkafka settings every kind of client ends up with,
// read back from the handles (secrets redacted). No broker: the certificates are made with
// openssl in a temp dir, the connection checks against the real broker are in
// kafka_security_test.cc.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/security.h"
#include "pc/kafka/tailer.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"

namespace pc::kafka {
namespace {

using ::pc::testing::IsOk;
using ::pc::testing::StatusIs;

// The status code and a matcher on the message (StatusIs(code, x) compares ErrorInfo reasons).
MATCHER_P2(CodeAndMessage, code, message, "") {
  return arg.code() == code &&
         ::testing::ExplainMatchResult(message, std::string(arg.message()), result_listener);
}
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kPassword[] = "s3cret-Passw0rd-never-logged";

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     pc::testing::UniqueName("kafka-security"));
    std::filesystem::create_directories(*dir_);
    const std::string d = dir_->string();
    const std::string cmd =
        "cd " + d +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null"
        " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-subj /CN=relationship -keyout client.key -out client.csr 2>/dev/null"
        " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-days 2 -out client.crt 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ofstream(d + "/password") << kPassword << "\n";
    std::ofstream(d + "/empty-password") << "\n";
    std::ofstream(d + "/not-pem") << "hello";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string File(const std::string& name) { return (*dir_ / name).string(); }

  static Security Mtls() {
    return {.protocol = "SSL",
            .ca_file = File("ca.crt"),
            .cert_file = File("client.crt"),
            .key_file = File("client.key")};
  }
  static Security Sasl() {
    return {.protocol = "SASL_SSL",
            .ca_file = File("ca.crt"),
            .sasl_username = "relationship",
            .sasl_password_file = File("password")};
  }

  static std::filesystem::path* dir_;
};

std::filesystem::path* SecurityTest::dir_ = nullptr;

TEST_F(SecurityTest, ValidateRefusesUnusableSettingsNamingTheFlag) {
  struct Case {
    std::string name;
    Security security;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"unknown protocol", {.protocol = "TLS"}, "kafka_security_protocol"},
      {"SASL_PLAINTEXT is not offered", {.protocol = "SASL_PLAINTEXT"}, "kafka_security_protocol"},
      {"TLS files with PLAINTEXT", {.protocol = "PLAINTEXT", .ca_file = File("ca.crt")}, "PLAINTEXT"},
      {"unreadable CA", {.protocol = "SSL", .ca_file = File("missing.crt")}, "kafka_ca_file"},
      {"CA not PEM", {.protocol = "SSL", .ca_file = File("not-pem")}, "not a PEM file"},
      {"certificate without key",
       {.protocol = "SSL", .ca_file = File("ca.crt"), .cert_file = File("client.crt")},
       "kafka_cert_file and kafka_key_file"},
      {"unreadable key",
       {.protocol = "SSL", .cert_file = File("client.crt"), .key_file = File("nope.key")},
       "kafka_key_file"},
      {"SASL settings with SSL",
       {.protocol = "SSL", .sasl_username = "x", .sasl_password_file = File("password")},
       "SASL settings"},
      {"SASL without user",
       {.protocol = "SASL_SSL", .sasl_password_file = File("password")}, "kafka_sasl_username"},
      {"SASL without password file", {.protocol = "SASL_SSL", .sasl_username = "x"},
       "kafka_sasl_password_file"},
      {"unreadable password file",
       {.protocol = "SASL_SSL", .sasl_username = "x", .sasl_password_file = File("missing")},
       "kafka_sasl_password_file"},
      {"empty password file",
       {.protocol = "SASL_SSL", .sasl_username = "x", .sasl_password_file = File("empty-password")},
       "holds no password"},
      {"PLAIN mechanism",
       {.protocol = "SASL_SSL", .sasl_mechanism = "PLAIN", .sasl_username = "x",
        .sasl_password_file = File("password")},
       "kafka_sasl_mechanism"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ValidateSecurity(c.security),
                CodeAndMessage(absl::StatusCode::kInvalidArgument, HasSubstr(c.says)))
        << c.name;
  }
  EXPECT_THAT(ValidateSecurity({}), IsOk());
  EXPECT_THAT(ValidateSecurity(Mtls()), IsOk());
  EXPECT_THAT(ValidateSecurity(Sasl()), IsOk());
  EXPECT_THAT(ValidateSecurity({.protocol = "SSL"}), IsOk());  // the system's CAs
}

TEST_F(SecurityTest, PublisherAndConsumerRunWithTheMtlsSettings) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1", .security = Mtls()}));
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       KafkaConsumer::Create({.brokers = "127.0.0.1:1",
                                              .security = Mtls(),
                                              .group_id = "relationship",
                                              .topics = {"t"}},
                                             [](const ConsumedMessage&) { return absl::OkStatus(); },
                                             nullptr));
  for (const auto& config : {publisher->EffectiveConfig(), consumer->EffectiveConfig()}) {
    EXPECT_THAT(config, Contains(Pair("security.protocol", "ssl")));
    EXPECT_THAT(config, Contains(Pair("ssl.ca.location", File("ca.crt"))));
    EXPECT_THAT(config, Contains(Pair("ssl.certificate.location", File("client.crt"))));
    EXPECT_THAT(config, Contains(Pair("ssl.key.location", File("client.key"))));
    EXPECT_THAT(config, Contains(Pair("ssl.endpoint.identification.algorithm", "https")));
  }
  publisher->Close(absl::Seconds(1));
  consumer->Stop(absl::Seconds(1));
}

TEST_F(SecurityTest, SaslPasswordComesFromItsFileAndIsNeverShown) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1", .security = Sasl()}));
  const auto config = publisher->EffectiveConfig();
  EXPECT_THAT(config, Contains(Pair("security.protocol", "sasl_ssl")));
  EXPECT_THAT(config, Contains(Pair("sasl.mechanisms", "SCRAM-SHA-512")));
  EXPECT_THAT(config, Contains(Pair("sasl.username", "relationship")));
  EXPECT_THAT(config, Contains(Pair("sasl.password", "[redacted]")));
  for (const auto& [name, value] : config) {
    EXPECT_THAT(value, Not(HasSubstr(kPassword))) << name;
  }
  publisher->Close(absl::Seconds(1));
}

// Every other client kind applies the same settings: a bad file fails its creation too.
TEST_F(SecurityTest, EveryClientKindRefusesAnUnreadableFile) {
  const Security bad = {.protocol = "SSL", .ca_file = File("missing.crt")};
  const auto refused = CodeAndMessage(absl::StatusCode::kInvalidArgument,
                                AllOf(HasSubstr("kafka_ca_file"), HasSubstr("missing.crt")));
  EXPECT_THAT(KafkaPublisher::Create({.brokers = "127.0.0.1:1", .security = bad}).status(),
              refused);
  EXPECT_THAT(KafkaConsumer::Create({.brokers = "127.0.0.1:1", .security = bad,
                                     .group_id = "g", .topics = {"t"}},
                                    [](const ConsumedMessage&) { return absl::OkStatus(); },
                                    nullptr)
                  .status(),
              refused);
  EXPECT_THAT(TopicTailer::Create({.brokers = "127.0.0.1:1", .topic = "t", .security = bad},
                                  [](const ConsumedMessage&) {})
                  .status(),
              refused);
  EXPECT_THAT(EndOffsets("127.0.0.1:1", bad, "t").status(), refused);
  EXPECT_THAT(CreateTopics("127.0.0.1:1", bad, {"t"}, 1, 1), refused);
  EXPECT_THAT(AddPartitions("127.0.0.1:1", bad, "t", 2), refused);
  EXPECT_THAT(CreateAcls("127.0.0.1:1", bad,
                         {{.resource_name = "t", .principal = "User:x", .operation = "Read"}}),
              refused);
  EXPECT_THAT(VerifyConnection("127.0.0.1:1", bad), refused);
}

TEST_F(SecurityTest, UnknownAclOperationIsInvalid) {
  EXPECT_THAT(CreateAcls("127.0.0.1:1", {},
                         {{.resource_name = "t", .principal = "User:x", .operation = "Steal"}}),
              CodeAndMessage(absl::StatusCode::kInvalidArgument, HasSubstr("Steal")));
  EXPECT_THAT(CreateAcls("127.0.0.1:1", {},
                         {{.resource_type = "topics", .resource_name = "t",
                           .principal = "User:x", .operation = "Read"}}),
              CodeAndMessage(absl::StatusCode::kInvalidArgument, HasSubstr("topics")));
}

}  // namespace
}  // namespace pc::kafka
