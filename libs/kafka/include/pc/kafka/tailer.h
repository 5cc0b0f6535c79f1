// Tailing a topic from "now" on in every process, without a consumer group: each replica sees
// every message of every partition (for per-replica caches such as the relationship service's
// admin-access cache). Nothing is committed.
//
//   auto tailer = pc::kafka::TopicTailer::Create({.brokers = b, .topic = t}, on_message);
//   PC_RETURN_IF_ERROR((*tailer)->Start());   // start offsets fixed when this returns
//   ...
//   (*tailer)->Stop();
//
// Start() reads each partition's high watermark and assigns the partitions at exactly those
// offsets before it returns, so every message produced after Start() returned is delivered
// (at least once: librdkafka may repeat one around a reconnect; handlers must be idempotent).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/message.h"

namespace pc::kafka {

struct TailerOptions {
  std::string brokers = {};
  std::string topic = {};
  // How long Start() waits for metadata and watermarks.
  absl::Duration start_timeout = absl::Seconds(15);
  std::map<std::string, std::string> extra = {};  // librdkafka properties, applied last
};

// Each partition's end offset (high watermark: the offset the next message will get), in
// partition order. UNAVAILABLE if the broker or topic can't be reached within `timeout`.
absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& brokers,
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
  void Stop();

 private:
  struct Impl;
  explicit TopicTailer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::kafka
