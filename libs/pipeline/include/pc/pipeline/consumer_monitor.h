// Watches one consumer group from one replica: probes the group's progress over every
// partition every second (KafkaConsumer::ProbeGroup) and publishes it as gauges, answers the
// readiness rule, and tells /caughtup whether the group has any lag.
//
//   pc::pipeline::ConsumerMonitor monitor(**consumer, registry, clock);
//   monitor.Start();
//   server_options.ready_check = [&] { return monitor.Ready(); };
//   ...
//   monitor.Stop();   // before the consumer stops
//
// Gauges (label group): pc_consumer_group_lag (end − committed, summed over all partitions,
// whoever holds them; this replica's own progress where it holds one),
// pc_consumer_unheld_partitions, pc_consumer_assigned_partitions (this replica),
// pc_consumer_probe_age_seconds (since the last successful probe; +Inf before it).
#pragma once

#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pc/common/clock.h"
#include "pc/kafka/consumer.h"
#include "pc/runtime/metrics.h"

namespace pc::pipeline {

// The readiness rule for a consumer replica. Not ready when
//   - the consumer hit a fatal error (it cannot recover; restart it), or
//   - it has held no partition for longer than the session timeout while the group's last
//     probe found partitions no member holds (so this replica should have some and does not:
//     stuck joining, fenced, or cut off from the coordinator).
// A replica without partitions while every partition has a holder is ready: with more
// replicas than partitions the spare ones stand by, and they still serve gRPC.
absl::Status ConsumerReadiness(bool fatal, std::optional<absl::Time> unassigned_since,
                               absl::Time now, absl::Duration session_timeout,
                               const std::optional<pc::kafka::GroupStatus>& last_probe);

struct ConsumerMonitorOptions {
  absl::Duration probe_interval = absl::Seconds(1);
  absl::Duration probe_timeout = absl::Seconds(3);
};

class ConsumerMonitor {
 public:
  // `consumer` and `clock` must outlive the monitor; registers the gauges in `registry`
  // (they read the monitor: keep it alive while metrics are served).
  ConsumerMonitor(const pc::kafka::KafkaConsumer& consumer, pc::runtime::Registry& registry,
                  const pc::Clock& clock, ConsumerMonitorOptions options = {});
  ~ConsumerMonitor();

  void Start();
  void Stop();

  // ConsumerReadiness() with this consumer's state and the last probe.
  absl::Status Ready() const;
  // A fresh probe (for /caughtup: no answer older than the question).
  absl::StatusOr<pc::kafka::GroupStatus> ProbeNow() const;
  std::optional<pc::kafka::GroupStatus> last_probe() const;

 private:
  void Run();

  const pc::kafka::KafkaConsumer& consumer_;
  const pc::Clock& clock_;
  const ConsumerMonitorOptions options_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<pc::kafka::GroupStatus> last_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> last_at_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace pc::pipeline
