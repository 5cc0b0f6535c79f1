// The first line of every service's main(): flags from the environment and the command line,
// then logging. Bad configuration stops the process with exit code 2 and one clear line
// naming the flag and its variable; --help prints every flag with its variable and exits 0.
//
//   ABSL_FLAG(std::string, database_url, "sqlite://invitation.db", "Where state lives.");
//
//   int main(int argc, char** argv) {
//     absl::SetFlag(&FLAGS_grpc_port, 50051);   // this service's defaults, before Init()
//     pc::runtime::Init(argc, argv, "invitation", {pc::runtime::NonEmptyFlag(FLAGS_database_url)});
//     pc::runtime::Server server(pc::runtime::ServerOptions::FromFlags());
//     ...
//     PC_CHECK_OK(server.Start());
//     server.Wait();
//   }
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pc/runtime/flags.h"

namespace pc::runtime {

// Parses PC_* environment variables then argv into the flags (ParseFlags), validates them
// with the common checks and `validators`, and sets up logging for `service` from
// --log_level / --log_format. Exits 2 on bad configuration, 0 after --help.
void Init(int argc, char** argv, const std::string& service,
          const std::vector<FlagValidator>& validators = {});

// The service name given to Init(), or "" before it.
const std::string& ServiceName();

// Logs `status` with `what` and where, then aborts. Used by PC_CHECK_OK.
[[noreturn]] void DieWithStatus(const absl::Status& status, const char* what, const char* file,
                                int line);

}  // namespace pc::runtime

// Aborts with a critical log line if `expr` (an absl::Status) is not OK. For start-up steps
// that cannot sensibly continue, e.g. PC_CHECK_OK(server.Start()).
#define PC_CHECK_OK(expr)                                                      \
  do {                                                                         \
    if (::absl::Status pc_check_status_ = (expr); !pc_check_status_.ok()) {    \
      ::pc::runtime::DieWithStatus(pc_check_status_, #expr, __FILE__, __LINE__); \
    }                                                                          \
  } while (0)
