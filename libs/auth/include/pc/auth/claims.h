// What a verified access token says about its caller (design.md §5): who they are
// (`sub`), which tenant they act for (`tid`), in which sovereign cloud (`cloud`) and with
// which roles (`roles`). Produced by pc::auth::Verifier, consumed by the authorization
// helpers in authorization.h.
//
//   PC_ASSIGN_OR_RETURN(pc::auth::Claims claims, verifier.Verify(token, clock.Now()));
//   if (claims.HasAnyRole({pc::auth::kRolePartnerAdmin, pc::auth::kRolePartnerAgent})) ...
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace pc::auth {

// Roles (claim `roles`).
inline constexpr char kRolePartnerAdmin[] = "partner_admin";
inline constexpr char kRolePartnerAgent[] = "partner_agent";  // read + service requests
inline constexpr char kRoleCustomerAdmin[] = "customer_admin";  // customer's global admin
inline constexpr char kRoleService[] = "service";  // internal caller; may act for any tenant

// Sovereign clouds (claim `cloud`).
inline constexpr char kCloudGlobal[] = "global";
inline constexpr char kCloudUsGov[] = "usgov";
inline constexpr char kCloudGermany[] = "germany";

// True for "global", "usgov" and "germany".
bool IsValidCloud(std::string_view cloud);

struct Claims {
  std::string subject{};                    // `sub`: the user (or service) id
  std::string tenant_id{};                  // `tid`: the partner's or customer's tenant
  std::string cloud{};                      // `cloud`
  std::vector<std::string> roles{};         // `roles`; unknown roles are kept but grant nothing
  std::optional<std::string> display_name{};  // `name`
  absl::Time issued_at = absl::InfinitePast();     // `iat` (InfinitePast if absent)
  absl::Time expires_at = absl::InfiniteFuture();  // `exp`
  std::string token_id{};                   // `jti` ("" if absent)

  // True if `roles` contains `role`.
  bool HasRole(std::string_view role) const;
  // True if `roles` contains at least one of `any_of`.
  bool HasAnyRole(std::initializer_list<std::string_view> any_of) const;
};

}  // namespace pc::auth
