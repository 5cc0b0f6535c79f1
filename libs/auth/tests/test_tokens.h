// Test-only helpers: shared key pairs, a fake clock, and raw token signing with libjwt so
// tests can build tokens the Minter would refuse to make (missing claims, odd headers).
#pragma once

#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "pc/auth/claims.h"
#include "pc/auth/keys.h"
#include "pc/auth/verifier.h"
#include "pc/common/clock.h"

namespace pc::auth::testing {

using Json = nlohmann::json;

inline constexpr char kIssuer[] = "https://login.pc.test";
inline constexpr char kAudience[] = "partnercenter";
inline constexpr char kEsKid[] = "es-1";
inline constexpr char kRsKid[] = "rs-1";
inline constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

class FakeClock final : public pc::Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }
  void Set(absl::Time now) { now_ = now; }

 private:
  absl::Time now_;
};

struct TestKeys {
  KeyPairPem es;        // trusted under kEsKid
  KeyPairPem rs;        // trusted under kRsKid
  KeyPairPem other_es;  // trusted by nobody
};

// Generated once per test binary (RSA generation is slow-ish).
inline const TestKeys& Keys() {
  static const TestKeys* keys = new TestKeys{*GenerateKeyPair(Algorithm::kES256),
                                             *GenerateKeyPair(Algorithm::kRS256),
                                             *GenerateKeyPair(Algorithm::kES256)};
  return *keys;
}

inline KeySet TrustedKeys() {
  KeySet keys;
  (void)keys.Add(kEsKid, Keys().es.public_key_pem);
  (void)keys.Add(kRsKid, Keys().rs.public_key_pem);
  return keys;
}

inline Verifier MakeVerifier(absl::Duration clock_skew = absl::Seconds(60)) {
  return *Verifier::Create({kIssuer, kAudience, kCloudGlobal, clock_skew}, TrustedKeys());
}

// A payload the verifier accepts at kNow.
inline Json GoodPayload() {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "alice"},
          {"tid", "partner-1"},
          {"cloud", "global"},
          {"roles", {"partner_admin", "partner_agent"}},
          {"name", "Alice Example"},
          {"iat", absl::ToUnixSeconds(kNow)},
          {"exp", absl::ToUnixSeconds(kNow + absl::Hours(1))},
          {"jti", "token-1"}};
}

// Signs `payload` with libjwt. `key` is a private PEM for RS/ES, or any bytes for HS.
inline std::string Sign(const Json& payload, jwt_alg_t alg, const std::string& key,
                        const char* kid) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  if (kid != nullptr) jwt_add_header(jwt.get(), "kid", kid);
  jwt_add_grants_json(jwt.get(), payload.dump().c_str());
  jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  std::unique_ptr<char, decltype(&std::free)> token(jwt_encode_str(jwt.get()), std::free);
  return token ? std::string(token.get()) : std::string();
}

inline std::string SignEs(const Json& payload) {
  return Sign(payload, JWT_ALG_ES256, Keys().es.private_key_pem, kEsKid);
}

inline std::string B64(const std::string& s) { return absl::WebSafeBase64Escape(s); }

// header.payload.signature from raw JSON, for tokens libjwt will not produce.
inline std::string Assemble(const Json& header, const Json& payload, const std::string& sig) {
  return B64(header.dump()) + "." + B64(payload.dump()) + "." + sig;
}

}  // namespace pc::auth::testing
