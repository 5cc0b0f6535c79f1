#pragma once
// An environment variable as a flag's default: `ABSL_FLAG(std::string, x, pc::EnvOr("PC_X",
// "default"), …)` for binaries that do not go through pc::runtime's PC_* parser (pcctl), and
// for flags shared by both (libs/kafka's security flags).

#include <string>

namespace pc {

// The value of `name`, or `fallback` when it is unset or empty.
std::string EnvOr(const char* name, const char* fallback);

}  // namespace pc
