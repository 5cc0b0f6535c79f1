// Helpers shared by the kafka unit and integration tests: hooks that record what a consumer
// did and let a test wait for it, and a blocking publish.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "pc/kafka/consumer.h"
#include "pc/kafka/publisher.h"

namespace pc::kafka::testing {

// Generous: a wait only runs this long when the test is failing anyway.
inline constexpr std::chrono::seconds kWait{60};

struct Handled {
  ConsumedMessage message;
  absl::Status status;
};

// Records the consumer hooks; tests wait on it instead of sleeping.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Handled> handled;
  std::vector<Handled> dead_lettered;
  int assignments = 0;
  int revocations = 0;
  bool fatal = false;
  bool closed = false;

  ConsumerHooks Hooks() {
    return {.on_handled = [this](const ConsumedMessage& m,
                                 const absl::Status& s) { Add(handled, m, s); },
            .on_dead_lettered = [this](const ConsumedMessage& m,
                                       const absl::Status& s) { Add(dead_lettered, m, s); },
            .on_assigned = [this] {
              std::lock_guard lock(mu);
              ++assignments;
              cv.notify_all();
            },
            .on_revoked = [this] {
              std::lock_guard lock(mu);
              ++revocations;
              cv.notify_all();
            },
            .on_fatal = [this] {
              std::lock_guard lock(mu);
              fatal = true;
              cv.notify_all();
            },
            .on_closed = [this] {
              std::lock_guard lock(mu);
              closed = true;
              cv.notify_all();
            }};
  }
  // Waits (up to `wait`) until `done` holds; `done` runs under the lock.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds wait = kWait) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, wait, done);
  }
  std::vector<Handled> HandledSnapshot() {
    std::lock_guard lock(mu);
    return handled;
  }

 private:
  void Add(std::vector<Handled>& to, const ConsumedMessage& m, const absl::Status& s) {
    std::lock_guard lock(mu);
    to.push_back({m, s});
    cv.notify_all();
  }
};

// Publishes `message` and waits for its delivery report.
inline absl::Status PublishAndWait(Publisher& publisher, const OutboundMessage& message) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  publisher.Publish(message, [done](absl::Status status) { done->set_value(std::move(status)); });
  if (result.wait_for(kWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("no delivery report");
  }
  return result.get();
}

// Reads `count` messages from `topic` with a fresh consumer group, from the beginning.
inline std::vector<ConsumedMessage> ReadTopic(const std::string& brokers, const std::string& topic,
                                              const std::string& group, size_t count,
                                              const Security& security = {}) {
  Recorder recorder;
  auto consumer = KafkaConsumer::Create(
      {.brokers = brokers, .security = security, .group_id = group, .topics = {topic}},
      [](const ConsumedMessage&) { return absl::OkStatus(); }, nullptr, recorder.Hooks());
  if (!consumer.ok() || !(*consumer)->Start().ok()) return {};
  recorder.WaitUntil([&] { return recorder.handled.size() >= count; });
  (*consumer)->Stop(absl::Seconds(30));
  std::vector<ConsumedMessage> out;
  for (const Handled& h : recorder.HandledSnapshot()) out.push_back(h.message);
  return out;
}

}  // namespace pc::kafka::testing
