// Publishing events to Kafka.
//
// `Publisher` is the small interface the rest of the system sees (the outbox relay, tests).
// `KafkaPublisher` is the real one: librdkafka's idempotent producer (acks=all,
// enable.idempotence=true, low linger), delivery reports served continuously by a background
// thread, and `Close()` that flushes with a timeout and logs what was not delivered.
//
//   auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = "127.0.0.1:9092"});
//   if (!publisher.ok()) return publisher.status();
//   (*publisher)->Publish(msg, [](absl::Status delivered) { ... });
//   (*publisher)->Flush(absl::Seconds(5));
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/message.h"
#include "pc/kafka/security.h"

namespace pc::kafka {

// Called once per message, from the publisher's delivery thread: OK once the broker has
// acknowledged it with acks=all, an error once librdkafka gave up on it (DEADLINE_EXCEEDED
// after message.timeout.ms, NOT_FOUND for an unknown topic, RESOURCE_EXHAUSTED when the local
// queue stayed full, INTERNAL after a fatal idempotent-producer error, CANCELLED when
// Close() had to drop it, FAILED_PRECONDITION when published after Close()).
using DeliveryCallback = std::function<void(absl::Status)>;

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Queues `message`; `on_delivery` is called exactly once. A queueing failure (queue full,
  // unknown topic) is reported through `on_delivery` too.
  virtual void Publish(const OutboundMessage& message, DeliveryCallback on_delivery) = 0;
  // Waits until every queued message has a delivery report, up to `timeout`.
  // Returns DEADLINE_EXCEEDED naming how many messages are still outstanding.
  virtual absl::Status Flush(absl::Duration timeout) = 0;
};

struct PublisherOptions {
  std::string brokers = {};  // bootstrap.servers
  Security security = {};    // TLS / mTLS / SASL (pc/kafka/security.h)
  std::string client_id = "partnercenter";
  int linger_ms = 1;
  std::string compression = "lz4";
  int message_timeout_ms = 30000;
  // Extra librdkafka properties, applied last (tests, tuning).
  std::map<std::string, std::string> extra = {};
};

class KafkaPublisher : public Publisher {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaPublisher>> Create(const PublisherOptions& options);
  ~KafkaPublisher() override;  // Calls Close(absl::Seconds(10)) if not closed.

  void Publish(const OutboundMessage& message, DeliveryCallback on_delivery) override;
  absl::Status Flush(absl::Duration timeout) override;
  // Flushes up to `timeout`, logs every undelivered message, stops the delivery thread.
  void Close(absl::Duration timeout);
  // The producer's effective librdkafka configuration (name → value), for tests and logs.
  // Names are librdkafka's canonical ones: acks=all reads request.required.acks=-1,
  // linger.ms reads queue.buffering.max.ms, compression.type reads compression.codec.
  std::map<std::string, std::string> EffectiveConfig() const;
  // Tests only: makes librdkafka raise a fatal error, as a fenced idempotent producer would.
  void RaiseFatalErrorForTesting(const std::string& reason);

 private:
  struct Impl;
  explicit KafkaPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::kafka
