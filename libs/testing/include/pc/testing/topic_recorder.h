// Every event on a topic, as a consumer in a consumer group of its own sees it: tests wait
// on it (bounded, on a condition variable) instead of sleeping.
//
//   pc::testing::TopicRecorder recorder(brokers, pc::kafka::RelationshipTopic("usgov"));
//   auto seen = recorder.WaitFor([&](const auto& e) { return e.type() == "PermissionRevoked"; });
//   EXPECT_EQ(recorder.Count(...), 1);
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/kafka/consumer.h"

namespace pc::testing {

class TopicRecorder {
 public:
  struct Seen {
    pc::kafka::ConsumedMessage message;
    partnercenter::events::v1::EventEnvelope envelope;
  };
  using Match = std::function<bool(const partnercenter::events::v1::EventEnvelope&)>;

  // Starts consuming `topic` from the earliest offset in a fresh consumer group.
  // Reads as the admin principal (KafkaSecurity()).
  TopicRecorder(const std::string& brokers, const std::string& topic);
  ~TopicRecorder();

  // The first event matching `match`, waiting up to `timeout` for it (nullopt + a test
  // failure if none arrives).
  std::optional<Seen> WaitFor(const Match& match, absl::Duration timeout = absl::Seconds(90));
  // Waits until at least `n` events match; returns how many did.
  int WaitForCount(const Match& match, int n, absl::Duration timeout = absl::Seconds(90));
  // Convenience: aggregate id and event type.
  std::optional<Seen> WaitFor(const std::string& aggregate_id, const std::string& type,
                              absl::Duration timeout = absl::Seconds(90));
  int Count(const Match& match);
  // Any message, decodable or not (e.g. a poison message on the dead-letter topic).
  std::optional<pc::kafka::ConsumedMessage> WaitForMessage(
      const std::function<bool(const pc::kafka::ConsumedMessage&)>& match,
      absl::Duration timeout = absl::Seconds(90));
  int Count(const std::string& aggregate_id, const std::string& type);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> messages_;
  std::vector<pc::kafka::ConsumedMessage> all_;
  std::set<std::pair<int32_t, int64_t>> seen_offsets_;  // (partition, offset)
  std::unique_ptr<pc::kafka::KafkaConsumer> consumer_;
};

}  // namespace pc::testing
