// Input checks shared by the invitation RPCs. Each returns INVALID_ARGUMENT naming the field
// (pc::InvalidFieldError) or OK.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "partnercenter/common/v1/common.pb.h"

namespace pc::invitation {

// 1–128 printable ASCII characters.
absl::Status ValidateRequestId(const std::string& field, const std::string& value);
// A tenant / partner id: 1–64 of [A-Za-z0-9._-].
absl::Status ValidateId(const std::string& field, const std::string& value);
// A DNS name: ≥ 2 labels of [a-z0-9-] (no leading/trailing '-'), ≤ 253 chars; case-insensitive.
absl::Status ValidateDomain(const std::string& field, const std::string& value);
// At most `max` bytes of valid UTF-8 with no control characters other than \n, \r, \t.
absl::Status ValidateText(const std::string& field, const std::string& value, size_t max);
absl::Status ValidateCustomerHint(const std::string& field,
                                  const partnercenter::common::v1::CustomerHint& hint);
// "domain:<lower-case domain>", "tenant:<id>" or "".
std::string HintKey(const partnercenter::common::v1::CustomerHint& hint);
// A token as the service issues it: 43 base64url characters (256 bits).
absl::Status ValidateToken(const std::string& field, const std::string& token);

}  // namespace pc::invitation
