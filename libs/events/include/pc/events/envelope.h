// Building, naming and decoding the EventEnvelope every topic carries (design.md §4).
//
//   partnercenter::events::v1::EventEnvelope e = pc::events::NewEnvelope({
//       .cloud = "global", .partner_id = p, .customer_id = c, .aggregate_id = id,
//       .aggregate_version = 3, .actor = actor, .correlation_id = corr}, clock.Now());
//   *e.mutable_invitation_sent() = sent;
//   pc::events::Seal(e);                       // sets type from the payload
//   pc::kafka::Headers h = pc::events::KafkaHeaders(e);
//
//   PC_ASSIGN_OR_RETURN(auto envelope, pc::events::Decode(message.payload));  // DATA_LOSS if bad
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/kafka/message.h"

namespace pc::events {

using partnercenter::events::v1::EventEnvelope;

inline constexpr int kSchemaVersion = 1;

struct EnvelopeFields {
  std::string cloud;  // "global" | "usgov" | "germany"
  std::string partner_id;
  std::string customer_id;
  std::string aggregate_id;
  int64_t aggregate_version = 0;
  partnercenter::common::v1::Actor actor;
  partnercenter::events::v1::Cause cause = partnercenter::events::v1::CAUSE_UNSPECIFIED;
  std::string correlation_id;
};

// An envelope with a fresh event id, schema version and occurred_at = `now`; set the payload
// next, then call Seal().
EventEnvelope NewEnvelope(const EnvelopeFields& fields, absl::Time now);

// Sets `type` to the payload's message name ("InvitationSent", …).
void Seal(EventEnvelope& envelope);

// The payload's message name, or "" if no payload is set.
std::string PayloadTypeName(const EventEnvelope& envelope);

// Kafka headers for `envelope`: event-id, event-type, content-type, correlation-id.
pc::kafka::Headers KafkaHeaders(const EventEnvelope& envelope);

// Parses a message value. DATA_LOSS (a permanent error: dead letter) if the bytes are not an
// envelope, or lack event_id, type or payload.
absl::StatusOr<EventEnvelope> Decode(const std::string& bytes);

// "global" ↔ CLOUD_GLOBAL, …; UNSPECIFIED / "" for anything else.
partnercenter::common::v1::Cloud CloudFromName(const std::string& name);
std::string CloudName(partnercenter::common::v1::Cloud cloud);

// The relationship aggregate id and Kafka key: "<partner_id>:<customer_id>".
std::string RelationshipKey(const std::string& partner_id, const std::string& customer_id);

}  // namespace pc::events
