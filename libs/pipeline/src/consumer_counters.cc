#include "pc/pipeline/consumer_counters.h"

#include <string_view>

namespace pc::pipeline {

ConsumerCounters::ConsumerCounters(pc::runtime::Registry& registry, std::string group)
    : family_(registry.AddCounter("pc_consumer_events_total",
                                  "Consumed events by what applying them did: applied, "
                                  "duplicate_ignored, stale_ignored, ignored_unknown_type, "
                                  "ignored_not_handled, dead_lettered, retried.",
                                  {"group", "outcome"})),
      group_(std::move(group)) {
  // Every outcome shows from the start (0), so rate() and alerts see the series.
  for (std::string_view outcome :
       {"applied", "duplicate_ignored", "stale_ignored", "ignored_unknown_type",
        "ignored_not_handled", "dead_lettered", "retried"}) {
    family_.WithLabels({group_, std::string(outcome)});
  }
}

void ConsumerCounters::Count(pc::events::Outcome outcome, double n) {
  family_.WithLabels({group_, std::string(pc::events::OutcomeName(outcome))}).Increment(n);
}

double ConsumerCounters::Value(std::string_view outcome) const {
  return family_.WithLabels({group_, std::string(outcome)}).Value();
}

pc::kafka::ConsumerHooks ConsumerCounters::Hooks(pc::kafka::ConsumerHooks hooks) {
  auto dead_lettered = std::move(hooks.on_dead_lettered);
  hooks.on_dead_lettered = [this, dead_lettered](const pc::kafka::ConsumedMessage& m,
                                                 const absl::Status& s) {
    family_.WithLabels({group_, "dead_lettered"}).Increment();
    if (dead_lettered) dead_lettered(m, s);
  };
  auto handled = std::move(hooks.on_handled);
  hooks.on_handled = [this, handled](const pc::kafka::ConsumedMessage& m, const absl::Status& s) {
    if (!s.ok() && !pc::kafka::IsPermanentHandlerError(s)) {
      family_.WithLabels({group_, "retried"}).Increment();
    }
    if (handled) handled(m, s);
  };
  return hooks;
}

}  // namespace pc::pipeline
