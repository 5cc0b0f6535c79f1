#include "pc/auth/authorization.h"

#include <string>

#include "pc/common/errors.h"

namespace pc::auth {

absl::Status RequireRole(const Claims& claims, std::initializer_list<std::string_view> any_of) {
  if (claims.HasAnyRole(any_of)) return absl::OkStatus();
  std::string required;
  for (std::string_view role : any_of) {
    if (!required.empty()) required += ',';
    required += role;
  }
  return pc::WithReason(absl::PermissionDeniedError("the caller lacks a required role"),
                        pc::reason::kMissingRole, {{"required_roles", required}});
}

absl::Status RequireTenant(const Claims& claims, std::string_view tenant_id) {
  if (claims.HasRole(kRoleService)) return absl::OkStatus();
  if (!tenant_id.empty() && claims.tenant_id == tenant_id) return absl::OkStatus();
  return pc::WithReason(absl::PermissionDeniedError("the caller's tenant does not own this object"),
                        pc::reason::kWrongTenant);
}

}  // namespace pc::auth
