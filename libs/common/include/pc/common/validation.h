// Input checks shared by every service's RPCs. Each returns INVALID_ARGUMENT naming the field
// (pc::InvalidFieldError) or OK.
//
//   PC_RETURN_IF_ERROR(pc::ValidateRequestId("request_id", req.request_id()));
//   PC_RETURN_IF_ERROR(pc::ValidateText("reason", req.reason(), 1000));
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"

namespace pc {

// 1–128 printable ASCII characters.
absl::Status ValidateRequestId(const std::string& field, const std::string& value);
// A tenant / partner id: 1–64 of [A-Za-z0-9._-].
absl::Status ValidateId(const std::string& field, const std::string& value);
// A DNS name: ≥ 2 labels of [a-z0-9-] (no leading/trailing '-'), ≤ 253 chars; case-insensitive.
absl::Status ValidateDomain(const std::string& field, const std::string& value);
// At most `max` bytes of valid UTF-8 with no control characters other than \n, \r, \t.
absl::Status ValidateText(const std::string& field, const std::string& value, size_t max);

}  // namespace pc
