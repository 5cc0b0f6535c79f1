// Input checks shared by every service's RPCs. Each returns INVALID_ARGUMENT naming the field
// (pc::InvalidFieldError) or OK.
//
//   PC_RETURN_IF_ERROR(pc::ValidateRequestId("request_id", req.request_id()));
//   PC_RETURN_IF_ERROR(pc::ValidateText("reason", req.reason(), 1000));
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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
// An officially assigned ISO 3166-1 alpha-2 code in upper case ("BR"; not "ZZ", "XK", "br").
absl::Status ValidateCountryCode(const std::string& field, const std::string& value);
bool IsIsoCountryCode(std::string_view code);
// A google.protobuf.Timestamp in its documented range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, nanos in [0, 999 999 999].
absl::Status ValidateTimestamp(const std::string& field, int64_t seconds, int32_t nanos);
// At most `max` entries in a repeated field.
absl::Status ValidateMaxEntries(const std::string& field, int size, int max);

}  // namespace pc
