// The secured test broker (deploy/local/kafka/kafka.sh, via the `kafka` fixture) refuses
// what it must: clients without a certificate or with one from another CA, clients that do
// not trust its CA, and every principal but the invitation service's writing invitation
// events, so a forged InvitationAccepted never reaches the relationship service. Label
// integration; needs PC_TEST_KAFKA_BROKERS and PC_TEST_KAFKA_CERTS_DIR.
#include <future>

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
using ::pc::testing::KafkaSecurity;
using ::pc::testing::StatusIs;

// The status code and a matcher on the message (StatusIs(code, x) compares ErrorInfo reasons).
MATCHER_P2(CodeAndMessage, code, message, "") {
  return arg.code() == code &&
         ::testing::ExplainMatchResult(message, std::string(arg.message()), result_listener);
}
using ::testing::AllOf;
using ::testing::HasSubstr;

// A cloud no other test consumes the invitation topic of with a service's consumer group.
constexpr char kCloud[] = "germany";

class KafkaSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    ASSERT_THAT(CreateTopics(brokers_, KafkaSecurity(), CloudTopics(kCloud), 3, 1), IsOk());
  }

  // Publishes one message as `principal` and returns its delivery report.
  absl::Status PublishAs(const std::string& principal, const std::string& topic) {
    auto publisher = KafkaPublisher::Create({.brokers = brokers_,
                                             .security = KafkaSecurity(principal),
                                             .client_id = "security-test-" + principal,
                                             .message_timeout_ms = 20000});
    if (!publisher.ok()) return publisher.status();
    std::promise<absl::Status> delivered;
    (*publisher)->Publish({.topic = topic,
                           .key = "kafka-security-test",
                           .payload = "not an event: written by kafka_security_test",
                           .headers = {}},
                          [&](absl::Status s) { delivered.set_value(s); });
    absl::Status status = delivered.get_future().get();
    (*publisher)->Close(absl::Seconds(5));
    return status;
  }

  std::string brokers_;
};

TEST_F(KafkaSecurityTest, TheServicesCredentialsConnect) {
  for (const std::string principal : {"admin", "invitation", "relationship", "notification"}) {
    EXPECT_THAT(VerifyConnection(brokers_, KafkaSecurity(principal)), IsOk()) << principal;
  }
}

TEST_F(KafkaSecurityTest, AClientWithoutCredentialsIsRefused) {
  // Plaintext: the listener speaks TLS only.
  EXPECT_THAT(VerifyConnection(brokers_, {}, absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable));
  // TLS that trusts the broker, but no client certificate.
  Security no_certificate = KafkaSecurity();
  no_certificate.cert_file.clear();
  no_certificate.key_file.clear();
  EXPECT_THAT(VerifyConnection(brokers_, no_certificate, absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(KafkaSecurityTest, AClientCertificateFromAnotherCaIsRefused) {
  // CN=admin, the super user's name, but signed by a CA the broker does not trust.
  Security forged = pc::testing::UntrustedKafkaSecurity();
  forged.ca_file = KafkaSecurity().ca_file;  // the client itself trusts the broker
  EXPECT_THAT(VerifyConnection(brokers_, forged, absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(KafkaSecurityTest, TrustingTheWrongCaFailsAndSaysSo) {
  Security wrong_ca = KafkaSecurity("relationship");
  wrong_ca.ca_file = pc::testing::UntrustedKafkaSecurity().ca_file;
  EXPECT_THAT(VerifyConnection(brokers_, wrong_ca, absl::Seconds(5)),
              CodeAndMessage(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("certificate verify failed"),
                             HasSubstr(wrong_ca.ca_file))));
}

// Only the invitation principal writes invitation events: a forged InvitationAccepted from
// any other service's credentials is refused by the broker before any consumer sees it.
TEST_F(KafkaSecurityTest, OnlyTheInvitationServiceWritesInvitationEvents) {
  const std::string topic = InvitationTopic(kCloud);
  for (const std::string principal : {"notification", "portal", "relationship"}) {
    EXPECT_THAT(PublishAs(principal, topic),
                CodeAndMessage(absl::StatusCode::kPermissionDenied,
                               HasSubstr("TOPIC_AUTHORIZATION_FAILED")))
        << principal;
  }
  // pcctl may not write at all: it cannot even get an idempotent producer id (the producer's
  // fatal error, INTERNAL).
  EXPECT_THAT(PublishAs("pcctl", topic),
              CodeAndMessage(absl::StatusCode::kInternal, HasSubstr("CLUSTER_AUTHORIZATION_FAILED")));
  EXPECT_THAT(PublishAs("invitation", topic), IsOk());
}

TEST_F(KafkaSecurityTest, EachServiceWritesOnlyItsOwnTopics) {
  EXPECT_THAT(PublishAs("invitation", RelationshipTopic(kCloud)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PublishAs("notification", RelationshipTopic(kCloud)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PublishAs("invitation", DeadLetterTopic(kCloud)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PublishAs("portal", DeadLetterTopic(kCloud)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // What they may: dead letters from both consumers.
  EXPECT_THAT(PublishAs("notification", DeadLetterTopic(kCloud)), IsOk());
  EXPECT_THAT(PublishAs("relationship", DeadLetterTopic(kCloud)), IsOk());
}

TEST_F(KafkaSecurityTest, OnlyTheAdminCreatesTopics) {
  EXPECT_THAT(CreateTopics(brokers_, KafkaSecurity("relationship"),
                           {pc::testing::UniqueName("security")}, 1, 1),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(KafkaSecurityTest, ThePortalReadsNothing) {
  EXPECT_THAT(EndOffsets(brokers_, KafkaSecurity("portal"), InvitationTopic(kCloud),
                         absl::Seconds(5))
                  .status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(EndOffsets(brokers_, KafkaSecurity("relationship"), InvitationTopic(kCloud))
                  .status(),
              IsOk());
}

// librdkafka 2.0.2 computes the SCRAM client proof the way Kafka 4 refuses
// (confluentinc/librdkafka#4895, fixed in 2.6.1): the SASL_SSL listener refuses even the
// right password, and the start-up check says why. Kafka's own Java client authenticates
// with the same user and password (docs/security.md).
TEST_F(KafkaSecurityTest, SaslScramIsRefusedWithLibrdkafka202AndTheMessageSaysWhy) {
  const std::string dir = pc::testing::RequiredEnv("PC_TEST_KAFKA_CERTS_DIR");
  const Security sasl = {.protocol = "SASL_SSL",
                         .ca_file = dir + "/ca.crt",
                         .sasl_username = "admin",
                         .sasl_password_file = dir + "/admin.password"};
  EXPECT_THAT(VerifyConnection(pc::testing::RequiredEnv("PC_TEST_KAFKA_SASL_BROKERS"), sasl),
              CodeAndMessage(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("SASL authentication"), HasSubstr("librdkafka#4895"))));
}

}  // namespace
}  // namespace pc::kafka
