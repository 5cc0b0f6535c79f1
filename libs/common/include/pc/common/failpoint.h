// Named crash and pause points for the fault tier (tests/fault, issue 15).
//
//   pc::failpoint::Hit("relay.after_publish");
//
// A call site names the moment (see kPoints in failpoint.cc for the list). In the release
// binaries Hit() is an empty function (failpoint_off.cc): they contain neither the parser nor
// the PC_FAILPOINTS variable. The `<service>-failpoints` binaries link pc::failpoints, whose
// Hit() applies the rules of the environment variable
//
//   PC_FAILPOINTS="relay.after_publish=crash@3,consumer.after_commit=pause:2s@1"
//
// crash@N: on the Nth hit, log "failpoint <name>: crash at hit N" and die by SIGKILL (a kill -9
// at exactly that moment). pause:<duration>@N: on the Nth hit, log and sleep (a frozen process).
// An unknown point or a malformed rule stops the process at its first Hit(): a fault run must
// never pass because a rule was silently ignored.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pc::failpoint {

void Hit(const char* name);

// The parsed form of one rule (exposed for tests of the parser).
struct Rule {
  std::string point;
  enum class Action { kCrash, kPause } action = Action::kCrash;
  absl::Duration pause;
  int at_hit = 1;
};
// Parses PC_FAILPOINTS' value; INVALID_ARGUMENT naming the bad rule or unknown point.
// Defined only in pc::failpoints.
absl::StatusOr<std::vector<Rule>> ParseRules(absl::string_view spec);

}  // namespace pc::failpoint
