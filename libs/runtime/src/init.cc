#include "pc/runtime/init.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "pc/runtime/logging.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace pc::runtime {
namespace {

std::string& MutableServiceName() {
  static auto* name = new std::string();
  return *name;
}

}  // namespace

void Init(int argc, char** argv, const std::string& service,
          const std::vector<FlagValidator>& validators) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") {
      std::fputs(FlagsUsage(argc > 0 ? argv[0] : service).c_str(), stdout);
      std::exit(0);
    }
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos && absl::StartsWith(entry, "PC_")) {
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  if (absl::Status status = ParseFlags(env, args, validators); !status.ok()) {
    std::fprintf(stderr, "%s: invalid configuration: %s\n", service.c_str(),
                 std::string(status.message()).c_str());
    std::exit(2);
  }
  // Both values were validated by ParseFlags.
  SetupLogging(service, *ParseLogFormat(absl::GetFlag(FLAGS_log_format)),
               *ParseLogLevel(absl::GetFlag(FLAGS_log_level)));
  MutableServiceName() = service;
  spdlog::info("starting {} (cloud {}, gRPC port {}, admin port {})", service,
               absl::GetFlag(FLAGS_cloud), absl::GetFlag(FLAGS_grpc_port),
               absl::GetFlag(FLAGS_admin_port));
}

const std::string& ServiceName() { return MutableServiceName(); }

void DieWithStatus(const absl::Status& status, const char* what, const char* file, int line) {
  if (ServiceName().empty()) {  // before Init(): spdlog's default logger writes to stdout
    std::fprintf(stderr, "%s failed at %s:%d: %s\n", what, file, line, status.ToString().c_str());
  } else {
    spdlog::critical("{} failed at {}:{}: {}", what, file, line, status.ToString());
    spdlog::default_logger()->flush();
  }
  std::abort();
}

}  // namespace pc::runtime
