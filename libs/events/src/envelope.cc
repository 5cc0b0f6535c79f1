#include "pc/events/envelope.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/ids.h"

namespace pc::events {

using partnercenter::common::v1::Cloud;

EventEnvelope NewEnvelope(const EnvelopeFields& f, absl::Time now) {
  EventEnvelope e;
  e.set_event_id(NewUuid());
  e.set_schema_version(kSchemaVersion);
  *e.mutable_occurred_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  e.set_cloud(CloudFromName(f.cloud));
  e.set_partner_id(f.partner_id);
  e.set_customer_id(f.customer_id);
  e.set_aggregate_id(f.aggregate_id);
  e.set_aggregate_version(f.aggregate_version);
  *e.mutable_actor() = f.actor;
  e.set_cause(f.cause);
  e.set_correlation_id(f.correlation_id);
  return e;
}

std::string PayloadTypeName(const EventEnvelope& e) {
  const auto* oneof = EventEnvelope::descriptor()->FindOneofByName("payload");
  const auto* field = e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return field == nullptr ? "" : field->message_type()->name();
}

void Seal(EventEnvelope& e) { e.set_type(PayloadTypeName(e)); }

pc::kafka::Headers KafkaHeaders(const EventEnvelope& e) {
  return {{pc::kafka::kHeaderEventId, e.event_id()},
          {pc::kafka::kHeaderEventType, e.type()},
          {pc::kafka::kHeaderContentType, pc::kafka::kContentTypeProtobuf},
          {pc::kafka::kHeaderCorrelationId, e.correlation_id()}};
}

absl::StatusOr<EventEnvelope> Decode(const std::string& bytes) {
  EventEnvelope e;
  if (!e.ParseFromString(bytes)) return absl::DataLossError("not an EventEnvelope");
  if (e.event_id().empty()) return absl::DataLossError("envelope without event_id");
  if (e.payload_case() == EventEnvelope::PAYLOAD_NOT_SET) {
    // A payload added by a newer producer is unknown here: the caller decides (type is set).
    if (e.type().empty()) return absl::DataLossError("envelope without type or payload");
  }
  return e;
}

Cloud CloudFromName(const std::string& name) {
  if (name == "global") return partnercenter::common::v1::CLOUD_GLOBAL;
  if (name == "usgov") return partnercenter::common::v1::CLOUD_USGOV;
  if (name == "germany") return partnercenter::common::v1::CLOUD_GERMANY;
  return partnercenter::common::v1::CLOUD_UNSPECIFIED;
}

std::string CloudName(Cloud cloud) {
  switch (cloud) {
    case partnercenter::common::v1::CLOUD_GLOBAL: return "global";
    case partnercenter::common::v1::CLOUD_USGOV: return "usgov";
    case partnercenter::common::v1::CLOUD_GERMANY: return "germany";
    default: return "";
  }
}

std::string RelationshipKey(const std::string& partner_id, const std::string& customer_id) {
  return absl::StrCat(partner_id, ":", customer_id);
}

}  // namespace pc::events
