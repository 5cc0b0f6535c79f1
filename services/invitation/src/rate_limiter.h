// Counts failures per key in a sliding window and says when a key is over its limit.
// Used for failed invitation-token uses per customer tenant. In memory, per replica: with N
// replicas a tenant can make at most N × limit failed attempts per window (docs/decisions.md).
//
//   FailureRateLimiter limiter(10, absl::Minutes(15), clock);
//   if (limiter.Exceeded(tenant)) return RESOURCE_EXHAUSTED;  // after RetryAfter(tenant)
//   if (failed) limiter.RecordFailure(tenant);
#pragma once

#include <deque>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "pc/common/clock.h"

namespace pc::invitation {

class FailureRateLimiter {
 public:
  FailureRateLimiter(int limit, absl::Duration window, const pc::Clock& clock)
      : limit_(limit), window_(window), clock_(clock) {}

  // True if `key` already has `limit` failures inside the window.
  bool Exceeded(const std::string& key) {
    std::lock_guard lock(mu_);
    return Prune(key) >= static_cast<size_t>(limit_);
  }
  // How long until `key` is under its limit again; zero if it is now.
  absl::Duration RetryAfter(const std::string& key) {
    std::lock_guard lock(mu_);
    const size_t n = Prune(key);
    if (n < static_cast<size_t>(limit_)) return absl::ZeroDuration();
    const auto& times = failures_.find(key)->second;
    return times[n - static_cast<size_t>(limit_)] + window_ - clock_.Now();
  }
  void RecordFailure(const std::string& key) {
    std::lock_guard lock(mu_);
    Prune(key);
    failures_[key].push_back(clock_.Now());
  }

 private:
  size_t Prune(const std::string& key) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return 0;
    const absl::Time cutoff = clock_.Now() - window_;
    while (!it->second.empty() && it->second.front() <= cutoff) it->second.pop_front();
    if (it->second.empty()) {
      failures_.erase(it);
      return 0;
    }
    return it->second.size();
  }

  const int limit_;
  const absl::Duration window_;
  const pc::Clock& clock_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> failures_;
};

}  // namespace pc::invitation
