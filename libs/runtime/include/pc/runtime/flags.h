// Configuration for every service: Abseil flags, each with an environment twin
// `PC_<FLAG_NAME_IN_UPPER_CASE>` (--grpc_port ↔ PC_GRPC_PORT). Environment values apply first,
// then the command line, so argv wins. Bad values fail at start with the flag and the variable
// named (Init() in init.h exits 2; ParseFlags() returns the status).
//
//   ABSL_FLAG(std::string, database_url, "sqlite://invitation.db", "Where state lives.");
//
//   pc::runtime::Init(argc, argv, "invitation", {
//       pc::runtime::NonEmptyFlag(FLAGS_database_url),
//       pc::runtime::CheckFlag(FLAGS_database_url, [](const std::string& url) -> std::string {
//         return url.starts_with("sqlite://") || url.starts_with("postgresql://")
//                    ? "" : "must start with sqlite:// or postgresql://";
//       }),
//   });
//   int port = absl::GetFlag(FLAGS_grpc_port);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(int32_t, grpc_port);
ABSL_DECLARE_FLAG(int32_t, admin_port);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(std::string, cloud);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(absl::Duration, drain_delay);

namespace pc::runtime {

// A check of one flag's parsed value: OK, or INVALID_ARGUMENT naming the flag and its
// environment variable.
using FlagValidator = std::function<absl::Status()>;

// The environment variable that configures flag `flag_name`: "PC_" + upper case name.
std::string EnvVarFor(const std::string& flag_name);

// INVALID_ARGUMENT "--<flag> (env PC_<FLAG>): <why>", reason INVALID_FIELD.
absl::Status InvalidFlagError(const std::string& flag_name, const std::string& why);

// A validator for `flag`: `why_invalid(value)` returns "" when the value is fine, otherwise
// the reason (e.g. "must be one of a, b").
template <typename T>
FlagValidator CheckFlag(const absl::Flag<T>& flag,
                        std::function<std::string(const T&)> why_invalid) {
  return [&flag, why_invalid = std::move(why_invalid)]() -> absl::Status {
    std::string why = why_invalid(absl::GetFlag(flag));
    if (why.empty()) return absl::OkStatus();
    return InvalidFlagError(std::string(absl::GetFlagReflectionHandle(flag).Name()), why);
  };
}

// A TCP port: 0 (pick one) to 65535.
FlagValidator PortFlag(const absl::Flag<int32_t>& flag);
// A string that is one of `allowed`.
FlagValidator OneOfFlag(const absl::Flag<std::string>& flag, std::vector<std::string> allowed);
// A string that is not empty.
FlagValidator NonEmptyFlag(const absl::Flag<std::string>& flag);
// A duration greater than zero.
FlagValidator PositiveDurationFlag(const absl::Flag<absl::Duration>& flag);

// Applies `env` (PC_* variables; others are ignored) and then `args` (argv without the
// program name: --name=value, --name value, --bool_flag, --nobool_flag, `--` ends flags) to
// the registered flags, then runs the common validators (ports, log_level, log_format, cloud,
// shutdown_grace) and `validators`. INVALID_ARGUMENT names the flag or variable for an unknown
// flag, a missing value, an unparsable value, a stray positional argument or a failed check.
absl::Status ParseFlags(const std::map<std::string, std::string>& env,
                        const std::vector<std::string>& args,
                        const std::vector<FlagValidator>& validators = {});

// Text for --help: every registered flag with its current value, its variable and its help.
std::string FlagsUsage(const std::string& program);

}  // namespace pc::runtime
