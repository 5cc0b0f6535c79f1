// A static group member through a broker outage longer than its session timeout, on a broker
// of this test's own (deploy/local/kafka/kafka.sh with the tier's certificates), so it can be
// killed without disturbing the tests that share the tier's broker (label integration).
//
// The fault tier found it (tests/fault): when the session times out with the broker away,
// librdkafka 2.0.2 resets the member id but still sends the offset commits queued before; the
// broker, back, fences them (FENCED_INSTANCE_ID), which librdkafka raises as fatal, and the
// consumer never consumed again. The consumer now recognises its own stale request and rejoins
// with a new handle. The broker must come back after the session timed out but while those
// commits still wait (about a session long), hence the 30 s session.
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/publisher.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"
#include "test_util.h"

namespace pc::kafka {
namespace {

using testing::PublishAndWait;
using testing::Recorder;

class BrokerOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("kafka-outage");
    std::filesystem::create_directories(dir_);
    port_ = pc::testing::FreeTcpPort();
    controller_port_ = pc::testing::FreeTcpPort();
    sasl_port_ = pc::testing::FreeTcpPort();
    brokers_ = absl::StrCat("127.0.0.1:", port_);
    ASSERT_EQ(KafkaScript("start"), 0) << "see " << dir_ << "/script.log";
  }
  void TearDown() override {
    KafkaScript("stop");
    std::filesystem::remove_all(dir_);
  }
  // kafka.sh VERB, or for "kill" a SIGKILL to the broker's pid.
  int KafkaScript(const std::string& verb) {
    if (verb == "kill") {
      const std::string kill =
          absl::StrCat("pid=$(cat ", dir_.string(), "/kafka.pid) && kill -9 $pid",
                       " && while kill -0 $pid 2>/dev/null; do sleep 0.1; done");
      return std::system(kill.c_str());
    }
    const std::string command = absl::StrCat(
        "PC_KAFKA_DIR=", dir_.string(), " PC_KAFKA_PORT=", port_,
        " PC_KAFKA_CONTROLLER_PORT=", controller_port_, " PC_KAFKA_SASL_PORT=", sasl_port_,
        " PC_KAFKA_CERTS_DIR=", pc::testing::RequiredEnv("PC_TEST_KAFKA_CERTS_DIR"),
        " PC_PCCTL=", pc::testing::RequiredEnv("PC_PCCTL"), " PC_KAFKA_HEAP=-Xmx384m ",
        pc::testing::RequiredEnv("PC_SOURCE_DIR"), "/deploy/local/kafka/kafka.sh ", verb,
        " >>", dir_.string(), "/script.log 2>&1");
    return std::system(command.c_str());
  }

  std::filesystem::path dir_;
  int port_ = 0;
  int controller_port_ = 0;
  int sasl_port_ = 0;
  std::string brokers_;
};

TEST_F(BrokerOutageTest, AStaticMemberConsumesAgainAfterAnOutageLongerThanItsSession) {
  const std::string topic = pc::testing::UniqueName("outage");
  const pc::kafka::Security admin = pc::testing::KafkaSecurity();
  ASSERT_OK(CreateTopics(brokers_, admin, {topic}, 1, 1));
  ASSERT_OK_AND_ASSIGN(auto publisher, KafkaPublisher::Create({.brokers = brokers_,
                                                               .security = admin}));
  ASSERT_OK(PublishAndWait(*publisher, {.topic = topic, .key = "k", .payload = "before"}));

  Recorder recorder;
  ASSERT_OK_AND_ASSIGN(
      auto consumer,
      KafkaConsumer::Create({.brokers = brokers_,
                             .security = admin,
                             .group_id = pc::testing::UniqueName("outage"),
                             .topics = {topic},
                             .membership = {.instance_id = "replica-0",
                                            .session_timeout = absl::Seconds(30)}},
                            [](const ConsumedMessage&) { return absl::OkStatus(); }, nullptr,
                            recorder.Hooks()));
  ASSERT_OK(consumer->Start());
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 1; }));

  // kill -9 at once: the offset just stored is not committed yet (a consumer in the middle of
  // a stream), and the broker does not say goodbye.
  int revoked_before;
  {
    std::lock_guard lock(recorder.mu);
    revoked_before = recorder.revocations;
  }
  ASSERT_EQ(KafkaScript("kill"), 0);
  // The session runs out with the broker away: the member loses its partition.
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.revocations > revoked_before; },
                                 std::chrono::seconds(90)))
      << "the session did not time out";
  ASSERT_EQ(KafkaScript("start"), 0);

  ASSERT_OK(PublishAndWait(*publisher, {.topic = topic, .key = "k", .payload = "after"}));
  EXPECT_TRUE(recorder.WaitUntil([&] {
    for (const auto& h : recorder.handled) {
      if (h.message.payload == "after") return true;
    }
    return false;
  })) << "the consumer did not consume after the outage";
  EXPECT_FALSE(consumer->fatal()) << "the member was fenced by its own instance id";
  consumer->Stop(absl::Seconds(30));
  publisher->Close(absl::Seconds(10));
}

}  // namespace
}  // namespace pc::kafka
