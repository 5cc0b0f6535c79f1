#include "pc/events/envelope.h"

#include "gtest/gtest.h"
#include "pc/common/ids.h"

namespace pc::events {
namespace {

TEST(Envelope, NewAndSealFillEveryField) {
  partnercenter::common::v1::Actor actor;
  actor.set_kind(partnercenter::common::v1::ACTOR_KIND_PARTNER_USER);
  actor.set_id("u1");
  EventEnvelope e = NewEnvelope({.cloud = "usgov", .partner_id = "p1", .customer_id = "c1",
                                 .aggregate_id = "inv-1", .aggregate_version = 4, .actor = actor,
                                 .cause = partnercenter::events::v1::CAUSE_CUSTOMER_REVOKED,
                                 .correlation_id = "corr"},
                                absl::FromUnixSeconds(1700000000));
  e.mutable_invitation_sent()->set_invitation_id("inv-1");
  Seal(e);
  EXPECT_TRUE(pc::IsUuid(e.event_id()));
  EXPECT_EQ(e.type(), "InvitationSent");
  EXPECT_EQ(e.schema_version(), 1);
  EXPECT_EQ(e.occurred_at().seconds(), 1700000000);
  EXPECT_EQ(e.cloud(), partnercenter::common::v1::CLOUD_USGOV);
  EXPECT_EQ(e.aggregate_version(), 4);
  EXPECT_EQ(e.actor().id(), "u1");
  const auto h = KafkaHeaders(e);
  EXPECT_EQ(pc::kafka::HeaderValue(h, "event-id"), e.event_id());
  EXPECT_EQ(pc::kafka::HeaderValue(h, "event-type"), "InvitationSent");
  EXPECT_EQ(pc::kafka::HeaderValue(h, "content-type"), "application/x-protobuf");
  EXPECT_EQ(pc::kafka::HeaderValue(h, "correlation-id"), "corr");
}

TEST(Envelope, EveryPayloadHasItsMessageNameAsType) {
  const auto* oneof = EventEnvelope::descriptor()->FindOneofByName("payload");
  ASSERT_GE(oneof->field_count(), 14);
  for (int i = 0; i < oneof->field_count(); ++i) {
    EventEnvelope e;
    const auto* field = oneof->field(i);
    e.GetReflection()->MutableMessage(&e, field);
    Seal(e);
    EXPECT_EQ(e.type(), field->message_type()->name());
  }
}

TEST(Envelope, DecodeRejectsGarbageAsDataLoss) {
  EXPECT_EQ(Decode("\xff\xff\xff garbage").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decode("").status().code(), absl::StatusCode::kDataLoss);
  EventEnvelope e = NewEnvelope({.cloud = "global"}, absl::Now());
  e.mutable_permission_revoked()->set_reason("r");
  Seal(e);
  auto decoded = Decode(e.SerializeAsString());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->permission_revoked().reason(), "r");
}

TEST(Envelope, CloudNamesRoundTrip) {
  for (const char* name : {"global", "usgov", "germany"}) {
    EXPECT_EQ(CloudName(CloudFromName(name)), name);
  }
  EXPECT_EQ(CloudFromName("mars"), partnercenter::common::v1::CLOUD_UNSPECIFIED);
  EXPECT_EQ(RelationshipKey("p", "c"), "p:c");
}

}  // namespace
}  // namespace pc::events
