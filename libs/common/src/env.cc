#include "pc/common/env.h"

#include <cstdlib>

namespace pc {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace pc
