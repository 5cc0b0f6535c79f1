// Test builds only (pc::failpoints): applies PC_FAILPOINTS' rules at the named points.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "pc/common/failpoint.h"

namespace pc::failpoint {
namespace {

// Every point compiled into the services; a rule naming anything else is a typo.
constexpr const char* kPoints[] = {
    "rpc.after_commit",        // a mutating RPC's transaction committed, reply not yet sent
    "relay.after_publish",     // the outbox relay published a batch, rows not yet marked sent
    "relay.between_batches",   // the relay finished one batch, the next not yet read
    "consumer.after_commit",   // a handler's transaction committed, offset not yet stored
};

bool Known(absl::string_view point) {
  for (const char* p : kPoints) {
    if (point == p) return true;
  }
  return false;
}

struct Armed {
  Rule rule;
  std::atomic<int> hits{0};
};

using Table = std::map<std::string, std::vector<std::unique_ptr<Armed>>, std::less<>>;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

const Table& Rules() {
  static const Table* table = [] {
    auto* t = new Table;
    const char* spec = std::getenv("PC_FAILPOINTS");
    if (spec == nullptr || *spec == '\0') return t;
    absl::StatusOr<std::vector<Rule>> rules = ParseRules(spec);
    if (!rules.ok()) Die(absl::StrCat("PC_FAILPOINTS: ", rules.status().message()));
    for (Rule& rule : *rules) {
      auto armed = std::make_unique<Armed>();
      armed->rule = std::move(rule);
      (*t)[armed->rule.point].push_back(std::move(armed));
    }
    std::fprintf(stderr, "failpoints armed: %s\n", spec);
    return t;
  }();
  return *table;
}

}  // namespace

absl::StatusOr<std::vector<Rule>> ParseRules(absl::string_view spec) {
  std::vector<Rule> rules;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("rule \"", part, "\": ", why));
    };
    std::pair<absl::string_view, absl::string_view> name_action = absl::StrSplit(part, '=');
    Rule rule;
    rule.point = std::string(name_action.first);
    if (!Known(rule.point)) return bad("unknown failpoint");
    std::pair<absl::string_view, absl::string_view> action_at =
        absl::StrSplit(name_action.second, '@');
    if (!action_at.second.empty() &&
        (!absl::SimpleAtoi(action_at.second, &rule.at_hit) || rule.at_hit < 1)) {
      return bad("the hit after @ must be a positive integer");
    }
    if (action_at.first == "crash") {
      rule.action = Rule::Action::kCrash;
    } else if (absl::ConsumePrefix(&action_at.first, "pause:")) {
      rule.action = Rule::Action::kPause;
      if (!absl::ParseDuration(action_at.first, &rule.pause) || rule.pause <= absl::ZeroDuration()) {
        return bad("pause needs a positive duration, e.g. pause:2s");
      }
    } else {
      return bad("the action must be crash or pause:<duration>");
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

void Hit(const char* name) {
  const Table& table = Rules();
  auto it = table.find(name);
  if (it == table.end()) return;
  for (const auto& armed : it->second) {
    const int hit = armed->hits.fetch_add(1) + 1;
    if (hit != armed->rule.at_hit) continue;
    if (armed->rule.action == Rule::Action::kCrash) {
      std::fprintf(stderr, "failpoint %s: crash at hit %d\n", name, hit);
      std::fflush(stderr);
      ::kill(::getpid(), SIGKILL);
      ::pause();
    }
    std::fprintf(stderr, "failpoint %s: pause for %s at hit %d\n", name,
                 absl::FormatDuration(armed->rule.pause).c_str(), hit);
    std::fflush(stderr);
    absl::SleepFor(armed->rule.pause);
  }
}

}  // namespace pc::failpoint
