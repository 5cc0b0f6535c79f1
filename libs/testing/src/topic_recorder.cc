#include "pc/testing/topic_recorder.h"

#include "gtest/gtest.h"
#include "pc/events/envelope.h"
#include "pc/testing/infra.h"

namespace pc::testing {

TopicRecorder::TopicRecorder(const std::string& brokers, const std::string& topic) {
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers, .security = KafkaSecurity(), .group_id = UniqueName("recorder"), .topics = {topic}},
      [this](const pc::kafka::ConsumedMessage& m) {
        auto e = pc::events::Decode(m.payload);
        std::lock_guard lock(mu_);
        // The recorder's own consumer may be handed an offset twice (librdkafka 2.0.2 around
        // a rebalance): that is the observer's artifact, not a second event. A duplicate
        // publication has its own offset and is still counted.
        if (seen_offsets_.insert({m.partition, m.offset}).second) {
          all_.push_back(m);
          if (e.ok()) messages_.push_back({m, *e});
        }
        cv_.notify_all();
        return absl::OkStatus();
      },
      nullptr);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  if (!consumer.ok()) return;
  consumer_ = *std::move(consumer);
  EXPECT_TRUE(consumer_->Start().ok());
}

TopicRecorder::~TopicRecorder() {
  if (consumer_) consumer_->Stop(absl::Seconds(10));
}

std::optional<TopicRecorder::Seen> TopicRecorder::WaitFor(const Match& match,
                                                         absl::Duration timeout) {
  std::unique_lock lock(mu_);
  std::optional<Seen> found;
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    for (const auto& s : messages_) {
      if (match(s.envelope)) {
        found = s;
        return true;
      }
    }
    return false;
  });
  EXPECT_TRUE(found.has_value()) << "no matching event within " << timeout;
  return found;
}

int TopicRecorder::WaitForCount(const Match& match, int n, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  int count = 0;
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    count = 0;
    for (const auto& s : messages_) count += match(s.envelope);
    return count >= n;
  });
  return count;
}

std::optional<TopicRecorder::Seen> TopicRecorder::WaitFor(const std::string& aggregate_id,
                                                         const std::string& type,
                                                         absl::Duration timeout) {
  return WaitFor(
      [&](const partnercenter::events::v1::EventEnvelope& e) {
        return e.aggregate_id() == aggregate_id && e.type() == type;
      },
      timeout);
}

std::optional<pc::kafka::ConsumedMessage> TopicRecorder::WaitForMessage(
    const std::function<bool(const pc::kafka::ConsumedMessage&)>& match, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  std::optional<pc::kafka::ConsumedMessage> found;
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    for (const auto& m : all_) {
      if (match(m)) {
        found = m;
        return true;
      }
    }
    return false;
  });
  EXPECT_TRUE(found.has_value()) << "no matching message within " << timeout;
  return found;
}

int TopicRecorder::Count(const Match& match) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& s : messages_) n += match(s.envelope);
  return n;
}

int TopicRecorder::Count(const std::string& aggregate_id, const std::string& type) {
  return Count([&](const partnercenter::events::v1::EventEnvelope& e) {
    return e.aggregate_id() == aggregate_id && e.type() == type;
  });
}

}  // namespace pc::testing
