// The projector and the pages against a real store: SQLite (label unit) and PostgreSQL
// (label integration) run this same suite, so it is also the store's contract test.
#include "projector.h"

#include <algorithm>

#include "domain.h"
#include "events.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "pc/common/errors.h"
#include "pc/storage/test_database.h"
#include "pc/testing/status_matchers.h"

namespace pc::notification::testing {
namespace {

using ::pc::testing::StatusIs;
using ::testing::ElementsAre;
using Code = absl::StatusCode;

#ifdef PC_TEST_POSTGRES
constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kPostgres;
#else
constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kSqlite;
#endif

CallContext PartnerCall(const std::string& tenant) {
  return {{.subject = "u", .tenant_id = tenant, .cloud = "global", .roles = {"partner_agent"}}};
}
CallContext CustomerCall(const std::string& tenant) {
  return {{.subject = "u", .tenant_id = tenant, .cloud = "global", .roles = {"customer_admin"}}};
}

class ProjectorTest : public ::testing::Test, protected pc::storage::DatabaseFixture {
 protected:
  void SetUp() override {
    ASSERT_OK(OpenDatabase(kDialect));
    ASSERT_OK(NotificationStore::Migrate(*db_));
    store_ = std::make_unique<NotificationStore>(*db_);
    projector_ = std::make_unique<Projector>(ProjectorOptions{}, *store_, [this] { ++commits_; });
    domain_ = std::make_unique<NotificationDomain>(DomainOptions{}, *store_, signal_);
  }

  v1::CustomerRow Row(const std::string& partner, const std::string& customer) {
    v1::GetCustomersPageRequest req;
    req.set_partner_id(partner);
    auto page = domain_->GetCustomersPage(PartnerCall(partner), req);
    EXPECT_OK(page.status());
    for (const auto& r : page->customers()) {
      if (r.customer_id() == customer) return r;
    }
    ADD_FAILURE() << "no row for " << customer;
    return {};
  }

  // The partner's feed: (sequence, kind, event type).
  std::vector<std::string> PartnerFeed(const std::string& partner) {
    std::vector<std::string> out;
    EXPECT_OK(store_->InTransaction([&](StoreTx& tx) -> absl::Status {
      auto changes = tx.ChangesAfter("global", Feed::kPartner, partner, 0, 1000);
      if (!changes.ok()) return changes.status();
      for (const auto& [seq, bytes] : *changes) {
        v1::CustomerChange c;
        c.ParseFromString(bytes);
        out.push_back(absl::StrCat(seq, " ", v1::ChangeKind_Name(c.kind()), " ", c.event_type()));
      }
      return absl::OkStatus();
    }));
    return out;
  }

  EventFactory events_;
  std::unique_ptr<NotificationStore> store_;
  std::unique_ptr<Projector> projector_;
  FeedSignal signal_;
  std::unique_ptr<NotificationDomain> domain_;
  int commits_ = 0;
};

TEST_F(ProjectorTest, EveryRelationshipEventShapesBothPages) {
  ASSERT_OK(projector_->Apply(events_.Established("p1", "c1", 1, "Contoso")));
  v1::CustomerRow row = Row("p1", "c1");
  EXPECT_EQ(row.company_name(), "Contoso");
  EXPECT_EQ(row.relationship_state(), common::RELATIONSHIP_STATE_ACTIVE);
  EXPECT_EQ(row.admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_TRUE(row.support_responsible());

  ASSERT_OK(projector_->Apply(events_.Revoked("p1", "c1", 2)));
  row = Row("p1", "c1");
  EXPECT_EQ(row.admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_TRUE(row.support_responsible()) << "support stays with a revoked admin";
  EXPECT_EQ(row.last_change().summary(),
            "Admin permission revoked — support responsibility retained");
  EXPECT_EQ(row.last_change().actor().tenant_id(), "c1");

  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 3, [](ev::EventEnvelope& e) {
    e.mutable_permission_granted()->set_restored(true);
  })));
  EXPECT_EQ(Row("p1", "c1").admin_access(), common::ADMIN_ACCESS_GRANTED);

  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 4, [](ev::EventEnvelope& e) {
    auto* c = e.mutable_support_contact_assigned()->mutable_contact();
    c->set_partner_id("r1");
    c->set_name("Rita");
  })));
  EXPECT_EQ(Row("p1", "c1").support_contact().name(), "Rita");

  common::CustomerService s;
  s.set_id("s1");
  s.set_display_name("Office");
  s.set_license_quantity(10);
  s.set_state(common::SERVICE_STATE_ACTIVE);
  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 5, [&](ev::EventEnvelope& e) {
    *e.mutable_service_provisioned()->mutable_service() = s;
  })));
  s.set_id("s2");
  s.set_license_quantity(5);
  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 6, [&](ev::EventEnvelope& e) {
    *e.mutable_service_provisioned()->mutable_service() = s;
  })));
  row = Row("p1", "c1");
  EXPECT_EQ(row.active_service_count(), 2);
  EXPECT_EQ(row.license_total(), 15);
  s.set_state(common::SERVICE_STATE_CANCELED);
  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 7, [&](ev::EventEnvelope& e) {
    *e.mutable_service_changed()->mutable_service() = s;
    e.mutable_service_changed()->set_previous_state(common::SERVICE_STATE_ACTIVE);
  })));
  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 8, [](ev::EventEnvelope& e) {
    e.mutable_service_request_opened()->mutable_service_request()->set_title("Mail down");
  })));
  row = Row("p1", "c1");
  EXPECT_EQ(row.active_service_count(), 1);
  EXPECT_EQ(row.license_total(), 10);
  EXPECT_EQ(row.last_change().summary(), "Service request: Mail down");
  EXPECT_EQ(row.version(), 8);

  // The customer's Partners page shows the same facts.
  auto partners = domain_->GetPartnersPage(CustomerCall("c1"), v1::GetPartnersPageRequest());
  ASSERT_OK(partners.status());
  ASSERT_EQ(partners->partners_size(), 1);
  EXPECT_EQ(partners->partners(0).partner_display_name(), "Partner p1");
  EXPECT_EQ(partners->partners(0).admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(partners->partners(0).support_contact().name(), "Rita");
  EXPECT_EQ(partners->partners(0).active_service_count(), 1);
  EXPECT_EQ(partners->as_of_sequence(), 8);

  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 9, [](ev::EventEnvelope& e) {
    e.mutable_relationship_removed()->set_reason("done");
  })));
  auto page = domain_->GetCustomersPage(PartnerCall("p1"), v1::GetCustomersPageRequest());
  ASSERT_OK(page.status());
  EXPECT_EQ(page->customers_size(), 0) << "a removed customer leaves the page";
  EXPECT_EQ(page->as_of_sequence(), 9);
  std::vector<std::string> feed = PartnerFeed("p1");
  ASSERT_EQ(feed.size(), 9u);
  EXPECT_EQ(feed[0], "1 CHANGE_KIND_UPSERT RelationshipEstablished");
  EXPECT_EQ(feed[8], "9 CHANGE_KIND_REMOVE RelationshipRemoved");
  EXPECT_EQ(commits_, 9);
}

TEST_F(ProjectorTest, InvitationsShowWithTheirStateAndLateOlderEventsOnlyFillFacts) {
  const std::string id = pc::NewUuid();
  // Accepted (v2) arrives before Sent (v1): the state stays ACCEPTED, the hint comes from Sent.
  ASSERT_OK(projector_->Apply(events_.Invitation("p1", id, 2, [](ev::EventEnvelope& e) {
    e.set_customer_id("c9");
    e.mutable_invitation_accepted()->set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  })));
  ASSERT_OK(projector_->Apply(events_.Invitation("p1", id, 1, [](ev::EventEnvelope& e) {
    e.mutable_invitation_sent()->mutable_customer_hint()->set_email_domain("contoso.com");
    e.mutable_invitation_sent()->set_include_admin_permission(true);
  })));
  const std::string pending = pc::NewUuid();
  ASSERT_OK(projector_->Apply(events_.Invitation("p1", pending, 1, [](ev::EventEnvelope& e) {
    e.mutable_invitation_sent()->mutable_customer_hint()->set_tenant_id("c8");
  })));
  const std::string declined = pc::NewUuid();
  ASSERT_OK(projector_->Apply(events_.Invitation("p1", declined, 1, [](ev::EventEnvelope& e) {
    e.mutable_invitation_sent();
  })));
  ASSERT_OK(projector_->Apply(events_.Invitation("p1", declined, 2, [](ev::EventEnvelope& e) {
    e.mutable_invitation_declined()->set_reason("not now");
  })));
  v1::GetCustomersPageRequest req;
  req.set_include_invitations(true);
  auto page = domain_->GetCustomersPage(PartnerCall("p1"), req);
  ASSERT_OK(page.status());
  ASSERT_EQ(page->invitations_size(), 3);
  std::map<std::string, v1::InvitationRow> by_id;
  for (const auto& i : page->invitations()) by_id[i.invitation_id()] = i;
  EXPECT_EQ(by_id[id].state(), common::INVITATION_STATE_ACCEPTED);
  EXPECT_EQ(by_id[id].customer_id(), "c9");
  EXPECT_EQ(by_id[id].customer_hint().email_domain(), "contoso.com");
  EXPECT_EQ(by_id[pending].state(), common::INVITATION_STATE_PENDING);
  EXPECT_EQ(by_id[pending].last_change().summary(), "Invitation sent — awaiting customer");
  EXPECT_EQ(by_id[declined].state(), common::INVITATION_STATE_DECLINED);
  EXPECT_EQ(by_id[declined].decline_reason(), "not now");
  EXPECT_EQ(PartnerFeed("p1").size(), 4u) << "the late Sent changed no state, so no change";

  for (auto kind : {"cancel", "expire", "resend"}) {
    const std::string inv = pc::NewUuid();
    ASSERT_OK(projector_->Apply(events_.Invitation("p2", inv, 1, [](ev::EventEnvelope& e) {
      e.mutable_invitation_sent();
    })));
    ASSERT_OK(projector_->Apply(events_.Invitation("p2", inv, 2, [&](ev::EventEnvelope& e) {
      if (std::string(kind) == "cancel") e.mutable_invitation_canceled();
      if (std::string(kind) == "expire") e.mutable_invitation_expired();
      if (std::string(kind) == "resend") e.mutable_invitation_resent();
    })));
  }
  req.set_partner_id("p2");
  page = domain_->GetCustomersPage(PartnerCall("p2"), req);
  ASSERT_OK(page.status());
  std::multiset<int> states;
  for (const auto& i : page->invitations()) states.insert(i.state());
  EXPECT_EQ(states, (std::multiset<int>{common::INVITATION_STATE_PENDING,
                                        common::INVITATION_STATE_CANCELED,
                                        common::INVITATION_STATE_EXPIRED}));
}

TEST_F(ProjectorTest, DuplicatesAndOlderVersionsHaveNoEffect) {
  const ev::EventEnvelope established = events_.Established("p1", "c1", 1);
  const ev::EventEnvelope revoked = events_.Revoked("p1", "c1", 3);
  ASSERT_OK(projector_->Apply(established));
  ASSERT_OK(projector_->Apply(revoked));
  ASSERT_OK(projector_->Apply(revoked));      // redelivered
  ASSERT_OK(projector_->Apply(established));  // redelivered, and older
  // A different event with an older version (reordered): never overwrites newer state.
  ASSERT_OK(projector_->Apply(events_.Relationship("p1", "c1", 2, [](ev::EventEnvelope& e) {
    e.mutable_permission_granted();
  })));
  EXPECT_EQ(Row("p1", "c1").admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(Row("p1", "c1").version(), 3);
  EXPECT_THAT(PartnerFeed("p1"), ElementsAre("1 CHANGE_KIND_UPSERT RelationshipEstablished",
                                             "2 CHANGE_KIND_UPSERT PermissionRevoked"));
  EXPECT_EQ(projector_->duplicates(), 2u);
  EXPECT_EQ(projector_->stale(), 1u);
}

TEST_F(ProjectorTest, UnknownFutureTypesAreIgnoredAndCountedPoisonIsPermanent) {
  ev::EventEnvelope future = events_.Established("p1", "c1", 1);
  future.clear_payload();
  future.set_type("PartnerTierChanged");  // a newer producer's event
  ASSERT_OK(projector_->ApplyBytes(future.SerializeAsString()));
  EXPECT_EQ(projector_->unknown_types(), 1u);
  EXPECT_TRUE(PartnerFeed("p1").empty());

  EXPECT_THAT(projector_->ApplyBytes("\xff\xfe not protobuf"), StatusIs(Code::kDataLoss));
  ev::EventEnvelope no_partner = events_.Established("p1", "c1", 1);
  no_partner.set_partner_id("");
  EXPECT_THAT(projector_->ApplyBytes(no_partner.SerializeAsString()),
              StatusIs(Code::kInvalidArgument));
  ev::EventEnvelope foreign = events_.Established("p1", "c1", 1);
  foreign.set_cloud(common::CLOUD_USGOV);
  EXPECT_THAT(projector_->ApplyBytes(foreign.SerializeAsString()),
              StatusIs(Code::kFailedPrecondition, pc::reason::kCloudMismatch));
  EXPECT_TRUE(PartnerFeed("p1").empty());
}

TEST_F(ProjectorTest, ABatchAppliesInOneTransactionAndAPoisonedBatchWritesNothing) {
  const ev::EventEnvelope established = events_.Established("p1", "c1", 1);
  const ev::EventEnvelope revoked = events_.Revoked("p1", "c1", 2);
  ev::EventEnvelope future = events_.Established("p1", "c2", 1);
  future.clear_payload();
  future.set_type("PartnerTierChanged");
  // In order, with a duplicate inside the batch and an unknown type: one effect each.
  ASSERT_OK(projector_->ApplyBatch({established.SerializeAsString(), revoked.SerializeAsString(),
                                    established.SerializeAsString(), future.SerializeAsString()}));
  EXPECT_EQ(Row("p1", "c1").admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_THAT(PartnerFeed("p1"), ElementsAre("1 CHANGE_KIND_UPSERT RelationshipEstablished",
                                             "2 CHANGE_KIND_UPSERT PermissionRevoked"));
  EXPECT_EQ(projector_->duplicates(), 1u);
  EXPECT_EQ(projector_->unknown_types(), 1u);
  EXPECT_EQ(commits_, 1) << "one transaction, one wake-up";
  // A poison message fails the whole batch before anything is written.
  const ev::EventEnvelope more = events_.Established("p1", "c3", 1);
  EXPECT_THAT(projector_->ApplyBatch({more.SerializeAsString(), "\xff not an envelope"}),
              StatusIs(Code::kDataLoss));
  EXPECT_EQ(PartnerFeed("p1").size(), 2u);
}

// Every filter and order, paged 7 rows at a time, against the same rows filtered and sorted
// here: the index arms (admin state × name range × domain-only range) lose and repeat nothing.
TEST_F(ProjectorTest, EveryFilterAndOrderPagesLikeABruteForceFilterAndSort) {
  struct Seeded {
    std::string id, name, domain;
    common::AdminAccess admin;
    int last;  // index of the last event applied: later events have later times
  };
  std::vector<Seeded> rows;
  int event = 0;
  const char* names[] = {"Co ", "Cobalt ", "Ab ", "Zed "};
  const char* ids[] = {"co", "ab", "cx"};
  for (int i = 0; i < 90; ++i) {
    Seeded r;
    r.id = absl::StrCat(ids[(i * 5) % 3], i);
    r.name = absl::StrCat(names[(i * 7) % 4], i);
    r.domain = r.id + ".example.com";
    r.admin = common::ADMIN_ACCESS_GRANTED;
    ASSERT_OK(projector_->Apply(events_.Established("p1", r.id, 1, r.name)));
    r.last = event++;
    rows.push_back(r);
  }
  ASSERT_OK(projector_->Apply(events_.Established("p2", "co999", 1, "Co other partner")));
  for (int i = 0; i < 90; i += 3) {
    ASSERT_OK(projector_->Apply(events_.Revoked("p1", rows[i].id, 2)));
    rows[i].admin = common::ADMIN_ACCESS_REVOKED;
    rows[i].last = event++;
  }
  const std::vector<std::string> prefixes = {"", "co", "cob", "co1", "ab", "zzq", "cx1"};
  const std::vector<std::vector<common::AdminAccess>> filters = {
      {}, {common::ADMIN_ACCESS_REVOKED}, {common::ADMIN_ACCESS_GRANTED, common::ADMIN_ACCESS_REVOKED}};
  for (const bool by_change : {false, true}) {
    for (const std::string& prefix : prefixes) {
      for (const auto& filter : filters) {
        std::vector<Seeded> want;
        for (const Seeded& r : rows) {
          const bool admin_ok = filter.empty() || std::find(filter.begin(), filter.end(),
                                                            r.admin) != filter.end();
          const bool prefix_ok = absl::StartsWith(absl::AsciiStrToLower(r.name), prefix) ||
                                 absl::StartsWith(r.domain, prefix);
          if (admin_ok && prefix_ok) want.push_back(r);
        }
        std::sort(want.begin(), want.end(), [&](const Seeded& a, const Seeded& b) {
          if (by_change) return a.last > b.last;
          const std::string la = absl::AsciiStrToLower(a.name), lb = absl::AsciiStrToLower(b.name);
          return la != lb ? la < lb : a.id < b.id;
        });
        std::vector<std::string> want_ids, got;
        for (const Seeded& r : want) want_ids.push_back(r.id);
        v1::GetCustomersPageRequest req;
        req.set_page_size(7);
        req.set_name_prefix(absl::AsciiStrToUpper(prefix));  // matched case-insensitively
        for (common::AdminAccess a : filter) req.add_admin_access(a);
        if (by_change) req.set_order_by("last_change desc");
        for (int page = 0; page < 30; ++page) {
          auto got_page = domain_->GetCustomersPage(PartnerCall("p1"), req);
          ASSERT_OK(got_page.status());
          for (const auto& r : got_page->customers()) got.push_back(r.customer_id());
          if (got_page->next_page_token().empty()) break;
          req.set_page_token(got_page->next_page_token());
        }
        EXPECT_EQ(got, want_ids) << "prefix \"" << prefix << "\", " << filter.size()
                                 << " admin states, by_change " << by_change;
      }
    }
  }
}

TEST_F(ProjectorTest, PagesFilterSortPageAndStayInTheirTenant) {
  for (const char* c : {"delta", "alpha", "echo", "bravo", "charlie"}) {
    ASSERT_OK(projector_->Apply(events_.Established("p1", c, 1, std::string("Co ") + c)));
  }
  ASSERT_OK(projector_->Apply(events_.Established("p2", "zulu", 1)));
  ASSERT_OK(projector_->Apply(events_.Revoked("p1", "echo", 2)));
  v1::GetCustomersPageRequest req;
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto page = domain_->GetCustomersPage(PartnerCall("p1"), req);
    ASSERT_OK(page.status());
    for (const auto& r : page->customers()) seen.push_back(r.customer_id());
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre("alpha", "bravo", "charlie", "delta", "echo"));

  v1::GetCustomersPageRequest revoked;
  revoked.add_admin_access(common::ADMIN_ACCESS_REVOKED);
  auto only = domain_->GetCustomersPage(PartnerCall("p1"), revoked);
  ASSERT_OK(only.status());
  ASSERT_EQ(only->customers_size(), 1);
  EXPECT_EQ(only->customers(0).customer_id(), "echo");

  v1::GetCustomersPageRequest recent;
  recent.set_order_by("last_change desc");
  auto by_time = domain_->GetCustomersPage(PartnerCall("p1"), recent);
  ASSERT_OK(by_time.status());
  EXPECT_EQ(by_time->customers(0).customer_id(), "echo");

  v1::GetCustomersPageRequest prefix;
  prefix.set_name_prefix("CO B");
  auto b = domain_->GetCustomersPage(PartnerCall("p1"), prefix);
  ASSERT_OK(b.status());
  ASSERT_EQ(b->customers_size(), 1);

  v1::GetCustomersPageRequest foreign;
  foreign.set_partner_id("p2");
  EXPECT_THAT(domain_->GetCustomersPage(PartnerCall("p1"), foreign),
              StatusIs(Code::kPermissionDenied));
  v1::GetPartnersPageRequest other_customer;
  other_customer.set_customer_id("zulu");
  EXPECT_THAT(domain_->GetPartnersPage(CustomerCall("alpha"), other_customer),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(domain_->GetPartnersPage(PartnerCall("p1"), v1::GetPartnersPageRequest()),
              StatusIs(Code::kPermissionDenied));
  v1::GetCustomersPageRequest bad;
  bad.set_page_size(500);
  EXPECT_THAT(domain_->GetCustomersPage(PartnerCall("p1"), bad), StatusIs(Code::kInvalidArgument));
  bad.set_page_size(0);
  bad.set_order_by("nope");
  EXPECT_THAT(domain_->GetCustomersPage(PartnerCall("p1"), bad), StatusIs(Code::kInvalidArgument));
  bad.set_order_by("");
  bad.set_page_token("garbage");
  EXPECT_THAT(domain_->GetCustomersPage(PartnerCall("p1"), bad), StatusIs(Code::kInvalidArgument));
}

// More than 65 535 entries used to be as many SQL placeholders, which broke the statement.
TEST_F(ProjectorTest, RepeatedAdminAccessFilterIsOnePlaceholderEach) {
  ASSERT_OK(projector_->Apply(events_.Established("p1", "c1", 1, "Contoso")));
  v1::GetCustomersPageRequest req;
  req.set_partner_id("p1");
  for (int i = 0; i < 70'000; ++i) req.add_admin_access(common::ADMIN_ACCESS_GRANTED);
  auto page = domain_->GetCustomersPage(PartnerCall("p1"), req);
  ASSERT_OK(page.status());
  EXPECT_EQ(page->customers_size(), 1);
}

}  // namespace
}  // namespace pc::notification::testing
