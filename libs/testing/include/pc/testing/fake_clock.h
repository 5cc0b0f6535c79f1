// A clock tests move by hand, so boundaries (expiry at exactly 30 days) are exact.
//
//   pc::testing::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   clock.Advance(absl::Hours(24) * 30);
#pragma once

#include <mutex>

#include "pc/common/clock.h"

namespace pc::testing {

class FakeClock final : public pc::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Set(absl::Time t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace pc::testing
