// Consuming events from Kafka, one handler call per message.
//
// The handler applies the message (normally in one database transaction together with an
// inbox row) and returns a status. The consumer stores the message's offset only after the
// handler returned OK, so a crash before the commit redelivers the message:
//   - OK                         → offset stored (committed by auto-commit / on close).
//   - a permanent error          → the message goes to the dead-letter topic with the error
//     (INVALID_ARGUMENT,           in headers, then its offset is stored and consumption goes on.
//      DATA_LOSS, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS, OUT_OF_RANGE, UNIMPLEMENTED)
//   - any other error            → transient: the partition is rewound to the message and the
//                                  handler is retried after a backoff; the offset stays unstored.
//
//   pc::kafka::ConsumerOptions options{.brokers = "...", .group_id = "relationship",
//                                      .topics = {"partnercenter.global.invitation-events.v1"},
//                                      .dead_letter_topic = "partnercenter.global.dead-letter.v1"};
//   auto consumer = pc::kafka::KafkaConsumer::Create(options, handler, publisher);
//   (*consumer)->Start();   // runs on its own thread
//   ...
//   (*consumer)->Stop(absl::Seconds(10));
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/group_membership.h"
#include "pc/kafka/message.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/security.h"

namespace pc::kafka {

using MessageHandler = std::function<absl::Status(const ConsumedMessage&)>;
// Handles several messages at once (e.g. applies them in one database transaction). OK: every
// message's offset is stored. Any error: the consumer falls back to the MessageHandler, one
// message at a time, so each message gets its own outcome (stored, dead-lettered or retried).
using BatchHandler = std::function<absl::Status(const std::vector<ConsumedMessage>&)>;

// True for handler errors that retrying cannot fix (the message goes to the dead letter).
bool IsPermanentHandlerError(const absl::Status& status);

struct ConsumerOptions {
  std::string brokers = {};
  Security security = {};  // TLS / mTLS / SASL (pc/kafka/security.h)
  std::string group_id = {};
  std::vector<std::string> topics = {};
  std::string dead_letter_topic = {};  // empty: permanent errors are logged and skipped
  std::string auto_offset_reset = "earliest";
  absl::Duration retry_backoff = absl::Milliseconds(500);
  // Static membership and timeouts (group_membership.h).
  GroupMembership membership = {};
  // How often stored offsets are committed; it is also how far behind the group's committed
  // offsets (what other replicas see in GroupStatus) trail this member's handling.
  absl::Duration auto_commit_interval = absl::Seconds(1);
  std::map<std::string, std::string> extra = {};  // applied last
  // With a batch handler (KafkaConsumer::Create), up to this many messages already fetched
  // are handed over at once; 1 = one message at a time.
  int max_batch = 1;
};

// Observes what the consumer did; tests wait on these instead of sleeping. All run on the
// consumer's thread.
struct ConsumerHooks {
  // After every handler call, with the handler's status, once the consumer acted on it
  // (offset stored, message dead-lettered, or partition rewound for a retry).
  std::function<void(const ConsumedMessage&, const absl::Status&)> on_handled = {};
  // After a message was published to the dead-letter topic (and its offset stored).
  std::function<void(const ConsumedMessage&, const absl::Status&)> on_dead_lettered = {};
  std::function<void()> on_assigned = {};  // after a partition assignment
  std::function<void()> on_revoked = {};   // after the assignment was revoked (or lost)
  std::function<void()> on_fatal = {};     // after a fatal error (see KafkaConsumer::fatal)
  // After the consumer closed, even when Stop() stopped waiting for it.
  std::function<void()> on_closed = {};
};

// One partition of the consumer's topics, as the group sees it.
struct PartitionProgress {
  std::string topic;
  int32_t partition = 0;
  int64_t end = 0;       // high watermark: offset of the next message to be written
  // The group's committed offset (the low watermark if none), or this member's own next
  // offset to handle where it holds the partition and is further.
  int64_t position = 0;
  bool held = false;       // some member of the group holds it now
  bool held_here = false;  // this member holds it
};

// The whole group's progress over every partition of its topics, whoever holds them.
struct GroupStatus {
  int64_t lag = 0;  // sum over partitions of end − position
  int unheld = 0;   // partitions no member holds (rebalancing, or members missing)
  std::vector<PartitionProgress> partitions;
  int held_here() const;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  virtual absl::Status Start() = 0;
  // Stops polling, commits stored offsets and closes, waiting at most `timeout` for the
  // close (librdkafka 2.0.2's close can hang); logs and abandons the close if it does not
  // finish. It never returns while a handler call is running: whatever the handler uses may
  // be destroyed once Stop() returned (it logs every 5 s while it waits for one).
  virtual void Stop(absl::Duration timeout) = 0;
};

class KafkaConsumer : public Consumer {
 public:
  // `dead_letter` publishes dead-lettered messages; may be null if no dead_letter_topic.
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const ConsumerOptions& options,
                                                              MessageHandler handler,
                                                              Publisher* dead_letter,
                                                              ConsumerHooks hooks = {},
                                                              BatchHandler batch_handler = {});
  ~KafkaConsumer() override;  // Stop(absl::Seconds(10)) if still running.

  absl::Status Start() override;
  void Stop(absl::Duration timeout) override;
  // Messages behind the high watermark over the assigned partitions (consumer lag), from
  // librdkafka's cached positions and watermarks: no broker round trip.
  int64_t Lag() const;
  // Asks the brokers for the group's committed and end offsets over all partitions of the
  // topics and which partitions its members hold (GroupStatus). UNAVAILABLE / DEADLINE_EXCEEDED
  // when the brokers do not answer, FAILED_PRECONDITION once stopping. Thread-safe; a few
  // broker round trips, so call it from a prober, not per scrape.
  absl::StatusOr<GroupStatus> ProbeGroup(absl::Duration timeout) const;
  // Partitions assigned to this member now, and since when it has had none (nullopt while it
  // holds some). Cheap.
  int assigned_partitions() const;
  std::optional<absl::Time> unassigned_since() const;
  // True after librdkafka raised a fatal error (e.g. FENCED_INSTANCE_ID: another live member
  // uses the same --consumer_instance_id). The consumer cannot recover: restart the process.
  // One FENCED_INSTANCE_ID is not fatal: the one a static member gets from its own requests
  // after its session timed out (a broker away for longer than the session: librdkafka 2.0.2
  // still sends commits queued before the timeout, with the member id already reset). The
  // consumer then replaces its librdkafka handle and rejoins under the same instance id.
  bool fatal() const;
  const ConsumerOptions& options() const;
  std::map<std::string, std::string> EffectiveConfig() const;

 private:
  struct Impl;
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::kafka
