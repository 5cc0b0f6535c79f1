// What applying one consumed event did, as the consumers' counters tell it apart
// (pc_consumer_events_total{outcome}). Domain classes report it; they know nothing of Kafka.
//
//   pc::events::Outcome outcome;
//   PC_RETURN_IF_ERROR(domain.ApplyInvitationEvent(e, &outcome));
//   counters.Count(outcome);
#pragma once

#include <string_view>

namespace pc::events {

enum class Outcome {
  kApplied,             // first delivery, state changed
  kDuplicateIgnored,    // the inbox already had the event id: no second effect
  kStaleIgnored,        // first delivery, but older than what is applied (aggregate_version)
  kIgnoredUnknownType,  // an event type this build does not know (a newer producer)
  kIgnoredNotHandled,   // a known type this consumer has nothing to do for
};

// The label value: "applied", "duplicate_ignored", "stale_ignored", "ignored_unknown_type",
// "ignored_not_handled".
constexpr std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kDuplicateIgnored:
      return "duplicate_ignored";
    case Outcome::kStaleIgnored:
      return "stale_ignored";
    case Outcome::kIgnoredUnknownType:
      return "ignored_unknown_type";
    case Outcome::kIgnoredNotHandled:
      return "ignored_not_handled";
  }
  return "unknown";
}

}  // namespace pc::events
