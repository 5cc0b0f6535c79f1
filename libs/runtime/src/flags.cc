#include "pc/runtime/flags.h"

#include <algorithm>
#include <optional>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pc/common/errors.h"
#include "pc/common/status_macros.h"
#include "pc/tls/tls.h"

ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port on 0.0.0.0 (0 = let the kernel pick).");
ABSL_FLAG(int32_t, admin_port, 9090,
          "Admin HTTP port for /metrics, /healthz, /readyz (0 = let the kernel pick).");
ABSL_FLAG(std::string, log_level, "info",
          "Minimum log level: trace, debug, info, warn, error, critical, off.");
ABSL_FLAG(std::string, log_format, "json", "Log line format: json (one object a line) or text.");
ABSL_FLAG(std::string, cloud, "global", "Sovereign cloud this instance serves: global, usgov, germany.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(20),
          "How long in-flight calls and streams may drain on shutdown before they are cancelled.");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "On SIGTERM, how long the server keeps serving after health turned NOT_SERVING, so "
          "that load balancers and Kubernetes endpoints stop sending calls before it stops "
          "accepting (0s: stop at once)");

namespace pc::runtime {
namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

absl::Status SetFlag(absl::CommandLineFlag& flag, const std::string& value,
                     const std::string& source) {
  std::string error;
  if (flag.ParseFrom(value, &error)) return absl::OkStatus();
  return pc::InvalidFieldError(source, absl::StrCat("cannot use '", value, "' for --",
                                                    Str(flag.Name()), ": ", error));
}

absl::Status ApplyEnv(const std::map<std::string, std::string>& env) {
  // Sorted so that the first failure reported does not depend on hash order.
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) flags.push_back(flag);
  std::sort(flags.begin(), flags.end(),
            [](auto* a, auto* b) { return a->Name() < b->Name(); });
  for (absl::CommandLineFlag* flag : flags) {
    if (flag->IsRetired()) continue;
    std::string var = EnvVarFor(Str(flag->Name()));
    auto it = env.find(var);
    if (it == env.end()) continue;
    PC_RETURN_IF_ERROR(SetFlag(*flag, it->second, var));
  }
  return absl::OkStatus();
}

absl::Status ApplyArgs(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", args[i + 1], "'"));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body;
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if ((flag == nullptr || flag->IsRetired()) && !value && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        value = "false";
      }
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return pc::InvalidFieldError(absl::StrCat("--", name), "needs a value");
      }
    }
    PC_RETURN_IF_ERROR(SetFlag(*flag, *value, absl::StrCat("--", name)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EnvVarFor(const std::string& flag_name) {
  return "PC_" + absl::AsciiStrToUpper(flag_name);
}

absl::Status InvalidFlagError(const std::string& flag_name, const std::string& why) {
  return pc::InvalidFieldError(
      absl::StrCat("--", flag_name, " (env ", EnvVarFor(flag_name), ")"), why);
}

FlagValidator PortFlag(const absl::Flag<int32_t>& flag) {
  return CheckFlag<int32_t>(flag, [](const int32_t& port) -> std::string {
    if (port >= 0 && port <= 65535) return "";
    return absl::StrCat("must be a port between 0 and 65535, got ", port);
  });
}

FlagValidator OneOfFlag(const absl::Flag<std::string>& flag, std::vector<std::string> allowed) {
  return CheckFlag<std::string>(
      flag, [allowed = std::move(allowed)](const std::string& value) -> std::string {
        if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return "";
        return absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "), "; got '", value,
                            "'");
      });
}

FlagValidator NonEmptyFlag(const absl::Flag<std::string>& flag) {
  return CheckFlag<std::string>(flag, [](const std::string& value) -> std::string {
    return value.empty() ? "must not be empty" : "";
  });
}

FlagValidator PositiveDurationFlag(const absl::Flag<absl::Duration>& flag) {
  return CheckFlag<absl::Duration>(flag, [](const absl::Duration& d) -> std::string {
    if (d > absl::ZeroDuration() && d != absl::InfiniteDuration()) return "";
    return absl::StrCat("must be a finite duration greater than zero (e.g. 20s), got ",
                        absl::FormatDuration(d));
  });
}

absl::Status ParseFlags(const std::map<std::string, std::string>& env,
                        const std::vector<std::string>& args,
                        const std::vector<FlagValidator>& validators) {
  PC_RETURN_IF_ERROR(ApplyEnv(env));
  PC_RETURN_IF_ERROR(ApplyArgs(args));
  std::vector<FlagValidator> all = {
      PortFlag(FLAGS_grpc_port),
      PortFlag(FLAGS_admin_port),
      OneOfFlag(FLAGS_log_level, {"trace", "debug", "info", "warn", "error", "critical", "off"}),
      OneOfFlag(FLAGS_log_format, {"json", "text"}),
      OneOfFlag(FLAGS_cloud, {"global", "usgov", "germany"}),
      PositiveDurationFlag(FLAGS_shutdown_grace),
      CheckFlag<absl::Duration>(FLAGS_drain_delay,
                                [](const absl::Duration& d) -> std::string {
                                  return d >= absl::ZeroDuration() ? "" : "must not be negative";
                                }),
      [] { return pc::tls::Validate(pc::tls::FilesFromFlags()); },
  };
  all.insert(all.end(), validators.begin(), validators.end());
  for (const FlagValidator& validate : all) PC_RETURN_IF_ERROR(validate());
  return absl::OkStatus();
}

std::string FlagsUsage(const std::string& program) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!flag->IsRetired()) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](auto* a, auto* b) { return a->Name() < b->Name(); });
  std::string out = absl::StrCat(
      "Usage: ", program, " [--flag=value ...]\n\n",
      "Every flag can also be set with its environment variable; the command line wins.\n\n");
  for (absl::CommandLineFlag* flag : flags) {
    std::string name = Str(flag->Name());
    absl::StrAppend(&out, "  --", name, "=", flag->CurrentValue(), "   (env ", EnvVarFor(name),
                    ")\n      ", flag->Help(), "\n");
  }
  return out;
}

}  // namespace pc::runtime
