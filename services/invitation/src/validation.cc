#include "validation.h"

#include "absl/strings/ascii.h"
#include "pc/common/errors.h"

namespace pc::invitation {

absl::Status ValidateCustomerHint(const std::string& field,
                                  const partnercenter::common::v1::CustomerHint& hint) {
  switch (hint.hint_case()) {
    case partnercenter::common::v1::CustomerHint::kEmailDomain:
      return ValidateDomain(field + ".email_domain", hint.email_domain());
    case partnercenter::common::v1::CustomerHint::kTenantId:
      return ValidateId(field + ".tenant_id", hint.tenant_id());
    default:
      return absl::OkStatus();
  }
}

std::string HintKey(const partnercenter::common::v1::CustomerHint& hint) {
  switch (hint.hint_case()) {
    case partnercenter::common::v1::CustomerHint::kEmailDomain:
      return "domain:" + absl::AsciiStrToLower(hint.email_domain());
    case partnercenter::common::v1::CustomerHint::kTenantId:
      return "tenant:" + hint.tenant_id();
    default:
      return "";
  }
}

absl::Status ValidateToken(const std::string& field, const std::string& token) {
  if (token.empty()) return InvalidFieldError(field, "is required");
  if (token.size() != 43) return InvalidFieldError(field, "is not a valid invitation token");
  for (char c : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return InvalidFieldError(field, "is not a valid invitation token");
    }
  }
  return absl::OkStatus();
}

}  // namespace pc::invitation
