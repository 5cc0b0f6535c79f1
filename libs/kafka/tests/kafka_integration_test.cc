// Integration tests against the real broker of the test tier (PC_TEST_KAFKA_BROKERS, started
// by the CTest fixture). Each test creates its own uniquely named topics.
#include <future>
#include <list>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/tailer.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"
#include "test_util.h"

namespace pc::kafka {
namespace {

using ::pc::testing::IsOk;
using ::pc::testing::IsOkAndHolds;
using ::pc::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::Handled;
using testing::PublishAndWait;
using testing::Recorder;

class KafkaIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    topic_ = pc::testing::UniqueName("kafka");
    dead_letter_ = pc::testing::UniqueName("kafka.dead-letter");
    ASSERT_THAT(CreateTopics(brokers_, pc::testing::KafkaSecurity(), {topic_, dead_letter_}, 1, 1), IsOk());
    ASSERT_OK_AND_ASSIGN(publisher_, KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity()}));
  }
  void TearDown() override {
    for (auto& consumer : consumers_) consumer->Stop(absl::Seconds(30));
    if (publisher_) publisher_->Close(absl::Seconds(10));
  }

  Recorder& NewRecorder() { return recorders_.emplace_back(); }

  KafkaConsumer* StartConsumer(const std::string& group, MessageHandler handler,
                               Recorder& recorder, GroupMembership membership = {}) {
    auto consumer = KafkaConsumer::Create({.brokers = brokers_,
                                           .security = pc::testing::KafkaSecurity(),
                                           .group_id = group,
                                           .topics = {topic_},
                                           .dead_letter_topic = dead_letter_,
                                           .retry_backoff = absl::Milliseconds(100),
                                           .membership = membership},
                                          std::move(handler), publisher_.get(), recorder.Hooks());
    EXPECT_THAT(consumer, IsOk());
    if (!consumer.ok()) return nullptr;
    EXPECT_THAT((*consumer)->Start(), IsOk());
    consumers_.push_back(std::move(*consumer));
    return consumers_.back().get();
  }

  std::string brokers_;
  std::string topic_;
  std::string dead_letter_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::list<Recorder> recorders_;  // outlive the consumers that call them
  std::vector<std::unique_ptr<KafkaConsumer>> consumers_;
};

TEST_F(KafkaIntegrationTest, CreateTopicsTreatsExistingTopicsAsSuccess) {
  EXPECT_THAT(CreateTopics(brokers_, pc::testing::KafkaSecurity(), {topic_, dead_letter_}, 1, 1), IsOk());
  EXPECT_THAT(CreateTopics(brokers_, pc::testing::KafkaSecurity(), {pc::testing::UniqueName("kafka")}, 1, 3),
              StatusIs(absl::StatusCode::kInvalidArgument));  // one broker: rf 3 impossible
}

TEST_F(KafkaIntegrationTest, TopicMessageCountCountsWhatIsOnTheTopic) {
  EXPECT_THAT(TopicMessageCount(brokers_, pc::testing::KafkaSecurity(), topic_), IsOkAndHolds(0));
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_, .key = key, .payload = key}), IsOk());
  }
  EXPECT_THAT(TopicMessageCount(brokers_, pc::testing::KafkaSecurity(), topic_), IsOkAndHolds(3));
  EXPECT_THAT(TopicMessageCount(brokers_, pc::testing::KafkaSecurity(),
                                pc::testing::UniqueName("no-such-topic"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KafkaIntegrationTest, RoundTripWithLz4KeepsHeaders) {
  ASSERT_THAT(publisher_->EffectiveConfig(), Contains(Pair("compression.codec", "lz4")));
  const Headers headers = {{kHeaderEventId, "e-1"},
                           {kHeaderEventType, "InvitationSent"},
                           {kHeaderContentType, kContentTypeProtobuf},
                           {kHeaderCorrelationId, "c-1"}};
  const std::string payload(2000, 'z');  // compressible
  ASSERT_THAT(PublishAndWait(*publisher_,
                             {.topic = topic_, .key = "inv-1", .payload = payload, .headers = headers}),
              IsOk());
  Recorder& recorder = NewRecorder();
  StartConsumer(pc::testing::UniqueName("group"),
                [](const ConsumedMessage&) { return absl::OkStatus(); }, recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 1; }));
  const ConsumedMessage m = recorder.HandledSnapshot()[0].message;
  EXPECT_EQ(m.topic, topic_);
  EXPECT_EQ(m.partition, 0);
  EXPECT_EQ(m.offset, 0);
  EXPECT_EQ(m.key, "inv-1");
  EXPECT_EQ(m.payload, payload);
  EXPECT_EQ(m.headers, headers);
}

TEST_F(KafkaIntegrationTest, FailedMessageIsRedeliveredToTheNextConsumerOfTheGroup) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_, .key = "k", .payload = "first"}), IsOk());
  const std::string group = pc::testing::UniqueName("group");
  Recorder& failing = NewRecorder();
  KafkaConsumer* consumer = StartConsumer(
      group, [](const ConsumedMessage&) { return absl::UnavailableError("database down"); },
      failing);
  ASSERT_TRUE(failing.WaitUntil([&] { return failing.handled.size() >= 2; }));  // retried
  EXPECT_EQ(consumer->Lag(), 1);
  consumer->Stop(absl::Seconds(30));
  const Handled failed = failing.HandledSnapshot()[0];
  EXPECT_THAT(failed.status, StatusIs(absl::StatusCode::kUnavailable));

  Recorder& healthy = NewRecorder();
  consumer = StartConsumer(group, [](const ConsumedMessage&) { return absl::OkStatus(); }, healthy);
  ASSERT_TRUE(healthy.WaitUntil([&] { return !healthy.handled.empty(); }));
  const ConsumedMessage redelivered = healthy.HandledSnapshot()[0].message;
  EXPECT_EQ(redelivered.partition, failed.message.partition);
  EXPECT_EQ(redelivered.offset, failed.message.offset);
  EXPECT_EQ(redelivered.payload, "first");
}

TEST_F(KafkaIntegrationTest, UndecodableMessageIsDeadLetteredAndTheNextIsConsumed) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_,
                                           .key = "inv-9",
                                           .payload = "\xde\xad",
                                           .headers = {{kHeaderEventId, "e-9"}}}),
              IsOk());
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_, .key = "inv-9", .payload = "ok"}),
              IsOk());
  const std::string group = pc::testing::UniqueName("group");
  Recorder& recorder = NewRecorder();
  StartConsumer(
      group,
      [](const ConsumedMessage& m) {
        return m.payload == "ok" ? absl::OkStatus()
                                 : absl::DataLossError("cannot parse EventEnvelope");
      },
      recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 2; }));
  const auto handled = recorder.HandledSnapshot();
  EXPECT_THAT(handled[0].status, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(handled[1].message.payload, "ok");
  EXPECT_THAT(handled[1].status, IsOk());

  const auto dead =
      testing::ReadTopic(brokers_, dead_letter_, pc::testing::UniqueName("dlq-reader"), 1,
                         pc::testing::KafkaSecurity());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "inv-9");
  EXPECT_EQ(dead[0].payload, "\xde\xad");
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderEventId), "e-9");
  EXPECT_THAT(HeaderValue(dead[0].headers, kHeaderDlqError),
              HasSubstr("DATA_LOSS: cannot parse EventEnvelope"));
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourceTopic), topic_);
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourcePartition), "0");
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourceOffset), "0");
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqConsumerGroup), group);
}

TEST_F(KafkaIntegrationTest, StopReturnsWithinItsTimeout) {
  Recorder& recorder = NewRecorder();
  KafkaConsumer* consumer = StartConsumer(
      pc::testing::UniqueName("group"), [](const ConsumedMessage&) { return absl::OkStatus(); },
      recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.assignments > 0; }));
  auto stopped = std::async(std::launch::async, [&] { consumer->Stop(absl::Seconds(5)); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

// A static member that vanishes without leaving (a static member's close sends no
// LeaveGroup, like kill -9) and comes back under the same instance id gets its partitions
// at once, and the group's committed offset carries over: it handles the next message, not
// the old ones again.
TEST_F(KafkaIntegrationTest, StaticMemberRestartedUnderItsInstanceIdGetsItsPartitionsBack) {
  const std::string group = pc::testing::UniqueName("group");
  // A session timeout far longer than the test's wait: only the static swap can reassign.
  const GroupMembership membership{.instance_id = "replica-0",
                                   .session_timeout = absl::Minutes(5)};
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_, .key = "k", .payload = "one"}), IsOk());
  Recorder& first = NewRecorder();
  KafkaConsumer* consumer = StartConsumer(
      group, [](const ConsumedMessage&) { return absl::OkStatus(); }, first, membership);
  ASSERT_TRUE(first.WaitUntil([&] { return first.handled.size() == 1; }));
  EXPECT_EQ(consumer->EffectiveConfig().at("group.instance.id"), "replica-0");
  consumer->Stop(absl::Seconds(30));

  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic_, .key = "k", .payload = "two"}), IsOk());
  Recorder& second = NewRecorder();
  StartConsumer(group, [](const ConsumedMessage&) { return absl::OkStatus(); }, second,
                membership);
  ASSERT_TRUE(second.WaitUntil([&] { return second.handled.size() == 1; }))
      << "the restarted static member did not get its partition back";
  EXPECT_EQ(second.HandledSnapshot()[0].message.payload, "two");
}

// Two live processes under one instance id: the broker fences the older, which cannot go on
// and says so (fatal(), the readiness rule's first case), instead of idling silently.
TEST_F(KafkaIntegrationTest, TheOlderOfTwoLiveMembersWithOneInstanceIdReportsItselfFatal) {
  const std::string group = pc::testing::UniqueName("group");
  const GroupMembership membership{.instance_id = "twin", .session_timeout = absl::Seconds(10)};
  auto ok = [](const ConsumedMessage&) { return absl::OkStatus(); };
  Recorder& older = NewRecorder();
  KafkaConsumer* first = StartConsumer(group, ok, older, membership);
  ASSERT_TRUE(older.WaitUntil([&] { return older.assignments == 1; }));
  Recorder& newer = NewRecorder();
  KafkaConsumer* second = StartConsumer(group, ok, newer, membership);
  ASSERT_TRUE(older.WaitUntil([&] { return older.fatal; })) << "the fenced member did not know";
  EXPECT_TRUE(first->fatal());
  EXPECT_FALSE(second->fatal());
}

TEST_F(KafkaIntegrationTest, MembershipOutsideTheBrokersBoundsIsRefused) {
  Recorder& recorder = NewRecorder();
  auto consumer = KafkaConsumer::Create(
      {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = "g",
       .topics = {topic_},
       .membership = {.session_timeout = absl::Seconds(3)}},
      [](const ConsumedMessage&) { return absl::OkStatus(); }, nullptr, recorder.Hooks());
  ASSERT_THAT(consumer, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(consumer.status().message()), HasSubstr("session_timeout"));
  consumer = KafkaConsumer::Create(
      {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = "g",
       .topics = {topic_},
       .membership = {.heartbeat_interval = absl::Seconds(5)}},
      [](const ConsumedMessage&) { return absl::OkStatus(); }, nullptr, recorder.Hooks());
  ASSERT_THAT(consumer, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(consumer.status().message()), HasSubstr("heartbeat_interval"));
}

// The group's lag counts every partition of the topics, including the ones a member cannot
// get past, and a member that holds none still sees the group's lag.
TEST_F(KafkaIntegrationTest, ProbeGroupCountsTheLagOfEveryPartition) {
  const std::string topic = pc::testing::UniqueName("kafka.three");
  ASSERT_THAT(CreateTopics(brokers_, pc::testing::KafkaSecurity(), {topic}, 3, 1), IsOk());
  for (const char* payload : {"ok", "stuck"}) {  // same key: same partition
    ASSERT_THAT(PublishAndWait(*publisher_, {.topic = topic, .key = "k", .payload = payload}),
                IsOk());
  }
  const std::string group = pc::testing::UniqueName("group");
  Recorder& recorder = NewRecorder();
  auto consumer = KafkaConsumer::Create(
      {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = group,
       .topics = {topic},
       .retry_backoff = absl::Milliseconds(100)},
      [](const ConsumedMessage& m) {
        return m.payload == "stuck" ? absl::UnavailableError("not yet") : absl::OkStatus();
      },
      nullptr, recorder.Hooks());
  ASSERT_THAT(consumer, IsOk());
  ASSERT_THAT((*consumer)->Start(), IsOk());
  auto ok_handled = [&] {
    int n = 0;
    for (const Handled& h : recorder.handled) n += h.status.ok() ? 1 : 0;
    return n == 1 && recorder.handled.size() >= 2;  // "ok", and "stuck" failed at least once
  };
  ASSERT_TRUE(recorder.WaitUntil(ok_handled));
  absl::StatusOr<GroupStatus> status = (*consumer)->ProbeGroup(absl::Seconds(10));
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->partitions.size(), 3u);
  EXPECT_EQ(status->lag, 1);  // "stuck"
  EXPECT_EQ(status->unheld, 0);
  EXPECT_EQ(status->held_here(), 3);
  int64_t written = 0;
  for (const PartitionProgress& p : status->partitions) {
    written += p.end;
    if (p.end == 2) {
      EXPECT_EQ(p.position, 1) << "partition " << p.partition;
    }
  }
  EXPECT_EQ(written, 2);
  (*consumer)->Stop(absl::Seconds(30));
}

// What a tailer's handler saw, read by the test thread after CatchUp returned.
struct Tailed {
  absl::Mutex mu;
  std::vector<ConsumedMessage> messages ABSL_GUARDED_BY(mu);
  TopicTailer::Handler Handler() {
    return [this](const ConsumedMessage& m) {
      absl::MutexLock lock(&mu);
      messages.push_back(m);
    };
  }
  size_t size() {
    absl::MutexLock lock(&mu);
    return messages.size();
  }
};

TEST_F(KafkaIntegrationTest, TailerCatchUpReturnsOnceEveryEarlierMessageWasHandled) {
  Tailed tailed;
  ASSERT_OK_AND_ASSIGN(auto tailer,
                       TopicTailer::Create({.brokers = brokers_, .topic = topic_, .security = pc::testing::KafkaSecurity()}, tailed.Handler()));
  ASSERT_THAT(tailer->Start(), IsOk());
  ASSERT_THAT(tailer->CatchUp(absl::Seconds(30)), IsOk());  // an empty topic: at once
  EXPECT_EQ(tailed.size(), 0u);
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    publisher_->Publish({.topic = topic_, .key = absl::StrCat("k", i), .payload = "x"},
                        [](const absl::Status& s) { EXPECT_THAT(s, IsOk()); });
  }
  ASSERT_THAT(publisher_->Flush(absl::Seconds(30)), IsOk());
  // No waiting on the handler: CatchUp itself is the barrier.
  ASSERT_THAT(tailer->CatchUp(absl::Seconds(30)), IsOk());
  EXPECT_EQ(tailed.size(), static_cast<size_t>(kMessages));
  tailer->Stop();
  EXPECT_THAT(tailer->CatchUp(absl::Seconds(1)), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KafkaIntegrationTest, TailerFollowsPartitionsAddedAfterItStarted) {
  Tailed tailed;
  ASSERT_OK_AND_ASSIGN(auto tailer,
                       TopicTailer::Create({.brokers = brokers_, .topic = topic_, .security = pc::testing::KafkaSecurity()}, tailed.Handler()));
  ASSERT_THAT(tailer->Start(), IsOk());
  EXPECT_EQ(tailer->partitions(), 1);
  ASSERT_THAT(AddPartitions(brokers_, pc::testing::KafkaSecurity(), topic_, 3), IsOk());
  EXPECT_THAT(AddPartitions(brokers_, pc::testing::KafkaSecurity(), topic_, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  // A new producer sees the three partitions at once; 60 keys land on all of them.
  ASSERT_OK_AND_ASSIGN(auto producer, KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity()}));
  constexpr int kMessages = 60;
  for (int i = 0; i < kMessages; ++i) {
    producer->Publish({.topic = topic_, .key = absl::StrCat("key-", i), .payload = "y"},
                      [](const absl::Status& s) { EXPECT_THAT(s, IsOk()); });
  }
  ASSERT_THAT(producer->Flush(absl::Seconds(30)), IsOk());
  producer->Close(absl::Seconds(10));
  ASSERT_THAT(tailer->CatchUp(absl::Seconds(30)), IsOk());
  EXPECT_EQ(tailer->partitions(), 3);
  absl::MutexLock lock(&tailed.mu);
  EXPECT_EQ(tailed.messages.size(), static_cast<size_t>(kMessages));
  int on_new_partitions = 0;
  for (const ConsumedMessage& m : tailed.messages) on_new_partitions += m.partition > 0;
  EXPECT_GT(on_new_partitions, 0) << "no message reached the added partitions";
}

TEST_F(KafkaIntegrationTest, TailerStartIsUnavailableWithoutABroker) {
  Tailed tailed;
  ASSERT_OK_AND_ASSIGN(
      auto nowhere, TopicTailer::Create({.brokers = "127.0.0.1:1", .topic = topic_,
                                         .start_timeout = absl::Milliseconds(300)},
                                        tailed.Handler()));
  EXPECT_THAT(nowhere->Start(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace pc::kafka
