// How current this replica's admin-access cache provably is, for CheckAdminAccess's bound.
//
// A probe, every probe_interval on its own thread:
//   1. horizon(): a time H such that every change committed before H is already on the topic
//      (the relationship service: min(now, the oldest unsent outbox row's append time));
//   2. catch_up(): returns once every message on the topic when it was called has reached the
//      cache (TopicTailer::CatchUp).
// When both succeed, every change committed before H is in the cache: the cache is proven
// current as of H. Staleness() = now − the newest such H; Fresh() while it is at most
// max_staleness. A stalled broker, relay or tail stops the proofs, so within max_staleness
// (plus one probe) Fresh() turns false and CheckAdminAccess reads the database instead.
//
//   AccessFreshness freshness({.max_staleness = absl::Seconds(2)}, clock, horizon, catch_up);
//   freshness.Start();
//   if (!freshness.Fresh()) { /* read through */ }
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/common/clock.h"

namespace pc::relationship {

struct FreshnessOptions {
  absl::Duration max_staleness = absl::Seconds(2);
  absl::Duration probe_interval = absl::Milliseconds(200);
};

class AccessFreshness {
 public:
  using Horizon = std::function<absl::StatusOr<absl::Time>()>;
  using CatchUp = std::function<absl::Status(absl::Duration timeout)>;

  AccessFreshness(FreshnessOptions options, const pc::Clock& clock, Horizon horizon,
                  CatchUp catch_up);
  ~AccessFreshness();  // Stop()

  // Starts the probe thread (once).
  void Start();
  void Stop();
  // One probe; the thread runs these back to back, probe_interval apart. Tests call it.
  absl::Status Probe();

  bool Fresh() const { return Staleness() <= options_.max_staleness; }
  // InfiniteDuration until the first successful probe.
  absl::Duration Staleness() const;
  // Whether the last probe's horizon query reached the database.
  bool database_reachable() const { return database_ok_.load(); }
  const FreshnessOptions& options() const { return options_; }
  uint64_t probes_failed() const { return probes_failed_.load(); }

 private:
  const FreshnessOptions options_;
  const pc::Clock& clock_;
  Horizon horizon_;
  CatchUp catch_up_;
  static constexpr int64_t kNever = INT64_MIN;
  std::atomic<int64_t> proven_micros_{kNever};
  std::atomic<bool> database_ok_{true};
  std::atomic<uint64_t> probes_failed_{0};
  bool reported_stale_ = false;  // probe thread only: log each change of state once

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pc::relationship
