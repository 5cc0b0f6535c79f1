// Signs access tokens. Used for local runs (`pcctl token`) and tests; production tokens
// come from the identity provider. Nothing mints unless the caller builds a Minter from a
// configured private key, so dev minting is off unless configured.
//
//   PC_ASSIGN_OR_RETURN(pc::auth::Minter minter,
//                       pc::auth::Minter::FromDirectory("dev/jwt", "dev-1", issuer, audience));
//   pc::auth::Claims claims{.subject = "alice", .tenant_id = "partner-1",
//                           .cloud = pc::auth::kCloudGlobal,
//                           .roles = {pc::auth::kRolePartnerAdmin}};
//   PC_ASSIGN_OR_RETURN(std::string token, minter.Mint(claims, absl::Hours(1), clock.Now()));
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/auth/claims.h"
#include "pc/auth/keys.h"

namespace pc::auth {

class Minter {
 public:
  struct Options {
    std::string private_key_pem{};  // unencrypted PEM; EC P-256 → ES256, RSA → RS256
    std::string kid{};
    std::string issuer{};
    std::string audience{};
  };

  // INVALID_ARGUMENT for an unreadable or unsupported key, a bad kid or an empty
  // issuer/audience.
  static absl::StatusOr<Minter> Create(Options options);
  // Reads `<dir>/<kid>.key.pem` (as written by GenerateDevKeyPair).
  static absl::StatusOr<Minter> FromDirectory(const std::string& dir, std::string_view kid,
                                              std::string issuer, std::string audience);

  // A token with `claims` (subject, tenant_id, a valid cloud and at least one role are
  // required: INVALID_ARGUMENT otherwise), `iat` = now, `exp` = now + ttl (ttl > 0), and
  // `jti` = claims.token_id or a fresh UUID. claims.issued_at/expires_at are ignored.
  absl::StatusOr<std::string> Mint(const Claims& claims, absl::Duration ttl,
                                   absl::Time now) const;

  Algorithm algorithm() const { return alg_; }

 private:
  Minter(Options options, Algorithm alg) : options_(std::move(options)), alg_(alg) {}

  Options options_;
  Algorithm alg_;
};

}  // namespace pc::auth
