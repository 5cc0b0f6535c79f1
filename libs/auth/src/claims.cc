#include "pc/auth/claims.h"

#include <algorithm>

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

}  // namespace pc::auth
