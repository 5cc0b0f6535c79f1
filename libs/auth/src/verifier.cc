#include "pc/auth/verifier.h"

#include <jwt.h>

#include <cmath>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "pc/common/errors.h"

namespace pc::auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxTokenSize = 16 * 1024;

absl::Status Unauthenticated(std::string_view why) {
  return pc::WithReason(absl::UnauthenticatedError(std::string(why)), pc::reason::kInvalidToken);
}

// RFC 7515 §2 base64url: the URL-safe alphabet, no padding, no whitespace, and the one
// canonical spelling (unused low bits of the last character zero), so one token has one
// spelling. Checked by re-encoding what absl decoded.
bool StrictBase64UrlDecode(std::string_view segment, std::string* raw) {
  absl::string_view in(segment.data(), segment.size());
  return absl::WebSafeBase64Unescape(in, raw) && absl::WebSafeBase64Escape(*raw) == in;
}

// A base64url segment holding a JSON object.
std::optional<Json> DecodeJsonSegment(std::string_view segment) {
  std::string raw;
  if (!StrictBase64UrlDecode(segment, &raw)) return std::nullopt;
  Json json = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  return json;
}

// The claim if it is a string, else nullptr.
const std::string* StringClaim(const Json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

// A NumericDate claim; nullopt if absent or not a plausible number of seconds.
std::optional<absl::Time> TimeClaim(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  double seconds = it->get<double>();
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e13) return std::nullopt;
  return absl::FromUnixSeconds(static_cast<int64_t>(std::floor(seconds)));
}

bool AudienceMatches(const Json& payload, const std::string& audience) {
  auto it = payload.find("aud");
  if (it == payload.end()) return false;
  if (it->is_string()) return it->get_ref<const std::string&>() == audience;
  if (!it->is_array()) return false;
  for (const Json& aud : *it) {
    if (aud.is_string() && aud.get_ref<const std::string&>() == audience) return true;
  }
  return false;
}

// Signature check by libjwt with the kid's key, whose type fixes the algorithm.
bool SignatureValid(std::string_view token, const KeySet::Key& key) {
  std::string nul_terminated(token);
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, nul_terminated.c_str(),
                      reinterpret_cast<const unsigned char*>(key.public_key_pem.data()),
                      static_cast<int>(key.public_key_pem.size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  jwt_alg_t expected = key.alg == Algorithm::kES256 ? JWT_ALG_ES256 : JWT_ALG_RS256;
  return rc == 0 && jwt != nullptr && jwt_get_alg(jwt.get()) == expected;
}

}  // namespace

absl::StatusOr<Verifier> Verifier::Create(Options options, KeySet keys) {
  if (options.issuer.empty()) return absl::InvalidArgumentError("verifier: issuer is required");
  if (options.audience.empty()) return absl::InvalidArgumentError("verifier: audience is required");
  if (!IsValidCloud(options.cloud)) {
    return absl::InvalidArgumentError("verifier: cloud must be global, usgov or germany");
  }
  if (options.clock_skew < absl::ZeroDuration() || options.clock_skew > kMaxClockSkew) {
    return absl::InvalidArgumentError("verifier: clock_skew must be between 0 and 5 minutes");
  }
  if (keys.empty()) return absl::InvalidArgumentError("verifier: no public keys configured");
  return Verifier(std::move(options), std::move(keys));
}

absl::StatusOr<Claims> Verifier::Verify(std::string_view token, absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty token");
  if (token.size() > kMaxTokenSize) return Unauthenticated("token too large");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }

  std::optional<Json> header = DecodeJsonSegment(token.substr(0, dot1));
  if (!header) return Unauthenticated("malformed token header");
  const std::string* alg = StringClaim(*header, "alg");
  if (alg == nullptr || (*alg != "RS256" && *alg != "ES256")) {
    return Unauthenticated("unsupported signing algorithm");
  }
  if (header->contains("crit")) return Unauthenticated("unsupported critical header");
  const std::string* kid = StringClaim(*header, "kid");
  if (kid == nullptr) return Unauthenticated("missing key id");
  const KeySet::Key* key = keys_.Find(*kid);
  if (key == nullptr) return Unauthenticated("unknown signing key");
  if (*alg != AlgorithmName(key->alg)) return Unauthenticated("algorithm does not match the key");
  std::optional<Json> payload = DecodeJsonSegment(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return Unauthenticated("malformed token payload");
  std::string signature;
  if (dot2 + 1 == token.size() || !StrictBase64UrlDecode(token.substr(dot2 + 1), &signature) ||
      !SignatureValid(token, *key)) {
    return Unauthenticated("invalid signature");
  }

  Claims claims;
  std::optional<absl::Time> exp = TimeClaim(*payload, "exp");
  if (!exp) return Unauthenticated("missing or invalid exp");
  if (now >= *exp + options_.clock_skew) return Unauthenticated("token expired");
  claims.expires_at = *exp;
  if (payload->contains("nbf")) {
    std::optional<absl::Time> nbf = TimeClaim(*payload, "nbf");
    if (!nbf) return Unauthenticated("invalid nbf");
    if (now + options_.clock_skew < *nbf) return Unauthenticated("token not yet valid");
  }
  if (payload->contains("iat")) {
    std::optional<absl::Time> iat = TimeClaim(*payload, "iat");
    if (!iat) return Unauthenticated("invalid iat");
    if (*iat > now + options_.clock_skew) return Unauthenticated("token issued in the future");
    claims.issued_at = *iat;
  }

  const std::string* iss = StringClaim(*payload, "iss");
  if (iss == nullptr || *iss != options_.issuer) return Unauthenticated("wrong issuer");
  if (!AudienceMatches(*payload, options_.audience)) return Unauthenticated("wrong audience");
  const std::string* cloud = StringClaim(*payload, "cloud");
  if (cloud == nullptr || *cloud != options_.cloud) return Unauthenticated("wrong cloud");
  claims.cloud = *cloud;

  const std::string* sub = StringClaim(*payload, "sub");
  if (sub == nullptr || sub->empty()) return Unauthenticated("missing sub");
  claims.subject = *sub;
  const std::string* tid = StringClaim(*payload, "tid");
  if (tid == nullptr || tid->empty()) return Unauthenticated("missing tid");
  claims.tenant_id = *tid;
  auto roles = payload->find("roles");
  if (roles == payload->end() || !roles->is_array() || roles->empty()) {
    return Unauthenticated("missing roles");
  }
  for (const Json& role : *roles) {
    if (!role.is_string()) return Unauthenticated("invalid roles");
    claims.roles.push_back(role.get<std::string>());
  }

  if (payload->contains("name")) {
    const std::string* name = StringClaim(*payload, "name");
    if (name == nullptr) return Unauthenticated("invalid name");
    claims.display_name = *name;
  }
  if (payload->contains("jti")) {
    const std::string* jti = StringClaim(*payload, "jti");
    if (jti == nullptr) return Unauthenticated("invalid jti");
    claims.token_id = *jti;
  }
  if (payload->contains("verified_domains")) {
    const Json& domains = (*payload)["verified_domains"];
    if (!domains.is_array()) return Unauthenticated("invalid verified_domains");
    for (const Json& d : domains) {
      if (!d.is_string() || d.get<std::string>().empty()) {
        return Unauthenticated("invalid verified_domains");
      }
      claims.verified_domains.push_back(d.get<std::string>());
    }
  }
  return claims;
}

absl::StatusOr<Verifier> LoadVerifier(const std::string& keys_dir, Verifier::Options options) {
  absl::StatusOr<KeySet> keys = KeySet::LoadDirectory(keys_dir);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    return absl::FailedPreconditionError(keys_dir + " has no <kid>.pub.pem key");
  }
  return Verifier::Create(std::move(options), *std::move(keys));
}

}  // namespace pc::auth
