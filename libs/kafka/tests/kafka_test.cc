// Unit tests: topic names, error classification, and the publisher and consumer against
// librdkafka's in-process mock cluster (no real broker).
#include <future>
#include <list>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/spdlog.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/mock_cluster.h"
#include "pc/kafka/publisher.h"
#include "pc/testing/status_matchers.h"
#include "test_util.h"

namespace pc::kafka {
namespace {

using ::pc::testing::IsOk;
using ::pc::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::PublishAndWait;
using testing::Recorder;

constexpr char kTopic[] = "partnercenter.global.invitation-events.v1";
constexpr char kDeadLetter[] = "partnercenter.global.dead-letter.v1";

TEST(TopicNames, FollowTheDesign) {
  EXPECT_EQ(InvitationTopic("global"), "partnercenter.global.invitation-events.v1");
  EXPECT_EQ(RelationshipTopic("usgov"), "partnercenter.usgov.relationship-events.v1");
  EXPECT_EQ(DeadLetterTopic("germany"), "partnercenter.germany.dead-letter.v1");
  EXPECT_THAT(CloudTopics("global"),
              ::testing::ElementsAre("partnercenter.global.invitation-events.v1",
                                     "partnercenter.global.relationship-events.v1",
                                     "partnercenter.global.dead-letter.v1"));
}

TEST(HandlerErrors, PermanentOnlyWhenRetryingCannotHelp) {
  const std::vector<std::pair<absl::StatusCode, bool>> cases = {
      {absl::StatusCode::kInvalidArgument, true},  {absl::StatusCode::kDataLoss, true},
      {absl::StatusCode::kFailedPrecondition, true}, {absl::StatusCode::kNotFound, true},
      {absl::StatusCode::kAlreadyExists, true},    {absl::StatusCode::kOutOfRange, true},
      {absl::StatusCode::kUnimplemented, true},    {absl::StatusCode::kUnavailable, false},
      {absl::StatusCode::kDeadlineExceeded, false}, {absl::StatusCode::kAborted, false},
      {absl::StatusCode::kInternal, false},        {absl::StatusCode::kResourceExhausted, false},
      {absl::StatusCode::kUnknown, false},         {absl::StatusCode::kCancelled, false},
      {absl::StatusCode::kPermissionDenied, false}, {absl::StatusCode::kUnauthenticated, false},
  };
  for (const auto& [code, permanent] : cases) {
    EXPECT_EQ(IsPermanentHandlerError(absl::Status(code, "x")), permanent)
        << absl::StatusCodeToString(code);
  }
}

TEST(Headers, HeaderValueReturnsTheFirstOrEmpty) {
  const Headers headers = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(HeaderValue(headers, "a"), "1");
  EXPECT_EQ(HeaderValue(headers, "b"), "2");
  EXPECT_EQ(HeaderValue(headers, "c"), "");
}

TEST(CreateTopics, RejectsImpossibleLayouts) {
  EXPECT_THAT(CreateTopics("127.0.0.1:1", {}, {"t"}, 0, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CreateTopics("127.0.0.1:1", {}, {"t"}, 1, 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Publisher, RejectsBadConfiguration) {
  EXPECT_THAT(KafkaPublisher::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KafkaPublisher::Create({.brokers = "127.0.0.1:1", .compression = "rot13"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KafkaPublisher::Create({.brokers = "127.0.0.1:1", .extra = {{"no.such", "1"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Publisher, EffectiveConfigIsTheIdempotentLowLatencyProducer) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1", .client_id = "relay"}));
  const auto config = publisher->EffectiveConfig();
  EXPECT_THAT(config, Contains(Pair("enable.idempotence", "true")));
  // librdkafka reports canonical names: acks=all as request.required.acks=-1, linger.ms as
  // queue.buffering.max.ms, compression.type as compression.codec.
  EXPECT_THAT(config, Contains(Pair("request.required.acks", "-1")));
  EXPECT_THAT(config, Contains(Pair("queue.buffering.max.ms", "1")));
  EXPECT_THAT(config, Contains(Pair("compression.codec", "lz4")));
  EXPECT_THAT(config, Contains(Pair("message.timeout.ms", "30000")));
  EXPECT_THAT(config, Contains(Pair("client.id", "relay")));
}

TEST(Publisher, ExtraPropertiesAreAppliedLast) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1",
                                               .extra = {{"linger.ms", "7"}}}));
  EXPECT_THAT(publisher->EffectiveConfig(), Contains(Pair("queue.buffering.max.ms", "7")));
}

TEST(Publisher, UnreachableBrokerTimesOutThroughTheCallback) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1", .message_timeout_ms = 200}));
  EXPECT_THAT(PublishAndWait(*publisher, {.topic = kTopic, .key = "k", .payload = "p"}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(Publisher, FlushNamesOutstandingAndCloseCancelsWhatIsLeft) {
  ASSERT_OK_AND_ASSIGN(auto publisher, KafkaPublisher::Create({.brokers = "127.0.0.1:1"}));
  std::promise<absl::Status> delivered;
  int calls = 0;
  publisher->Publish({.topic = kTopic, .key = "k", .payload = "p"}, [&](absl::Status s) {
    ++calls;
    delivered.set_value(s);
  });
  const absl::Status flushed = publisher->Flush(absl::ZeroDuration());
  EXPECT_THAT(flushed, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(std::string(flushed.message()), HasSubstr("1 message(s)"));
  publisher->Close(absl::ZeroDuration());
  EXPECT_THAT(delivered.get_future().get(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(calls, 1);
  absl::Status after_close;
  publisher->Publish({.topic = kTopic, .payload = "p"}, [&](absl::Status s) { after_close = s; });
  EXPECT_THAT(after_close, StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(Publisher, FullLocalQueueReportsResourceExhausted) {
  ASSERT_OK_AND_ASSIGN(auto publisher,
                       KafkaPublisher::Create({.brokers = "127.0.0.1:1",
                                               .extra = {{"queue.buffering.max.messages", "1"}}}));
  publisher->Publish({.topic = kTopic, .payload = "fills the queue"}, [](absl::Status) {});
  EXPECT_THAT(PublishAndWait(*publisher, {.topic = kTopic, .payload = "no room"}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  publisher->Close(absl::ZeroDuration());  // the first one can never be delivered
}

class MockClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cluster_, MockCluster::Create());
    ASSERT_THAT(cluster_->CreateTopic(kTopic, 2), IsOk());
    ASSERT_THAT(cluster_->CreateTopic(kDeadLetter, 1), IsOk());
    ASSERT_OK_AND_ASSIGN(publisher_, KafkaPublisher::Create({.brokers = brokers()}));
  }
  void TearDown() override {
    for (auto& consumer : consumers_) consumer->Stop(absl::Seconds(30));
    consumers_.clear();
    if (publisher_) publisher_->Close(absl::Seconds(10));
  }
  const std::string& brokers() const { return cluster_->bootstrap_servers(); }

  // Starts a consumer of kTopic in `group` that dead-letters to kDeadLetter.
  Recorder& NewRecorder() { return recorders_.emplace_back(); }

  KafkaConsumer* StartConsumer(const std::string& group, MessageHandler handler,
                               Recorder& recorder, BatchHandler batch = {}, int max_batch = 1) {
    auto consumer = KafkaConsumer::Create({.brokers = brokers(),
                                           .group_id = group,
                                           .topics = {kTopic},
                                           .dead_letter_topic = kDeadLetter,
                                           .retry_backoff = absl::Milliseconds(50),
                                           // The mock group waits session.timeout.ms - 1 s
                                           // before re-electing after a member left.
                                           .extra = {{"session.timeout.ms", "3000"},
                                                     {"heartbeat.interval.ms", "500"}},
                                           .max_batch = max_batch},
                                          std::move(handler), publisher_.get(), recorder.Hooks(),
                                          std::move(batch));
    EXPECT_THAT(consumer, IsOk());
    if (!consumer.ok()) return nullptr;
    EXPECT_THAT((*consumer)->Start(), IsOk());
    consumers_.push_back(std::move(*consumer));
    return consumers_.back().get();
  }

  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::list<Recorder> recorders_;  // outlive the consumers that call them
  std::vector<std::unique_ptr<KafkaConsumer>> consumers_;
};

TEST_F(MockClusterTest, PublishDeliversExactlyOnceWithOk) {
  int calls = 0;
  std::promise<absl::Status> delivered;
  publisher_->Publish({.topic = kTopic, .key = "inv-1", .payload = "x"}, [&](absl::Status s) {
    ++calls;
    delivered.set_value(s);
  });
  EXPECT_THAT(publisher_->Flush(absl::Seconds(30)), IsOk());
  EXPECT_THAT(delivered.get_future().get(), IsOk());
  EXPECT_EQ(calls, 1);
}

TEST_F(MockClusterTest, FatalProducerErrorSurfacesAsInternal) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "k", .payload = "ok"}), IsOk());
  publisher_->RaiseFatalErrorForTesting("test: producer fenced");
  const absl::Status after = PublishAndWait(*publisher_, {.topic = kTopic, .payload = "late"});
  EXPECT_THAT(after, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(std::string(after.message()), HasSubstr("test: producer fenced"));
}

TEST_F(MockClusterTest, RoundTripKeepsKeyPayloadAndHeaders) {
  const Headers headers = {{kHeaderEventId, "e-1"},
                           {kHeaderEventType, "InvitationSent"},
                           {kHeaderContentType, kContentTypeProtobuf},
                           {kHeaderCorrelationId, "c-1"}};
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic,
                                           .key = "inv-1",
                                           .payload = std::string("\0bin\xff", 5),
                                           .headers = headers}),
              IsOk());
  Recorder& recorder = NewRecorder();
  std::vector<ConsumedMessage> seen;
  StartConsumer(
      "notification",
      [&](const ConsumedMessage& m) {
        seen.push_back(m);
        return absl::OkStatus();
      },
      recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 1; }));
  const ConsumedMessage m = recorder.HandledSnapshot()[0].message;
  EXPECT_EQ(m.topic, kTopic);
  EXPECT_EQ(m.key, "inv-1");
  EXPECT_EQ(m.payload, std::string("\0bin\xff", 5));
  EXPECT_EQ(m.headers, headers);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(MockClusterTest, ConsumerEffectiveConfigStoresOffsetsExplicitly) {
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       KafkaConsumer::Create({.brokers = brokers(),
                                              .group_id = "g",
                                              .topics = {kTopic},
                                              .auto_offset_reset = "latest"},
                                             [](const ConsumedMessage&) { return absl::OkStatus(); },
                                             nullptr));
  const auto config = consumer->EffectiveConfig();
  EXPECT_THAT(config, Contains(Pair("enable.auto.commit", "true")));
  EXPECT_THAT(config, Contains(Pair("enable.auto.offset.store", "false")));
  EXPECT_THAT(config, Contains(Pair("partition.assignment.strategy", "range,roundrobin")));
  EXPECT_THAT(config, Contains(Pair("auto.offset.reset", "largest")));  // librdkafka's name
  EXPECT_THAT(config, Contains(Pair("group.id", "g")));
}

TEST_F(MockClusterTest, ConsumerRejectsBadOptions) {
  auto ok = [](const ConsumedMessage&) { return absl::OkStatus(); };
  EXPECT_THAT(KafkaConsumer::Create({.brokers = brokers(), .topics = {kTopic}}, ok, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KafkaConsumer::Create({.brokers = brokers(), .group_id = "g"}, ok, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KafkaConsumer::Create({.brokers = brokers(),
                                     .group_id = "g",
                                     .topics = {kTopic},
                                     .dead_letter_topic = kDeadLetter},
                                    ok, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KafkaConsumer::Create({.brokers = brokers(),
                                     .group_id = "g",
                                     .topics = {kTopic},
                                     .extra = {{"session.timeout.ms", "nope"}}},
                                    ok, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MockClusterTest, PermanentErrorDeadLettersAndConsumptionGoesOn) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic,
                                           .key = "inv-1",
                                           .payload = "garbage",
                                           .headers = {{kHeaderEventId, "e-1"}}}),
              IsOk());
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "inv-1", .payload = "good"}),
              IsOk());
  Recorder& recorder = NewRecorder();
  StartConsumer(
      "relationship",
      [](const ConsumedMessage& m) {
        return m.payload == "garbage" ? absl::InvalidArgumentError("cannot decode EventEnvelope")
                                      : absl::OkStatus();
      },
      recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 2; }));
  const auto handled = recorder.HandledSnapshot();
  EXPECT_EQ(handled[0].message.payload, "garbage");
  EXPECT_THAT(handled[0].status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(handled[1].message.payload, "good");
  EXPECT_THAT(handled[1].status, IsOk());
  ASSERT_EQ(recorder.dead_lettered.size(), 1u);

  const auto dead = testing::ReadTopic(brokers(), kDeadLetter, "dlq-reader", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "inv-1");
  EXPECT_EQ(dead[0].payload, "garbage");
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderEventId), "e-1");
  EXPECT_THAT(HeaderValue(dead[0].headers, kHeaderDlqError),
              HasSubstr("INVALID_ARGUMENT: cannot decode EventEnvelope"));
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourceTopic), kTopic);
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourcePartition),
            std::to_string(handled[0].message.partition));
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqSourceOffset),
            std::to_string(handled[0].message.offset));
  EXPECT_EQ(HeaderValue(dead[0].headers, kHeaderDlqConsumerGroup), "relationship");
}

TEST_F(MockClusterTest, BatchesAreHandedOverTogetherAndAFailedBatchFallsBackPerMessage) {
  // One key: one partition, in order.
  for (const char* payload : {"a", "b", "garbage", "c", "d"}) {
    ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "k", .payload = payload}),
                IsOk());
  }
  Recorder& recorder = NewRecorder();
  std::mutex mu;
  std::vector<size_t> batch_sizes;
  std::vector<std::string> applied;  // what "committed": whole good batches, or single messages
  StartConsumer(
      "notification",
      [&](const ConsumedMessage& m) {
        if (m.payload == "garbage") return absl::DataLossError("not an envelope");
        std::lock_guard lock(mu);
        applied.push_back(m.payload);
        return absl::OkStatus();
      },
      recorder,
      [&](const std::vector<ConsumedMessage>& batch) {
        std::lock_guard lock(mu);
        batch_sizes.push_back(batch.size());
        for (const auto& m : batch) {
          if (m.payload == "garbage") return absl::DataLossError("poison in the batch");
        }
        for (const auto& m : batch) applied.push_back(m.payload);
        return absl::OkStatus();
      },
      /*max_batch=*/100);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 5; }));
  std::lock_guard lock(mu);
  EXPECT_EQ(applied, (std::vector<std::string>{"a", "b", "c", "d"})) << "each applied once, in order";
  ASSERT_EQ(recorder.dead_lettered.size(), 1u);
  EXPECT_EQ(recorder.dead_lettered[0].message.payload, "garbage");
  size_t total = 0;
  for (size_t n : batch_sizes) total += n;
  EXPECT_GE(total, 5u) << "every message went through the batch handler first";
}

TEST_F(MockClusterTest, TransientErrorIsRetriedWithTheSameMessage) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "inv-1", .payload = "once"}),
              IsOk());
  Recorder& recorder = NewRecorder();
  int attempts = 0;
  StartConsumer(
      "relationship",
      [&](const ConsumedMessage&) {
        return ++attempts == 1 ? absl::UnavailableError("database is down") : absl::OkStatus();
      },
      recorder);
  ASSERT_TRUE(recorder.WaitUntil([&] { return recorder.handled.size() == 2; }));
  const auto handled = recorder.HandledSnapshot();
  EXPECT_THAT(handled[0].status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(handled[1].status, IsOk());
  EXPECT_EQ(handled[1].message.payload, "once");
  EXPECT_EQ(handled[1].message.partition, handled[0].message.partition);
  EXPECT_EQ(handled[1].message.offset, handled[0].message.offset);
  EXPECT_TRUE(recorder.dead_lettered.empty());
}

TEST_F(MockClusterTest, StoredOffsetsSurviveARestartButFailedOnesDoNot) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "a", .payload = "done"}), IsOk());
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "a", .payload = "stuck"}), IsOk());
  Recorder& first = NewRecorder();
  KafkaConsumer* consumer = StartConsumer(
      "relationship",
      [](const ConsumedMessage& m) {
        return m.payload == "done" ? absl::OkStatus() : absl::UnavailableError("later");
      },
      first);
  ASSERT_TRUE(first.WaitUntil([&] { return first.handled.size() >= 3; }));  // done, stuck ×2
  EXPECT_EQ(consumer->Lag(), 1);  // "stuck" is behind the high watermark
  consumer->Stop(absl::Seconds(30));

  Recorder& second = NewRecorder();
  StartConsumer("relationship", [](const ConsumedMessage&) { return absl::OkStatus(); }, second);
  ASSERT_TRUE(second.WaitUntil([&] { return !second.handled.empty(); }));
  const ConsumedMessage redelivered = second.HandledSnapshot()[0].message;
  EXPECT_EQ(redelivered.payload, "stuck");
  const auto stuck = first.HandledSnapshot()[1].message;
  EXPECT_EQ(redelivered.partition, stuck.partition);
  EXPECT_EQ(redelivered.offset, stuck.offset);
}

// Completes `logged` once a log message containing `needle` was written.
class NeedleSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit NeedleSink(std::string needle) : needle_(std::move(needle)) {}
  std::promise<void> logged;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!seen_ && std::string_view(msg.payload.data(), msg.payload.size()).find(needle_) !=
                      std::string_view::npos) {
      seen_ = true;
      logged.set_value();
    }
  }
  void flush_() override {}

 private:
  const std::string needle_;
  bool seen_ = false;
};

TEST_F(MockClusterTest, StopNeverReturnsWhileAHandlerRuns) {
  ASSERT_THAT(PublishAndWait(*publisher_, {.topic = kTopic, .key = "k", .payload = "slow"}), IsOk());
  auto sink = std::make_shared<NeedleSink>("still running after Stop()");
  spdlog::default_logger()->sinks().push_back(sink);
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> handler_returned{false};
  Recorder& recorder = NewRecorder();
  KafkaConsumer* consumer = StartConsumer(
      "relationship",
      [&entered, &handler_returned, released](const ConsumedMessage&) {
        entered.set_value();
        released.wait();
        handler_returned = true;
        return absl::OkStatus();
      },
      recorder);
  ASSERT_EQ(entered.get_future().wait_for(testing::kWait), std::future_status::ready);
  auto stop = std::async(std::launch::async, [&] {
    consumer->Stop(absl::Milliseconds(100));
    return handler_returned.load();
  });
  // Past its timeout, Stop() says it waits for the handler instead of abandoning it.
  ASSERT_EQ(sink->logged.get_future().wait_for(testing::kWait), std::future_status::ready);
  EXPECT_EQ(stop.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "Stop() returned while the handler still ran (its owner would free what it uses)";
  release.set_value();
  ASSERT_EQ(stop.wait_for(testing::kWait), std::future_status::ready);
  EXPECT_TRUE(stop.get()) << "Stop() returned before the handler did";
  EXPECT_TRUE(recorder.WaitUntil([&] { return recorder.closed; }));
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
}

}  // namespace
}  // namespace pc::kafka
