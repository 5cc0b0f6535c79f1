#include "pc/common/validation.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pc/common/errors.h"

namespace pc {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

absl::Status ValidateRequestId(const std::string& field, const std::string& value) {
  if (value.empty()) return InvalidFieldError(field, "is required");
  if (value.size() > 128) return InvalidFieldError(field, "must be at most 128 characters");
  for (char c : value) {
    if (c < 0x21 || c > 0x7e) return InvalidFieldError(field, "must be printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status ValidateId(const std::string& field, const std::string& value) {
  if (value.empty()) return InvalidFieldError(field, "is required");
  if (value.size() > 64) return InvalidFieldError(field, "must be at most 64 characters");
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return InvalidFieldError(field, "may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDomain(const std::string& field, const std::string& value) {
  if (value.empty()) return InvalidFieldError(field, "is required");
  if (value.size() > 253) return InvalidFieldError(field, "must be at most 253 characters");
  std::vector<std::string> labels = absl::StrSplit(absl::AsciiStrToLower(value), '.');
  if (labels.size() < 2) return InvalidFieldError(field, "must be a domain such as contoso.com");
  for (const std::string& label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return InvalidFieldError(field, "is not a valid domain name");
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return InvalidFieldError(field, "is not a valid domain name");
      }
    }
  }
  if (absl::ascii_isdigit(static_cast<unsigned char>(labels.back().front()))) {
    return InvalidFieldError(field, "is not a valid domain name");
  }
  return absl::OkStatus();
}

absl::Status ValidateText(const std::string& field, const std::string& value, size_t max) {
  if (value.size() > max) {
    return InvalidFieldError(field, absl::StrCat("must be at most ", max, " bytes"));
  }
  for (size_t i = 0; i < value.size();) {
    const size_t n = Utf8SequenceLength(value, i);
    if (n == 0) return InvalidFieldError(field, "must be valid UTF-8");
    const auto c = static_cast<unsigned char>(value[i]);
    if (n == 1 && (c < 0x20 || c == 0x7f) && c != '\n' && c != '\r' && c != '\t') {
      return InvalidFieldError(field, "must not contain control characters");
    }
    i += n;
  }
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(const std::string& field, int64_t seconds, int32_t nanos) {
  constexpr int64_t kMinSeconds = -62'135'596'800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z
  if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 || nanos > 999'999'999) {
    return InvalidFieldError(field, "must be a timestamp between 0001-01-01 and 9999-12-31");
  }
  return absl::OkStatus();
}

absl::Status ValidateMaxEntries(const std::string& field, int size, int max) {
  if (size > max) return InvalidFieldError(field, absl::StrCat("must have at most ", max, " entries"));
  return absl::OkStatus();
}

}  // namespace pc
