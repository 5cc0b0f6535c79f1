// Page-token decoding in every service: the input is a page_token (and the order it claims to
// continue), handed to every list of the three services, each on its own in-memory store
// with one row in it. A token the list did not issue is INVALID_ARGUMENT, never a crash.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "relationship_seed.h"
#include "services/invitation/src/domain.h"
#include "services/invitation/src/sql_repository.h"
#include "services/notification/src/domain.h"
#include "services/notification/src/store.h"
#include "services/relationship/src/access_cache.h"
#include "services/relationship/src/domain.h"
#include "services/relationship/src/store.h"

namespace {

namespace iv = partnercenter::invitation::v1;
namespace nv = partnercenter::notification::v1;
namespace rv = partnercenter::relationship::v1;

pc::auth::Claims Caller(const std::string& tenant, const std::string& role) {
  return {.subject = "u", .tenant_id = tenant, .cloud = "global", .roles = {role}};
}

struct Services {
  pc::fuzz::Clock clock;
  std::unique_ptr<pc::storage::Database> invitation_db = pc::fuzz::MemoryDatabase();
  std::unique_ptr<pc::storage::Database> relationship_db = pc::fuzz::MemoryDatabase();
  std::unique_ptr<pc::storage::Database> notification_db = pc::fuzz::MemoryDatabase();
  std::unique_ptr<pc::invitation::SqlRepository> repository;
  std::unique_ptr<pc::invitation::InvitationDomain> invitations;
  std::unique_ptr<pc::relationship::RelationshipStore> relationship_store;
  std::unique_ptr<pc::relationship::AccessCache> cache;
  std::unique_ptr<pc::relationship::RelationshipDomain> relationships;
  std::unique_ptr<pc::notification::NotificationStore> notification_store;
  pc::notification::FeedSignal signal;
  std::unique_ptr<pc::notification::NotificationDomain> notifications;

  Services() {
    pc::fuzz::Require(pc::invitation::SqlRepository::Migrate(*invitation_db).ok(), "migrate");
    repository = std::make_unique<pc::invitation::SqlRepository>(*invitation_db);
    invitations = std::make_unique<pc::invitation::InvitationDomain>(
        pc::invitation::DomainOptions{.cloud = "global", .portal_base_url = "https://p.example"},
        *repository, clock, nullptr);
    iv::CreateInvitationRequest create;
    create.set_request_id("r");
    create.set_kind(partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP);
    create.mutable_customer_hint()->set_email_domain("contoso.com");
    pc::fuzz::Require(invitations->Create({Caller("partner-a", "partner_admin")}, create).ok(),
                      "seed invitation");

    pc::fuzz::Require(pc::relationship::RelationshipStore::Migrate(*relationship_db).ok(), "migrate");
    relationship_store = std::make_unique<pc::relationship::RelationshipStore>(*relationship_db);
    cache = std::make_unique<pc::relationship::AccessCache>(
        [this](const std::string& p, const std::string& c) { return relationships->LoadAccess(p, c); });
    relationships = std::make_unique<pc::relationship::RelationshipDomain>(
        pc::relationship::DomainOptions{}, *relationship_store, clock, nullptr, *cache);
    pc::fuzz::SeedRelationship(*relationships, clock);

    pc::fuzz::Require(pc::notification::NotificationStore::Migrate(*notification_db).ok(), "migrate");
    notification_store = std::make_unique<pc::notification::NotificationStore>(*notification_db);
    notifications = std::make_unique<pc::notification::NotificationDomain>(
        pc::notification::DomainOptions{}, *notification_store, signal);
  }
};

Services& The() {
  static Services* services = new Services();
  return *services;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Services& s = The();
  const int order = data[0] % 4;
  const std::string token(reinterpret_cast<const char*>(data) + 1, size - 1);
  const pc::auth::Claims partner = Caller("partner-a", "partner_admin");
  const pc::auth::Claims customer = Caller("customer-1", "customer_admin");

  {
    static const char* const kOrders[] = {"create_time desc", "create_time asc",
                                          "expire_time asc", "expire_time desc"};
    iv::ListInvitationsRequest req;
    req.set_page_token(token);
    req.set_order_by(kOrders[order]);
    pc::fuzz::CheckPrecise(s.invitations->List({partner}, req).status(), "ListInvitations");
  }
  {
    static const char* const kOrders[] = {"company_name asc", "update_time desc",
                                          "create_time desc", ""};
    rv::ListRelationshipsRequest req;
    req.set_page_token(token);
    req.set_order_by(kOrders[order]);
    pc::fuzz::CheckPrecise(s.relationships->ListRelationships({partner}, req).status(),
                           "ListRelationships");
    rv::ListPartnersRequest partners;
    partners.set_customer_id("customer-1");
    partners.set_page_token(token);
    pc::fuzz::CheckPrecise(s.relationships->ListPartners({customer}, partners).status(),
                           "ListPartners");
    rv::ListHistoryRequest history;
    history.set_partner_id("partner-a");
    history.set_customer_id("customer-1");
    history.set_page_token(token);
    pc::fuzz::CheckPrecise(s.relationships->ListHistory({partner}, history).status(), "ListHistory");
    rv::ListUsersRequest users;
    users.set_partner_id("partner-a");
    users.set_customer_id("customer-1");
    users.set_page_token(token);
    pc::fuzz::CheckPrecise(s.relationships->ListUsers({partner}, users).status(), "ListUsers");
  }
  {
    nv::GetCustomersPageRequest req;
    req.set_partner_id("partner-a");
    req.set_page_token(token);
    req.set_order_by(order % 2 == 0 ? "company_name asc" : "last_change desc");
    pc::fuzz::CheckPrecise(s.notifications->GetCustomersPage({partner}, req).status(),
                           "GetCustomersPage");
    nv::GetPartnersPageRequest partners;
    partners.set_customer_id("customer-1");
    partners.set_page_token(token);
    pc::fuzz::CheckPrecise(s.notifications->GetPartnersPage({customer}, partners).status(),
                           "GetPartnersPage");
  }
  return 0;
}
