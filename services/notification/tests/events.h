// Builders for the events the notification tests feed in.
#pragma once

#include <string>

#include "partnercenter/events/v1/events.pb.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"

namespace pc::notification::testing {

namespace ev = partnercenter::events::v1;
namespace common = partnercenter::common::v1;

class EventFactory {
 public:
  explicit EventFactory(std::string cloud = "global") : cloud_(std::move(cloud)) {}

  // A relationship event for partner:customer at `version`; `fill` sets the payload.
  template <typename Fill>
  ev::EventEnvelope Relationship(const std::string& partner, const std::string& customer,
                                 int64_t version, Fill fill) {
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = cloud_, .partner_id = partner, .customer_id = customer,
         .aggregate_id = pc::events::RelationshipKey(partner, customer),
         .aggregate_version = version, .actor = Actor(customer)},
        now_ += absl::Seconds(1));
    fill(e);
    pc::events::Seal(e);
    return e;
  }

  ev::EventEnvelope Established(const std::string& partner, const std::string& customer,
                                int64_t version = 1, const std::string& company = "") {
    return Relationship(partner, customer, version, [&](ev::EventEnvelope& e) {
      auto* p = e.mutable_relationship_established();
      p->mutable_customer_profile()->set_company_name(company.empty() ? "Company " + customer
                                                                       : company);
      p->mutable_customer_profile()->set_primary_domain(customer + ".example.com");
      p->set_partner_display_name("Partner " + partner);
      p->set_admin_access(common::ADMIN_ACCESS_GRANTED);
    });
  }

  ev::EventEnvelope Revoked(const std::string& partner, const std::string& customer,
                            int64_t version) {
    return Relationship(partner, customer, version, [](ev::EventEnvelope& e) {
      e.set_cause(ev::CAUSE_CUSTOMER_REVOKED);
      e.mutable_permission_revoked()->set_reason("in-house IT");
    });
  }

  template <typename Fill>
  ev::EventEnvelope Invitation(const std::string& partner, const std::string& id, int64_t version,
                               Fill fill) {
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = cloud_, .partner_id = partner, .aggregate_id = id,
         .aggregate_version = version, .actor = Actor(partner)},
        now_ += absl::Seconds(1));
    fill(e);
    pc::events::Seal(e);
    return e;
  }

 private:
  static common::Actor Actor(const std::string& tenant) {
    common::Actor a;
    a.set_kind(common::ACTOR_KIND_CUSTOMER_ADMIN);
    a.set_id("admin@" + tenant);
    a.set_tenant_id(tenant);
    return a;
  }

  std::string cloud_;
  absl::Time now_ = absl::FromUnixSeconds(1'750'000'000);
};

}  // namespace pc::notification::testing
