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
// An internal caller: one of the services below (ServiceOf). A token holding `service` is a
// service identity and nothing else: its other roles grant nothing.
inline constexpr char kRoleService[] = "service";

// Service identities (design.md §9): a token with role `service`, `tid` = kPlatformTenant and
// `sub` naming the calling service. The identity provider issues such tokens only to the
// platform's own workloads; a tenant's own app holding `service` under its own `tid` is no
// service identity.
inline constexpr char kPlatformTenant[] = "partnercenter";
inline constexpr char kServiceInvitation[] = "invitation";
inline constexpr char kServiceRelationship[] = "relationship";
inline constexpr char kServiceNotification[] = "notification";
inline constexpr char kServicePortal[] = "portal";

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
  // `verified_domains`: the DNS domains the identity provider has verified the tenant owns
  // (a customer admin's token); the only thing that satisfies an email-domain hint.
  std::vector<std::string> verified_domains{};

  // True if `roles` contains `role`.
  bool HasRole(std::string_view role) const;
  // True if `roles` contains at least one of `any_of`.
  bool HasAnyRole(std::initializer_list<std::string_view> any_of) const;
  // True if `verified_domains` holds `domain` (ASCII case-insensitive).
  bool HasVerifiedDomain(std::string_view domain) const;
};

// The service a service identity names ("invitation", …), or "" for any other token
// (a user, a `service` role outside kPlatformTenant, an unknown service name).
std::string_view ServiceOf(const Claims& claims);

}  // namespace pc::auth
