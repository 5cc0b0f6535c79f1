// Verifies `Authorization: Bearer` access tokens (JWS compact form, RS256 or ES256) and
// returns their Claims. Every failure is UNAUTHENTICATED with reason INVALID_TOKEN and a
// short fixed message; the token is never echoed. See README.md for the exact rules.
//
//   PC_ASSIGN_OR_RETURN(pc::auth::KeySet keys, pc::auth::KeySet::LoadDirectory(flags.jwt_keys));
//   PC_ASSIGN_OR_RETURN(pc::auth::Verifier verifier,
//                       pc::auth::Verifier::Create({.issuer = "https://login.pc.local",
//                                                   .audience = "partnercenter",
//                                                   .cloud = pc::auth::kCloudGlobal},
//                                                  std::move(keys)));
//   absl::StatusOr<pc::auth::Claims> claims = verifier.Verify(token, clock.Now());
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/auth/claims.h"
#include "pc/auth/keys.h"

namespace pc::auth {

// The largest clock leeway a verifier accepts (Options::clock_skew).
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);

class Verifier {
 public:
  struct Options {
    std::string issuer{};    // required `iss`
    std::string audience{};  // must appear in `aud` (a string or an array of strings)
    std::string cloud{};     // required `cloud`: this deployment's cloud
    // Leeway for clocks that disagree, applied to `exp`, `nbf` and `iat` (an `iat` later
    // than now + clock_skew is refused). 0 to kMaxClockSkew.
    absl::Duration clock_skew = absl::Seconds(60);
  };

  // INVALID_ARGUMENT for an empty issuer/audience, an unknown cloud, a skew outside
  // [0, kMaxClockSkew] or an empty key set.
  static absl::StatusOr<Verifier> Create(Options options, KeySet keys);

  // The token's claims if it is well formed, signed by a key of the set with that key's
  // algorithm, unexpired at `now`, and meant for this issuer, audience and cloud.
  absl::StatusOr<Claims> Verify(std::string_view token, absl::Time now) const;

  const Options& options() const { return options_; }

 private:
  Verifier(Options options, KeySet keys) : options_(std::move(options)), keys_(std::move(keys)) {}

  Options options_;
  KeySet keys_;
};

// A verifier trusting every `<kid>.pub.pem` in `keys_dir` (KeySet::LoadDirectory);
// FAILED_PRECONDITION if the directory has no key. What every service's main() does.
absl::StatusOr<Verifier> LoadVerifier(const std::string& keys_dir, Verifier::Options options);

}  // namespace pc::auth
