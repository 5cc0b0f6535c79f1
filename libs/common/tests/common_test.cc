#include <set>

#include "gtest/gtest.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"
#include "pc/common/url.h"
#include "pc/common/validation.h"

namespace pc {
namespace {

TEST(Ids, UuidsAreCanonicalVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuid();
    EXPECT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(std::string("89ab").find(id[19]) != std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, IsUuidRejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("3f2b1c4d-0000-4000-8000-00000000000g"));
  EXPECT_FALSE(IsUuid("3f2b1c4d00000-4000-8000-000000000000"));
  EXPECT_TRUE(IsUuid("3F2B1C4D-0000-4000-8000-000000000000"));
}

TEST(Ids, TokensAreUrlSafeAndCarryTheRequestedEntropy) {
  const std::string token = RandomUrlSafeToken(32);
  EXPECT_EQ(token.size(), 43u);  // ceil(32 * 4 / 3) without padding
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_NE(token, RandomUrlSafeToken(32));
}

TEST(Ids, Sha256HexMatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Errors, ReasonAndFieldTravelWithTheStatus) {
  const absl::Status s = InvalidFieldError("page_size", "must be between 1 and 200");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "page_size: must be between 1 and 200");
  EXPECT_EQ(ReasonOf(s), reason::kInvalidField);
  EXPECT_EQ(ReasonMetadataOf(s).at("field"), "page_size");
  EXPECT_EQ(ReasonOf(absl::InternalError("x")), "");
  EXPECT_TRUE(WithReason(absl::OkStatus(), "X").ok());
}

TEST(GrpcStatus, RoundTripKeepsCodeMessageAndReason) {
  const absl::Status in =
      FailedPreconditionError(reason::kAdminPermissionRevoked, "admin permission was revoked");
  const grpc::Status wire = ToGrpcStatus(in);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(wire.error_message(), "admin permission was revoked");
  EXPECT_FALSE(wire.error_details().empty());
  const absl::Status out = FromGrpcStatus(wire);
  EXPECT_EQ(out.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(out), reason::kAdminPermissionRevoked);
}

TEST(GrpcStatus, EveryCanonicalCodeMapsOneToOne) {
  for (int c = 0; c <= 16; ++c) {
    const absl::Status in(static_cast<absl::StatusCode>(c), c == 0 ? "" : "m");
    EXPECT_EQ(static_cast<int>(ToGrpcStatus(in).error_code()), c);
    EXPECT_EQ(static_cast<int>(FromGrpcStatus(ToGrpcStatus(in)).code()), c);
  }
}

TEST(GrpcStatus, EveryErrorCodeLeavesWithAnErrorInfoReason) {
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    const absl::Status out = FromGrpcStatus(ToGrpcStatus(absl::Status(code, "m")));
    EXPECT_EQ(ReasonOf(out), absl::StatusCodeToString(code)) << c;
    EXPECT_EQ(out.message(), "m");
  }
  // A reason the code path gave is kept.
  EXPECT_EQ(ReasonOf(FromGrpcStatus(ToGrpcStatus(ResourceNotFoundError("relationship", "no")))),
            reason::kNotFound);
  EXPECT_EQ(ReasonMetadataOf(ResourceNotFoundError("relationship", "no")).at("resource"),
            "relationship");
}

TEST(Errors, RateLimitedCarriesRetryInfoAcrossTheWire) {
  const absl::Status in = RateLimitedError("slow down", absl::Milliseconds(89'500));
  EXPECT_EQ(in.code(), absl::StatusCode::kResourceExhausted);
  const absl::Status out = FromGrpcStatus(ToGrpcStatus(in));
  EXPECT_EQ(ReasonOf(out), reason::kRateLimited);
  ASSERT_TRUE(RetryDelayOf(out).has_value());
  EXPECT_EQ(*RetryDelayOf(out), absl::Seconds(90));  // rounded up, never early
  EXPECT_EQ(ReasonMetadataOf(out).at("retry_after_seconds"), "90");
  EXPECT_EQ(RetryDelayOf(absl::ResourceExhaustedError("x")), std::nullopt);
}

TEST(Errors, FieldViolationsReportEveryInvalidFieldAtOnce) {
  FieldViolations v;
  v.Add(absl::OkStatus());
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.ToStatus().ok());
  v.Add(InvalidFieldError("a", "is required"));
  v.Add(absl::OkStatus());
  v.Add("b", "is too long");
  const absl::Status s = FromGrpcStatus(ToGrpcStatus(v.ToStatus()));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "a: is required; b: is too long");
  EXPECT_EQ(ReasonOf(s), reason::kInvalidField);
  EXPECT_EQ(ReasonMetadataOf(s).at("field"), "a");
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(FieldViolationsOf(s), (std::vector<Pair>{{"a", "is required"}, {"b", "is too long"}}));
  EXPECT_EQ(FieldViolationsOf(InvalidFieldError("x", "y")), (std::vector<Pair>{{"x", "y"}}));
  // An error that is not about a field wins: it is the answer, not a violation.
  FieldViolations mixed;
  mixed.Add("a", "bad");
  mixed.Add(absl::PermissionDeniedError("no"));
  EXPECT_EQ(mixed.ToStatus().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Validation, CountryCodesAreTheAssignedIso3166Alpha2Set) {
  int assigned = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) assigned += IsIsoCountryCode(std::string{a, b});
  }
  EXPECT_EQ(assigned, 249);
  for (const char* code : {"BR", "US", "DE", "AX", "ZW", "SS"}) EXPECT_TRUE(IsIsoCountryCode(code));
  for (const char* code : {"ZZ", "XK", "UK", "EU", "br", "B", "BRA", ""}) {
    EXPECT_EQ(ValidateCountryCode("country", code).code(), absl::StatusCode::kInvalidArgument)
        << code;
  }
}

TEST(Validation, TimestampsOutsideTheProtobufRangeAreRefused) {
  EXPECT_TRUE(ValidateTimestamp("t", 0, 0).ok());
  EXPECT_TRUE(ValidateTimestamp("t", 253'402'300'799, 999'999'999).ok());  // 9999-12-31
  EXPECT_TRUE(ValidateTimestamp("t", -62'135'596'800, 0).ok());            // 0001-01-01
  EXPECT_EQ(ValidateTimestamp("t", 253'402'300'800, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTimestamp("t", -62'135'596'801, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTimestamp("t", 0, -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTimestamp("t", 0, 1'000'000'000).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateMaxEntries("ids", 101, 100).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateMaxEntries("ids", 100, 100).ok());
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  PC_ASSIGN_OR_RETURN(int half, Half(x));
  PC_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  PC_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, PropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
TEST(UrlTest, PercentEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("a b&c=d?/é~-._"), "a%20b%26c%3Dd%3F%2F%C3%A9~-._");
  EXPECT_EQ(PercentEncode("\r\n"), "%0D%0A");
}

TEST(UrlTest, ParseUrlEncodedDecodesAndKeepsTheFirstOfARepeatedName) {
  const auto form = ParseUrlEncoded("tenant=p%2D1&name=Ana+Lima&&flag&tenant=second&bad=%zz%4");
  EXPECT_EQ(form.at("tenant"), "p-1");
  EXPECT_EQ(form.at("name"), "Ana Lima");
  EXPECT_EQ(form.at("flag"), "");
  EXPECT_EQ(form.at("bad"), "%zz%4");
  EXPECT_EQ(form.size(), 4u);
}

}  // namespace pc
