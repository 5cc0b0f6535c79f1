#include "pc/auth/claims.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace pc::auth {

bool IsValidCloud(std::string_view cloud) {
  return cloud == kCloudGlobal || cloud == kCloudUsGov || cloud == kCloudGermany;
}

bool Claims::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Claims::HasAnyRole(std::initializer_list<std::string_view> any_of) const {
  return std::any_of(any_of.begin(), any_of.end(),
                     [this](std::string_view role) { return HasRole(role); });
}

bool Claims::HasVerifiedDomain(std::string_view domain) const {
  return !domain.empty() &&
         std::any_of(verified_domains.begin(), verified_domains.end(),
                     [domain](const std::string& d) {
                       return absl::EqualsIgnoreCase(d, absl::string_view(domain.data(), domain.size()));
                     });
}

std::string_view ServiceOf(const Claims& claims) {
  if (!claims.HasRole(kRoleService) || claims.tenant_id != kPlatformTenant) return "";
  for (std::string_view known : {kServiceInvitation, kServiceRelationship, kServiceNotification,
                                 kServicePortal}) {
    if (claims.subject == known) return known;
  }
  return "";
}

}  // namespace pc::auth
