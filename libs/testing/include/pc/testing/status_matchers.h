// GoogleTest matchers for absl::Status and absl::StatusOr.
//
//   EXPECT_THAT(svc.Cancel(id), IsOk());
//   EXPECT_THAT(svc.Cancel(id), StatusIs(absl::StatusCode::kFailedPrecondition));
//   EXPECT_THAT(svc.Cancel(id), StatusIs(absl::StatusCode::kFailedPrecondition,
//                                        "INVITATION_NOT_PENDING"));   // ErrorInfo reason
//   EXPECT_THAT(domain.ExpireDue(), IsOkAndHolds(1));
//   ASSERT_OK_AND_ASSIGN(Invitation inv, svc.Create(req));
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "pc/common/errors.h"

namespace pc::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, reason,
           "has code " + absl::StatusCodeToString(code) + " and reason " + std::string(reason)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString() << " with reason '" << pc::ReasonOf(s) << "'";
  return s.code() == code && pc::ReasonOf(s) == reason;
}

// A StatusOr that is OK and whose value equals `value`.
MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  *result_listener << "value is " << ::testing::PrintToString(*arg);
  return *arg == value;
}

}  // namespace pc::testing

#define PC_TESTING_CONCAT_INNER_(a, b) a##b
#define PC_TESTING_CONCAT_(a, b) PC_TESTING_CONCAT_INNER_(a, b)
// Asserts `rexpr` (a StatusOr) is OK and moves its value into `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                      \
  auto PC_TESTING_CONCAT_(pc_so_, __LINE__) = (rexpr);                        \
  ASSERT_TRUE(PC_TESTING_CONCAT_(pc_so_, __LINE__).ok())                      \
      << PC_TESTING_CONCAT_(pc_so_, __LINE__).status().ToString();           \
  lhs = std::move(PC_TESTING_CONCAT_(pc_so_, __LINE__)).value()
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::pc::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::pc::testing::IsOk())
