// Tailing a topic from "now" on in every process, without a consumer group: each replica sees
// every message of every partition (for per-replica caches such as the relationship service's
// admin-access cache). Nothing is committed.
//
//   auto tailer = pc::kafka::TopicTailer::Create({.brokers = b, .topic = t}, on_message);
//   PC_RETURN_IF_ERROR((*tailer)->Start());   // start offsets fixed when this returns
//   ...
//   // Everything in the topic now has reached on_message (and new partitions are followed):
//   PC_RETURN_IF_ERROR((*tailer)->CatchUp(absl::Seconds(2)));
//   ...
//   (*tailer)->Stop();
//
// Start() reads each partition's high watermark and assigns the partitions at exactly those
// offsets before it returns, so every message produced after Start() returned is delivered
// (at least once: librdkafka may repeat one around a reconnect; handlers must be idempotent).
// CatchUp() is the barrier a cache needs to say how current it is: it reads the partition
// list and end offsets now, starts tailing any partition added since (from its first offset),
// and returns once the handler has returned for every message below those offsets. The topic
// must not be transactional (control records would leave a gap the position never crosses).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/message.h"
#include "pc/kafka/security.h"

namespace pc::kafka {

struct TailerOptions {
  std::string brokers = {};
  std::string topic = {};
  Security security = {};
  // How long Start() waits for metadata and watermarks.
  absl::Duration start_timeout = absl::Seconds(15);
  std::map<std::string, std::string> extra = {};  // librdkafka properties, applied last
};

// Each partition's end offset (high watermark: the offset the next message will get), in
// partition order. UNAVAILABLE if the broker or topic can't be reached within `timeout`,
// PERMISSION_DENIED at once if the principal may not describe the topic.
absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& brokers,
                                                const Security& security,
                                                const std::string& topic,
                                                absl::Duration timeout = absl::Seconds(15));

class TopicTailer {
 public:
  using Handler = std::function<void(const ConsumedMessage&)>;

  static absl::StatusOr<std::unique_ptr<TopicTailer>> Create(const TailerOptions& options,
                                                             Handler handler);
  ~TopicTailer();  // Stop()

  // Fixes the start offsets (UNAVAILABLE if the broker or topic can't be reached within
  // start_timeout), then delivers messages to the handler on its own thread.
  absl::Status Start();
  // Returns OK once every message that was in the topic when CatchUp was called has been
  // handled; partitions added since the last look are tailed from their first offset.
  // UNAVAILABLE if the end offsets can't be read within `timeout`, DEADLINE_EXCEEDED if the
  // handler has not caught up by then, CANCELLED after Stop(). Thread-safe; after Start().
  absl::Status CatchUp(absl::Duration timeout);
  // Partitions being tailed.
  int partitions() const;
  void Stop();

 private:
  struct Impl;
  explicit TopicTailer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::kafka
