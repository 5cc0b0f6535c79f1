// Authorization checks every handler runs after authentication (design.md §5): the caller
// must hold a suitable role AND its tenant must own the object.
//
//   PC_RETURN_IF_ERROR(pc::auth::RequireRole(claims, {pc::auth::kRolePartnerAdmin}));
//   PC_RETURN_IF_ERROR(pc::auth::RequireTenant(claims, relationship.partner_id));
#pragma once

#include <initializer_list>
#include <string_view>

#include "absl/status/status.h"
#include "pc/auth/claims.h"

namespace pc::auth {

// OK if the caller holds at least one of `any_of`; otherwise PERMISSION_DENIED with reason
// MISSING_ROLE (metadata {"required_roles": "a,b"}). An empty list denies everyone.
absl::Status RequireRole(const Claims& claims, std::initializer_list<std::string_view> any_of);

// OK if the token's tenant is `tenant_id`, or if the caller has role `service` (internal
// callers act across tenants by design); otherwise PERMISSION_DENIED with reason
// WRONG_TENANT. An empty `tenant_id` matches nobody but `service`. The message never names
// either tenant. Handlers that must hide an object's existence answer NOT_FOUND instead.
absl::Status RequireTenant(const Claims& claims, std::string_view tenant_id);

}  // namespace pc::auth
