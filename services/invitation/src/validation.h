// Input checks shared by the invitation RPCs. Each returns INVALID_ARGUMENT naming the field
// (pc::InvalidFieldError) or OK.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "partnercenter/common/v1/common.pb.h"
#include "pc/common/validation.h"

namespace pc::invitation {

using pc::ValidateDomain;
using pc::ValidateId;
using pc::ValidateRequestId;
using pc::ValidateText;

absl::Status ValidateCustomerHint(const std::string& field,
                                  const partnercenter::common::v1::CustomerHint& hint);
// "domain:<lower-case domain>", "tenant:<id>" or "".
std::string HintKey(const partnercenter::common::v1::CustomerHint& hint);
// A token as the service issues it: 43 base64url characters (256 bits).
absl::Status ValidateToken(const std::string& field, const std::string& token);

}  // namespace pc::invitation
