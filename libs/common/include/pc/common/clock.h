// An injectable clock. Domain code takes a `const Clock&` so tests can use a fake one
// (pc::testing::FakeClock) and hit boundaries such as an invitation's exact expiry.
//
//   absl::Time now = clock.Now();
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pc {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance.
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace pc
