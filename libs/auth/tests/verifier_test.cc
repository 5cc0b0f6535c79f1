#include "pc/auth/verifier.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/errors.h"
#include "test_tokens.h"

namespace pc::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::pc::auth::testing;  // NOLINT

Json With(Json payload, const std::string& key, Json value) {
  payload[key] = std::move(value);
  return payload;
}

Json Without(Json payload, const std::string& key) {
  payload.erase(key);
  return payload;
}

void ExpectClaimsOfGoodPayload(const Claims& claims) {
  EXPECT_EQ(claims.subject, "alice");
  EXPECT_EQ(claims.tenant_id, "partner-1");
  EXPECT_EQ(claims.cloud, kCloudGlobal);
  EXPECT_THAT(claims.roles, ::testing::ElementsAre("partner_admin", "partner_agent"));
  EXPECT_EQ(claims.display_name, "Alice Example");
  EXPECT_EQ(claims.issued_at, kNow);
  EXPECT_EQ(claims.expires_at, kNow + absl::Hours(1));
  EXPECT_EQ(claims.token_id, "token-1");
}

TEST(VerifierTest, AcceptsGoodEs256Token) {
  absl::StatusOr<Claims> claims = MakeVerifier().Verify(SignEs(GoodPayload()), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  ExpectClaimsOfGoodPayload(*claims);
}

TEST(VerifierTest, AcceptsGoodRs256Token) {
  std::string token = Sign(GoodPayload(), JWT_ALG_RS256, Keys().rs.private_key_pem, kRsKid);
  absl::StatusOr<Claims> claims = MakeVerifier().Verify(token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  ExpectClaimsOfGoodPayload(*claims);
}

TEST(VerifierTest, OptionalClaimsMayBeAbsent) {
  Json payload = Without(Without(Without(GoodPayload(), "name"), "jti"), "iat");
  absl::StatusOr<Claims> claims = MakeVerifier().Verify(SignEs(payload), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->display_name, std::nullopt);
  EXPECT_EQ(claims->token_id, "");
  EXPECT_EQ(claims->issued_at, absl::InfinitePast());
}

struct AcceptCase {
  std::string name;
  std::function<Json()> payload;
};

void PrintTo(const AcceptCase& c, std::ostream* os) { *os << c.name; }

class VerifierAcceptTest : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(VerifierAcceptTest, Accepts) {
  absl::StatusOr<Claims> claims = MakeVerifier().Verify(SignEs(GetParam().payload()), kNow);
  EXPECT_TRUE(claims.ok()) << claims.status();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, VerifierAcceptTest,
    ::testing::Values(
        AcceptCase{"AudienceArrayContainingOurs",
                   [] { return With(GoodPayload(), "aud", {"other", kAudience}); }},
        AcceptCase{"ExpiredWithinClockSkew",
                   [] { return With(GoodPayload(), "exp", absl::ToUnixSeconds(kNow) - 59); }},
        AcceptCase{"NotBeforeWithinClockSkew",
                   [] { return With(GoodPayload(), "nbf", absl::ToUnixSeconds(kNow) + 60); }},
        AcceptCase{"NotBeforeInThePast",
                   [] { return With(GoodPayload(), "nbf", absl::ToUnixSeconds(kNow) - 10); }},
        AcceptCase{"FractionalExp",
                   [] { return With(GoodPayload(), "exp", absl::ToUnixSeconds(kNow) + 10.5); }},
        AcceptCase{"UnknownRoleKept",
                   [] { return With(GoodPayload(), "roles", {"auditor"}); }},
        AcceptCase{"ExtraClaimsIgnored",
                   [] { return With(GoodPayload(), "xyz", {{"nested", true}}); }}),
    [](const auto& info) { return info.param.name; });

struct RejectCase {
  std::string name;
  std::function<std::string()> token;
  std::string message;
};

void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.name; }

class VerifierRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(VerifierRejectTest, RejectsAsUnauthenticated) {
  const RejectCase& c = GetParam();
  std::string token = c.token();
  absl::StatusOr<Claims> claims = MakeVerifier().Verify(token, kNow);
  ASSERT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated) << claims.status();
  EXPECT_EQ(claims.status().message(), c.message);
  EXPECT_EQ(pc::ReasonOf(claims.status()), pc::reason::kInvalidToken);
  if (token.size() > 16) {
    EXPECT_THAT(std::string(claims.status().message()), Not(HasSubstr(token)));
  }
}

std::string GoodEsToken() { return SignEs(GoodPayload()); }

// The good ES256 token with its payload swapped for `payload` (signature no longer matches).
std::string Tampered(const Json& payload) {
  std::string token = GoodEsToken();
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  return token.substr(0, dot1 + 1) + B64(payload.dump()) + token.substr(dot2);
}

const Json kEsHeader = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kEsKid}};

INSTANTIATE_TEST_SUITE_P(
    Structure, VerifierRejectTest,
    ::testing::Values(
        RejectCase{"Empty", [] { return std::string(); }, "empty token"},
        RejectCase{"Garbage", [] { return std::string("garbage"); }, "malformed token"},
        RejectCase{"TwoSegments", [] { return std::string("e30.e30"); }, "malformed token"},
        RejectCase{"FourSegments", [] { return GoodEsToken() + ".e30"; }, "malformed token"},
        RejectCase{"TooLarge", [] { return std::string(20000, 'a'); }, "token too large"},
        RejectCase{"HeaderNotBase64", [] { return std::string("!!.e30.c2ln"); },
                   "malformed token header"},
        RejectCase{"HeaderNotObject",
                   [] { return B64("[1]") + "." + B64("{}") + ".c2ln"; },
                   "malformed token header"},
        RejectCase{"PayloadNotJson",
                   [] { return B64(kEsHeader.dump()) + "." + B64("not json") + ".c2ln"; },
                   "malformed token payload"},
        RejectCase{"EmptySignature",
                   [] {
                     std::string token = GoodEsToken();
                     return token.substr(0, token.rfind('.') + 1);
                   },
                   "invalid signature"}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Algorithms, VerifierRejectTest,
    ::testing::Values(
        RejectCase{"AlgNone",
                   [] { return Assemble({{"alg", "none"}, {"kid", kEsKid}}, GoodPayload(), ""); },
                   "unsupported signing algorithm"},
        RejectCase{"AlgNoneViaLibjwt",
                   [] { return Sign(GoodPayload(), JWT_ALG_NONE, "", kEsKid); },
                   "unsupported signing algorithm"},
        RejectCase{"AlgMissing",
                   [] { return Assemble({{"kid", kEsKid}}, GoodPayload(), "c2ln"); },
                   "unsupported signing algorithm"},
        RejectCase{"Hs256ForgedWithEsPublicKey",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_HS256, Keys().es.public_key_pem, kEsKid);
                   },
                   "unsupported signing algorithm"},
        RejectCase{"Hs256ForgedWithRsPublicKey",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_HS256, Keys().rs.public_key_pem, kRsKid);
                   },
                   "unsupported signing algorithm"},
        RejectCase{"Rs384",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_RS384, Keys().rs.private_key_pem, kRsKid);
                   },
                   "unsupported signing algorithm"},
        RejectCase{"Rs256UnderEcKid",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_RS256, Keys().rs.private_key_pem, kEsKid);
                   },
                   "algorithm does not match the key"},
        RejectCase{"CriticalHeader",
                   [] {
                     Json header = kEsHeader;
                     header["crit"] = {"exp"};
                     return Assemble(header, GoodPayload(), "c2ln");
                   },
                   "unsupported critical header"}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    SigningKeys, VerifierRejectTest,
    ::testing::Values(
        RejectCase{"MissingKid",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_ES256, Keys().es.private_key_pem, nullptr);
                   },
                   "missing key id"},
        RejectCase{"UnknownKid",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_ES256, Keys().es.private_key_pem, "es-9");
                   },
                   "unknown signing key"},
        RejectCase{"WrongKeySameKid",
                   [] {
                     return Sign(GoodPayload(), JWT_ALG_ES256, Keys().other_es.private_key_pem,
                                 kEsKid);
                   },
                   "invalid signature"},
        RejectCase{"TamperedPayloadEs256",
                   [] { return Tampered(With(GoodPayload(), "tid", "partner-2")); },
                   "invalid signature"},
        RejectCase{"TamperedPayloadRs256",
                   [] {
                     std::string token =
                         Sign(GoodPayload(), JWT_ALG_RS256, Keys().rs.private_key_pem, kRsKid);
                     std::string other = Sign(With(GoodPayload(), "roles", {"service"}),
                                              JWT_ALG_RS256, Keys().rs.private_key_pem, kRsKid);
                     // Other's header+payload with the first token's signature.
                     return other.substr(0, other.rfind('.')) + token.substr(token.rfind('.'));
                   },
                   "invalid signature"}),
    [](const auto& info) { return info.param.name; });

const int64_t kNowSeconds = absl::ToUnixSeconds(kNow);

INSTANTIATE_TEST_SUITE_P(
    ClaimChecks, VerifierRejectTest,
    ::testing::Values(
        RejectCase{"Expired", [] { return SignEs(With(GoodPayload(), "exp", kNowSeconds - 60)); },
                   "token expired"},
        RejectCase{"ExpMissing", [] { return SignEs(Without(GoodPayload(), "exp")); },
                   "missing or invalid exp"},
        RejectCase{"ExpString",
                   [] { return SignEs(With(GoodPayload(), "exp", "tomorrow")); },
                   "missing or invalid exp"},
        RejectCase{"NotYetValid",
                   [] { return SignEs(With(GoodPayload(), "nbf", kNowSeconds + 61)); },
                   "token not yet valid"},
        RejectCase{"NbfString", [] { return SignEs(With(GoodPayload(), "nbf", "soon")); },
                   "invalid nbf"},
        RejectCase{"WrongIssuer",
                   [] { return SignEs(With(GoodPayload(), "iss", "https://evil.test")); },
                   "wrong issuer"},
        RejectCase{"MissingIssuer", [] { return SignEs(Without(GoodPayload(), "iss")); },
                   "wrong issuer"},
        RejectCase{"WrongAudience",
                   [] { return SignEs(With(GoodPayload(), "aud", "other-api")); },
                   "wrong audience"},
        RejectCase{"WrongAudienceArray",
                   [] { return SignEs(With(GoodPayload(), "aud", {"a", "b"})); },
                   "wrong audience"},
        RejectCase{"MissingAudience", [] { return SignEs(Without(GoodPayload(), "aud")); },
                   "wrong audience"},
        RejectCase{"WrongCloud", [] { return SignEs(With(GoodPayload(), "cloud", "usgov")); },
                   "wrong cloud"},
        RejectCase{"UnknownCloud", [] { return SignEs(With(GoodPayload(), "cloud", "mars")); },
                   "wrong cloud"},
        RejectCase{"MissingCloud", [] { return SignEs(Without(GoodPayload(), "cloud")); },
                   "wrong cloud"},
        RejectCase{"MissingSub", [] { return SignEs(Without(GoodPayload(), "sub")); },
                   "missing sub"},
        RejectCase{"MissingTid", [] { return SignEs(Without(GoodPayload(), "tid")); },
                   "missing tid"},
        RejectCase{"EmptyTid", [] { return SignEs(With(GoodPayload(), "tid", "")); },
                   "missing tid"},
        RejectCase{"NumericTid", [] { return SignEs(With(GoodPayload(), "tid", 42)); },
                   "missing tid"},
        RejectCase{"MissingRoles", [] { return SignEs(Without(GoodPayload(), "roles")); },
                   "missing roles"},
        RejectCase{"EmptyRoles",
                   [] { return SignEs(With(GoodPayload(), "roles", Json::array())); },
                   "missing roles"},
        RejectCase{"RolesAsString",
                   [] { return SignEs(With(GoodPayload(), "roles", "partner_admin")); },
                   "missing roles"},
        RejectCase{"NonStringRole",
                   [] { return SignEs(With(GoodPayload(), "roles", {"partner_admin", 7})); },
                   "invalid roles"},
        RejectCase{"NumericName", [] { return SignEs(With(GoodPayload(), "name", 1)); },
                   "invalid name"},
        RejectCase{"NumericJti", [] { return SignEs(With(GoodPayload(), "jti", 1)); },
                   "invalid jti"},
        RejectCase{"VerifiedDomainsNotAnArray",
                   [] { return SignEs(With(GoodPayload(), "verified_domains", "contoso.com")); },
                   "invalid verified_domains"},
        RejectCase{"VerifiedDomainsWithANumber",
                   [] { return SignEs(With(GoodPayload(), "verified_domains", {"contoso.com", 7})); },
                   "invalid verified_domains"},
        RejectCase{"VerifiedDomainsWithAnEmptyString",
                   [] { return SignEs(With(GoodPayload(), "verified_domains", Json::array({""}))); },
                   "invalid verified_domains"}),
    [](const auto& info) { return info.param.name; });

// Why the header is checked before libjwt sees the token: libjwt 1.10 alone accepts an
// HS256 token whose HMAC secret is the public key PEM (algorithm confusion).
TEST(VerifierTest, LibjwtAloneWouldAcceptTheHs256Forgery) {
  std::string forged = Sign(GoodPayload(), JWT_ALG_HS256, Keys().es.public_key_pem, kEsKid);
  const std::string& pem = Keys().es.public_key_pem;
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, forged.c_str(), reinterpret_cast<const unsigned char*>(pem.data()),
                      static_cast<int>(pem.size()));
  jwt_free(raw);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(MakeVerifier().Verify(forged, kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifierExpiryTest, ExactExpiryBoundaryWithoutSkew) {
  Verifier verifier = MakeVerifier(absl::ZeroDuration());
  absl::Time exp = kNow + absl::Minutes(5);
  std::string token = SignEs(With(GoodPayload(), "exp", absl::ToUnixSeconds(exp)));
  FakeClock clock(exp - absl::Seconds(1));
  EXPECT_TRUE(verifier.Verify(token, clock.Now()).ok());
  clock.Set(exp - absl::Nanoseconds(1));
  EXPECT_TRUE(verifier.Verify(token, clock.Now()).ok());
  clock.Set(exp);
  absl::Status at_exp = verifier.Verify(token, clock.Now()).status();
  EXPECT_EQ(at_exp.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(at_exp.message(), "token expired");
}

TEST(VerifierExpiryTest, ExactExpiryBoundaryWithSkew) {
  Verifier verifier = MakeVerifier(absl::Seconds(30));
  absl::Time exp = kNow + absl::Minutes(5);
  std::string token = SignEs(With(GoodPayload(), "exp", absl::ToUnixSeconds(exp)));
  FakeClock clock(exp + absl::Seconds(29));
  EXPECT_TRUE(verifier.Verify(token, clock.Now()).ok());
  clock.Set(exp + absl::Seconds(30));
  EXPECT_EQ(verifier.Verify(token, clock.Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifierExpiryTest, ExactNotBeforeBoundary) {
  Verifier verifier = MakeVerifier(absl::ZeroDuration());
  absl::Time nbf = kNow + absl::Minutes(1);
  std::string token = SignEs(With(GoodPayload(), "nbf", absl::ToUnixSeconds(nbf)));
  FakeClock clock(nbf);
  EXPECT_TRUE(verifier.Verify(token, clock.Now()).ok());
  clock.Set(nbf - absl::Nanoseconds(1));
  absl::Status early = verifier.Verify(token, clock.Now()).status();
  EXPECT_EQ(early.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(early.message(), "token not yet valid");
}

// One token, one spelling: a base64url character whose unused low bits are set decodes to
// the same bytes, and padding or a non-URL-safe alphabet spell the same segment again.
TEST(VerifierTest, RefusesNonCanonicalBase64UrlInEverySegment) {
  std::string token = GoodEsToken();
  ASSERT_TRUE(MakeVerifier().Verify(token, kNow).ok());
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int accepted = 0;
  for (size_t end : {dot1, dot2, token.size()}) {
    for (char c : alphabet) {
      std::string variant = token;
      if (variant[end - 1] == c) continue;
      variant[end - 1] = c;
      if (MakeVerifier().Verify(variant, kNow).ok()) ++accepted;
    }
  }
  EXPECT_EQ(accepted, 0);
  for (const std::string& variant :
       {token + "=", token.substr(0, dot2 + 1) + "=" + token.substr(dot2 + 1),
        token.substr(0, dot1) + "=" + token.substr(dot1), token + " ", token + "\n"}) {
    absl::Status status = MakeVerifier().Verify(variant, kNow).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << variant;
  }
}

TEST(VerifierExpiryTest, IssuedInTheFutureIsRefusedBeyondTheSkew) {
  Verifier verifier = MakeVerifier(absl::Seconds(60));
  auto issued = [&](absl::Duration ahead) {
    return verifier.Verify(SignEs(With(GoodPayload(), "iat", absl::ToUnixSeconds(kNow + ahead))),
                           kNow);
  };
  EXPECT_TRUE(issued(absl::Seconds(60)).ok());
  absl::Status status = issued(absl::Seconds(61)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "token issued in the future");
  EXPECT_EQ(issued(absl::Hours(24)).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(VerifierExpiryTest, ExpiredBeyondTheDefaultSkewIsRefused) {
  Verifier verifier = MakeVerifier();
  EXPECT_EQ(verifier.options().clock_skew, absl::Seconds(60));
  auto expired = [&](absl::Duration ago) {
    return verifier.Verify(SignEs(With(GoodPayload(), "exp", absl::ToUnixSeconds(kNow - ago))),
                           kNow);
  };
  EXPECT_TRUE(expired(absl::Seconds(30)).ok());  // within the stated leeway
  EXPECT_EQ(expired(absl::Seconds(60)).status().message(), "token expired");
}

TEST(VerifierCreateTest, RejectsBadConfiguration) {
  struct Case {
    std::string name;
    Verifier::Options options;
    bool with_keys;
  };
  std::vector<Case> cases = {
      {"NoIssuer", {"", kAudience, kCloudGlobal}, true},
      {"NoAudience", {kIssuer, "", kCloudGlobal}, true},
      {"BadCloud", {kIssuer, kAudience, "mars"}, true},
      {"NegativeSkew", {kIssuer, kAudience, kCloudGlobal, absl::Seconds(-1)}, true},
      {"SkewAboveBound", {kIssuer, kAudience, kCloudGlobal, kMaxClockSkew + absl::Seconds(1)},
       true},
      {"NoKeys", {kIssuer, kAudience, kCloudGlobal}, false},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Verifier> verifier =
        Verifier::Create(c.options, c.with_keys ? TrustedKeys() : KeySet());
    EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
  }
  EXPECT_TRUE(Verifier::Create({kIssuer, kAudience, kCloudGermany}, TrustedKeys()).ok());
}

TEST(VerifierTest, EachCloudOnlyAcceptsItsOwnTokens) {
  for (const char* cloud : {kCloudGlobal, kCloudUsGov, kCloudGermany}) {
    absl::StatusOr<Verifier> verifier =
        Verifier::Create({kIssuer, kAudience, cloud}, TrustedKeys());
    ASSERT_TRUE(verifier.ok());
    for (const char* token_cloud : {kCloudGlobal, kCloudUsGov, kCloudGermany}) {
      absl::Status status =
          verifier->Verify(SignEs(With(GoodPayload(), "cloud", token_cloud)), kNow).status();
      if (std::string_view(cloud) == token_cloud) {
        EXPECT_TRUE(status.ok()) << cloud;
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << cloud << token_cloud;
      }
    }
  }
}

}  // namespace
}  // namespace pc::auth
