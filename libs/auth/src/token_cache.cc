#include "pc/auth/token_cache.h"

namespace pc::auth {

absl::StatusOr<Claims> VerifiedTokenCache::Verify(std::string_view token, absl::Time now) {
  const std::string key(token);
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(key);
    if (it != verified_.end()) {
      if (now < it->second.expires_at + verifier_.options().clock_skew) return it->second;
      verified_.erase(it);
    }
  }
  absl::StatusOr<Claims> claims = verifier_.Verify(token, now);
  if (claims.ok()) {
    std::lock_guard lock(mu_);
    if (verified_.size() >= max_entries_) verified_.clear();
    verified_.emplace(key, *claims);
  }
  return claims;
}

}  // namespace pc::auth
