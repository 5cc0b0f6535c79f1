// Remembers tokens that verified, so a caller that repeats its token (an internal service on
// a hot path such as CheckAdminAccess) pays for the signature check once, not on every call.
//
//   pc::auth::VerifiedTokenCache tokens(verifier);
//   absl::StatusOr<pc::auth::Claims> claims = tokens.Verify(token, clock.Now());
//
// A hit is re-checked against `exp` (and the verifier's skew) at `now`; failures are never
// cached. The cache is bounded: when full it is cleared (simple, and a refill costs one
// verification per distinct token). Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/auth/claims.h"
#include "pc/auth/verifier.h"

namespace pc::auth {

class VerifiedTokenCache {
 public:
  explicit VerifiedTokenCache(const Verifier& verifier, size_t max_entries = 10000)
      : verifier_(verifier), max_entries_(max_entries) {}

  absl::StatusOr<Claims> Verify(std::string_view token, absl::Time now);
  const Verifier& verifier() const { return verifier_; }

 private:
  const Verifier& verifier_;
  const size_t max_entries_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Claims> verified_;  // guarded by mu_
};

}  // namespace pc::auth
