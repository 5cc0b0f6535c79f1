// Authorization checks every handler runs after authentication (design.md §5): the caller
// must hold a suitable role AND its tenant must own the object.
//
//   PC_RETURN_IF_ERROR(pc::auth::RequireRole(claims, {pc::auth::kRolePartnerAdmin}));
//   PC_RETURN_IF_ERROR(pc::auth::RequireTenant(claims, relationship.partner_id));
#pragma once

#include <initializer_list>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "pc/auth/claims.h"

namespace pc::reason {
// A service identity the RPC does not admit (RequireCaller); next to the other reasons in
// pc/common/errors.h.
inline constexpr char kCallerNotAdmitted[] = "CALLER_NOT_ADMITTED";
}  // namespace pc::reason

namespace pc::auth {

// OK if the caller holds at least one of `any_of`; otherwise PERMISSION_DENIED with reason
// MISSING_ROLE (metadata {"required_roles": "a,b"}). An empty list denies everyone. A token
// holding `service` passes only a list naming `service` (its other roles grant nothing) and
// is otherwise refused with CALLER_NOT_ADMITTED; handlers admit services by name with
// RequireCaller instead.
absl::Status RequireRole(const Claims& claims, std::initializer_list<std::string_view> any_of);

// The check every RPC starts with: a user token must hold one of `user_roles` (RequireRole);
// a token holding `service` must be a service identity (ServiceOf) named in `services`,
// otherwise PERMISSION_DENIED with reason CALLER_NOT_ADMITTED (metadata
// {"admitted_services": "a,b"}). An RPC no service needs passes `{}`.
//
//   PC_RETURN_IF_ERROR(RequireCaller(claims, {kRolePartnerAdmin}, {kServiceInvitation}));
absl::Status RequireCaller(const Claims& claims, std::initializer_list<std::string_view> user_roles,
                           absl::Span<const std::string_view> services);

// OK if the token's tenant is `tenant_id`, or if the caller is a service identity (ServiceOf;
// one the RPC admitted with RequireCaller acts across tenants for its documented job);
// otherwise PERMISSION_DENIED with reason WRONG_TENANT. An empty `tenant_id` matches nobody
// but a service. The message never names either tenant. Handlers that must hide an object's
// existence answer NOT_FOUND instead.
absl::Status RequireTenant(const Claims& claims, std::string_view tenant_id);

}  // namespace pc::auth
