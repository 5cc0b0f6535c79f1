// Shared set-up for the relationship tests: a migrated store (SQLite, or PostgreSQL when
// PC_TEST_POSTGRES is defined), a fake clock, a fake invitation service, the access cache
// and the domain; plus callers and helpers that drive relationships into each state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "access_cache.h"
#include "domain.h"
#include "gtest/gtest.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/storage/test_database.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/status_matchers.h"
#include "store.h"

namespace pc::relationship::testing {

namespace ev = partnercenter::events::v1;
namespace inv = partnercenter::invitation::v1;

#ifdef PC_TEST_POSTGRES
inline constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kPostgres;
#else
inline constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kSqlite;
#endif

inline CallContext Caller(const std::string& tenant, const std::string& role,
                          const std::string& cloud = "global") {
  return {{.subject = "user@" + tenant, .tenant_id = tenant, .cloud = cloud, .roles = {role},
           .display_name = "User of " + tenant},
          "corr-" + tenant,
          "token-of-" + tenant};
}
inline CallContext PartnerAdmin(const std::string& tenant = "partner-a") {
  return Caller(tenant, "partner_admin");
}
inline CallContext PartnerAgent(const std::string& tenant = "partner-a") {
  return Caller(tenant, "partner_agent");
}
inline CallContext CustomerAdmin(const std::string& tenant = "customer-1") {
  return Caller(tenant, "customer_admin");
}
// A service identity (role service, tid partnercenter, sub = the service).
inline CallContext Service(const std::string& name = "invitation") {
  CallContext call = Caller("partnercenter", "service");
  call.claims.subject = name;
  return call;
}

// Records CreateInvitation calls and answers with a PENDING ADMIN_RESTORE invitation.
class FakeInvitations : public InvitationClient {
 public:
  absl::StatusOr<inv::CreateInvitationResponse> CreateInvitation(
      const CallContext& call, const inv::CreateInvitationRequest& request) override {
    calls.push_back({call, request});
    if (!next_error.ok()) return next_error;
    inv::CreateInvitationResponse out;
    out.mutable_invitation()->set_id(pc::NewUuid());
    out.mutable_invitation()->set_kind(request.kind());
    out.mutable_invitation()->set_partner_id(call.claims.tenant_id);
    out.mutable_email_draft()->set_link("https://portal.example/invitations/accept?token=x");
    return out;
  }
  std::vector<std::pair<CallContext, inv::CreateInvitationRequest>> calls;
  absl::Status next_error = absl::OkStatus();
};

class RelationshipFixture : public ::testing::Test, protected pc::storage::DatabaseFixture {
 protected:
  void SetUp() override {
    ASSERT_OK(OpenDatabase(kDialect));
    ASSERT_OK(RelationshipStore::Migrate(*db_));
    store_ = std::make_unique<RelationshipStore>(*db_);
    cache_ = std::make_unique<AccessCache>(
        [this](const std::string& p, const std::string& c) { return domain_->LoadAccess(p, c); });
    domain_ = std::make_unique<RelationshipDomain>(DomainOptions{.cloud = "global"}, *store_,
                                                   clock_, &invitations_, *cache_,
                                                   [this] { ++commits_; });
  }

  // An InvitationAccepted event as the invitation service publishes it.
  ev::EventEnvelope Accepted(const std::string& partner, const std::string& customer,
                             bool admin, partnercenter::common::v1::InvitationKind kind =
                                             partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP,
                             const std::string& reseller = "", const std::string& invitation_id = "",
                             int64_t version = 2) {
    partnercenter::common::v1::Actor actor;
    actor.set_kind(partnercenter::common::v1::ACTOR_KIND_CUSTOMER_ADMIN);
    actor.set_id("admin@" + customer);
    actor.set_tenant_id(customer);
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = "global",
         .partner_id = partner,
         .customer_id = customer,
         .aggregate_id = invitation_id.empty() ? pc::NewUuid() : invitation_id,
         .aggregate_version = version,
         .actor = actor,
         .correlation_id = "corr-accept"},
        clock_.Now());
    ev::InvitationAccepted* a = e.mutable_invitation_accepted();
    a->set_invitation_id(e.aggregate_id());
    a->set_kind(kind);
    a->set_include_admin_permission(admin);
    a->set_indirect_reseller_id(reseller);
    a->mutable_customer_profile()->set_company_name("Company " + customer);
    a->mutable_customer_profile()->set_primary_domain(customer + ".example.com");
    a->mutable_customer_profile()->set_country("BR");
    a->set_partner_display_name("Partner " + partner);
    pc::events::Seal(e);
    return e;
  }

  void Establish(const std::string& partner = "partner-a",
                 const std::string& customer = "customer-1", bool admin = true,
                 const std::string& reseller = "") {
    ASSERT_OK(domain_->ApplyInvitationEvent(Accepted(partner, customer, admin,
        partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP, reseller)));
  }

  absl::StatusOr<v1::Relationship> Get(const std::string& partner = "partner-a",
                                       const std::string& customer = "customer-1") {
    v1::GetRelationshipRequest req;
    req.set_partner_id(partner);
    req.set_customer_id(customer);
    return domain_->GetRelationship(Service(), req);
  }

  absl::StatusOr<v1::Relationship> Revoke(const std::string& partner = "partner-a",
                                          const std::string& customer = "customer-1",
                                          int64_t version = 0) {
    v1::RevokeAdminPermissionRequest req;
    req.set_request_id(pc::NewUuid());
    req.set_partner_id(partner);
    req.set_customer_id(customer);
    req.set_reason("moving to in-house IT");
    req.set_version(version);
    return domain_->RevokeAdminPermission(CustomerAdmin(customer), req);
  }

  absl::StatusOr<v1::Relationship> Remove(const std::string& partner = "partner-a",
                                          const std::string& customer = "customer-1") {
    v1::RemoveRelationshipRequest req;
    req.set_request_id(pc::NewUuid());
    req.set_partner_id(partner);
    req.set_customer_id(customer);
    req.set_reason("contract ended");
    return domain_->RemoveRelationship(PartnerAdmin(partner), req);
  }

  absl::StatusOr<partnercenter::common::v1::CustomerService> Provision(
      const std::string& partner = "partner-a", const std::string& customer = "customer-1") {
    v1::ProvisionServiceRequest req;
    req.set_request_id(pc::NewUuid());
    req.set_partner_id(partner);
    req.set_customer_id(customer);
    req.set_offer_id("O365_BUSINESS_PREMIUM");
    req.set_display_name("Microsoft 365 Business Premium");
    req.set_license_quantity(25);
    return domain_->ProvisionService(PartnerAdmin(partner), req);
  }

  // Row counts of every table a change writes: equal before and after a refused call.
  std::string Snapshot() {
    std::string s;
    for (const char* t : {"relationships", "customer_services", "customer_users",
                          "service_requests", "relationship_history", "relationship_requests",
                          "outbox", "applied_invitations"}) {
      s += std::string(t) + "=" + std::to_string(Count(t)) + " ";
    }
    return s;
  }

  pc::testing::FakeClock clock_{absl::FromUnixSeconds(1'750'000'000)};
  std::unique_ptr<RelationshipStore> store_;
  std::unique_ptr<AccessCache> cache_;
  FakeInvitations invitations_;
  std::unique_ptr<RelationshipDomain> domain_;
  int commits_ = 0;
};

}  // namespace pc::relationship::testing
