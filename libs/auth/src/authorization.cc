#include "pc/auth/authorization.h"

#include <string>

#include "pc/common/errors.h"

namespace pc::auth {

namespace {

std::string Join(absl::Span<const std::string_view> items) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

bool Contains(absl::Span<const std::string_view> items, std::string_view x) {
  for (std::string_view item : items) {
    if (item == x) return true;
  }
  return false;
}

absl::Status NotAdmitted(absl::Span<const std::string_view> services) {
  return pc::WithReason(absl::PermissionDeniedError("this call does not admit the calling service"),
                        pc::reason::kCallerNotAdmitted, {{"admitted_services", Join(services)}});
}

}  // namespace

absl::Status RequireRole(const Claims& claims, std::initializer_list<std::string_view> any_of) {
  if (claims.HasRole(kRoleService)) {
    return Contains(any_of, kRoleService) ? absl::OkStatus() : NotAdmitted({});
  }
  if (claims.HasAnyRole(any_of)) return absl::OkStatus();
  return pc::WithReason(absl::PermissionDeniedError("the caller lacks a required role"),
                        pc::reason::kMissingRole, {{"required_roles", Join(any_of)}});
}

absl::Status RequireCaller(const Claims& claims, std::initializer_list<std::string_view> user_roles,
                           absl::Span<const std::string_view> services) {
  if (!claims.HasRole(kRoleService)) return RequireRole(claims, user_roles);
  const std::string_view service = ServiceOf(claims);
  if (!service.empty() && Contains(services, service)) return absl::OkStatus();
  return NotAdmitted(services);
}

absl::Status RequireTenant(const Claims& claims, std::string_view tenant_id) {
  if (!ServiceOf(claims).empty()) return absl::OkStatus();
  if (!tenant_id.empty() && claims.tenant_id == tenant_id) return absl::OkStatus();
  return pc::WithReason(absl::PermissionDeniedError("the caller's tenant does not own this object"),
                        pc::reason::kWrongTenant);
}

}  // namespace pc::auth
