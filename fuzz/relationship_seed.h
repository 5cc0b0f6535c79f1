// One established relationship (partner-a ↔ customer-1, admin permission granted) for the
// fuzz targets that act on relationships, applied the way the invitation consumer does.
#pragma once

#include "fuzz_common.h"
#include "pc/events/envelope.h"

namespace pc::fuzz {

template <typename RelationshipDomain>
void SeedRelationship(RelationshipDomain& domain, const pc::Clock& clock) {
  partnercenter::common::v1::Actor actor;
  actor.set_kind(partnercenter::common::v1::ACTOR_KIND_CUSTOMER_ADMIN);
  actor.set_id("admin@customer-1");
  actor.set_tenant_id("customer-1");
  auto e = pc::events::NewEnvelope({.cloud = "global",
                                    .partner_id = "partner-a",
                                    .customer_id = "customer-1",
                                    .aggregate_id = "00000000-0000-4000-8000-0000000000ab",
                                    .aggregate_version = 2,
                                    .actor = actor,
                                    .correlation_id = "corr-seed"},
                                   clock.Now());
  auto* a = e.mutable_invitation_accepted();
  a->set_invitation_id(e.aggregate_id());
  a->set_kind(partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP);
  a->set_include_admin_permission(true);
  a->mutable_customer_profile()->set_company_name("Contoso");
  a->mutable_customer_profile()->set_primary_domain("contoso.com");
  a->mutable_customer_profile()->set_country("BR");
  a->set_partner_display_name("Fabrikam");
  pc::events::Seal(e);
  Require(domain.ApplyInvitationEvent(e).ok(), "seed relationship");
}

}  // namespace pc::fuzz
