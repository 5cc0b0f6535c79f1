// JWT verification on any bytes: header and claims JSON, base64url segments, signatures.
// The first byte picks the mode: even, the rest is the token; odd, the rest is a claims JSON
// that libjwt signs with the trusted ES256 key, so the claim checks behind the signature are
// reached too.
#include <jwt.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "pc/auth/keys.h"
#include "pc/auth/verifier.h"

namespace {

constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

struct Setup {
  pc::auth::KeyPairPem es = *pc::auth::GenerateKeyPair(pc::auth::Algorithm::kES256);
  pc::auth::KeyPairPem rs = *pc::auth::GenerateKeyPair(pc::auth::Algorithm::kRS256);
  pc::auth::Verifier verifier = [this] {
    pc::auth::KeySet keys;
    (void)keys.Add("es-1", es.public_key_pem);
    (void)keys.Add("rs-1", rs.public_key_pem);
    return *pc::auth::Verifier::Create(
        {.issuer = "https://login.pc.test", .audience = "partnercenter", .cloud = "global"},
        std::move(keys));
  }();
};

const Setup& The() {
  static const Setup* setup = new Setup();
  return *setup;
}

// `claims_json` signed with the trusted ES256 key, or "" if libjwt refuses the JSON.
std::string SignWithTrustedKey(const std::string& claims_json) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return "";
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  const std::string& key = The().es.private_key_pem;
  if (jwt_add_header(jwt.get(), "kid", "es-1") != 0 ||
      jwt_add_grants_json(jwt.get(), claims_json.c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    return "";
  }
  std::unique_ptr<char, decltype(&std::free)> token(jwt_encode_str(jwt.get()), std::free);
  return token ? std::string(token.get()) : "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    absl::StatusOr<pc::auth::Claims> claims = The().verifier.Verify(rest, kNow);
    // Nothing in the corpus was signed by this process's keys: nothing can verify.
    pc::fuzz::Require(!claims.ok(), "a token no trusted key signed was accepted");
    pc::fuzz::Require(claims.status().code() == absl::StatusCode::kUnauthenticated,
                      "a refused token was not UNAUTHENTICATED");
    return 0;
  }
  if (rest.find('\0') != std::string::npos) return 0;
  const std::string token = SignWithTrustedKey(rest);
  if (token.empty()) return 0;
  absl::StatusOr<pc::auth::Claims> claims = The().verifier.Verify(token, kNow);
  if (claims.ok()) {
    pc::fuzz::Require(!claims->tenant_id.empty() && !claims->subject.empty() &&
                          !claims->roles.empty() && claims->cloud == "global",
                      "accepted claims without tenant, subject, roles or this cloud");
  } else {
    pc::fuzz::Require(claims.status().code() == absl::StatusCode::kUnauthenticated,
                      "a refused token was not UNAUTHENTICATED");
  }
  return 0;
}
