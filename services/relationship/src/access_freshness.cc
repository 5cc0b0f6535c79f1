#include "access_freshness.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace pc::relationship {

AccessFreshness::AccessFreshness(FreshnessOptions options, const pc::Clock& clock,
                                 Horizon horizon, CatchUp catch_up)
    : options_(options),
      clock_(clock),
      horizon_(std::move(horizon)),
      catch_up_(std::move(catch_up)) {}

AccessFreshness::~AccessFreshness() { Stop(); }

absl::Duration AccessFreshness::Staleness() const {
  const int64_t proven = proven_micros_.load(std::memory_order_acquire);
  if (proven == kNever) return absl::InfiniteDuration();
  return std::max(absl::ZeroDuration(), clock_.Now() - absl::FromUnixMicros(proven));
}

absl::Status AccessFreshness::Probe() {
  absl::StatusOr<absl::Time> horizon = horizon_();
  database_ok_ = horizon.ok();
  absl::Status status = horizon.status();
  if (status.ok()) status = catch_up_(options_.max_staleness);
  if (!status.ok()) {
    probes_failed_.fetch_add(1, std::memory_order_relaxed);
    if (!reported_stale_ && !Fresh()) {
      spdlog::warn("admin-access cache not proven current for {} ({}); CheckAdminAccess "
                   "reads the database until it is",
                   absl::FormatDuration(Staleness()), status.ToString());
      reported_stale_ = true;
    }
    return status;
  }
  int64_t proven = proven_micros_.load();
  const int64_t next = absl::ToUnixMicros(*horizon);
  while (next > proven && !proven_micros_.compare_exchange_weak(proven, next)) {
  }
  if (reported_stale_ && Fresh()) {
    spdlog::info("admin-access cache proven current again (staleness {})",
                 absl::FormatDuration(Staleness()));
    reported_stale_ = false;
  }
  return absl::OkStatus();
}

void AccessFreshness::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    while (true) {
      Probe().IgnoreError();  // logged and counted in Probe
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.probe_interval),
                       [this] { return stopping_; })) {
        return;
      }
    }
  });
}

void AccessFreshness::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace pc::relationship
