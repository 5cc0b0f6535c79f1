#include "pc/auth/minter.h"

#include <jwt.h>

#include <cstdlib>
#include <memory>

#include "key_util.h"
#include "nlohmann/json.hpp"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"

namespace pc::auth {

absl::StatusOr<Minter> Minter::Create(Options options) {
  if (!IsValidKeyId(options.kid)) return absl::InvalidArgumentError("minter: invalid key id");
  if (options.issuer.empty()) return absl::InvalidArgumentError("minter: issuer is required");
  if (options.audience.empty()) return absl::InvalidArgumentError("minter: audience is required");
  PC_ASSIGN_OR_RETURN(Algorithm alg, internal::AlgorithmOfPrivateKey(options.private_key_pem));
  return Minter(std::move(options), alg);
}

absl::StatusOr<Minter> Minter::FromDirectory(const std::string& dir, std::string_view kid,
                                             std::string issuer, std::string audience) {
  if (!IsValidKeyId(kid)) return absl::InvalidArgumentError("minter: invalid key id");
  PC_ASSIGN_OR_RETURN(std::string pem,
                      internal::ReadFile(dir + "/" + std::string(kid) + ".key.pem"));
  return Create({std::move(pem), std::string(kid), std::move(issuer), std::move(audience)});
}

absl::StatusOr<std::string> Minter::Mint(const Claims& claims, absl::Duration ttl,
                                         absl::Time now) const {
  if (ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must be positive");
  if (claims.subject.empty()) return absl::InvalidArgumentError("subject is required");
  if (claims.tenant_id.empty()) return absl::InvalidArgumentError("tenant_id is required");
  if (!IsValidCloud(claims.cloud)) {
    return absl::InvalidArgumentError("cloud must be global, usgov or germany");
  }
  if (claims.roles.empty()) return absl::InvalidArgumentError("at least one role is required");

  nlohmann::json payload = {
      {"iss", options_.issuer},
      {"aud", options_.audience},
      {"sub", claims.subject},
      {"tid", claims.tenant_id},
      {"cloud", claims.cloud},
      {"roles", claims.roles},
      {"iat", absl::ToUnixSeconds(now)},
      {"exp", absl::ToUnixSeconds(now + ttl)},
      {"jti", claims.token_id.empty() ? pc::NewUuid() : claims.token_id},
  };
  if (claims.display_name) payload["name"] = *claims.display_name;
  if (!claims.verified_domains.empty()) payload["verified_domains"] = claims.verified_domains;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::ResourceExhaustedError("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  const auto* key = reinterpret_cast<const unsigned char*>(options_.private_key_pem.data());
  if (jwt_add_header(jwt.get(), "kid", options_.kid.c_str()) != 0 ||
      jwt_add_grants_json(jwt.get(), payload.dump().c_str()) != 0 ||
      jwt_set_alg(jwt.get(), alg_ == Algorithm::kES256 ? JWT_ALG_ES256 : JWT_ALG_RS256, key,
                  static_cast<int>(options_.private_key_pem.size())) != 0) {
    return absl::InternalError("cannot build token");
  }
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(jwt.get()), std::free);
  if (!encoded) return absl::InternalError("cannot sign token");
  return std::string(encoded.get());
}

}  // namespace pc::auth
