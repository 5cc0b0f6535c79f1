// The invitation domain against a real store: SQLite (label unit) and PostgreSQL (label
// integration) run this same suite, so it is also the repository contract test.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain.h"
#include "email_draft.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/errors.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/storage/test_database.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/status_matchers.h"
#include "sql_repository.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
using ::pc::testing::IsOk;
using ::pc::testing::IsOkAndHolds;
using ::pc::testing::StatusIs;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

#ifdef PC_TEST_POSTGRES
constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kPostgres;
#else
constexpr pc::storage::Dialect kDialect = pc::storage::Dialect::kSqlite;
#endif

CallContext Partner(const std::string& tenant = "partner-a") {
  return {{.subject = "user-" + tenant, .tenant_id = tenant, .cloud = "global",
           .roles = {"partner_admin"}, .display_name = "Fabrikam " + tenant},
          "corr-1"};
}
CallContext Agent(const std::string& tenant = "partner-a") {
  return {{.subject = "agent", .tenant_id = tenant, .cloud = "global", .roles = {"partner_agent"}},
          ""};
}
// A customer admin whose token proves `verified_domains` (by default the domain the
// tests' invitations hint, so hinted invitations are acceptable unless a test says not).
CallContext Customer(const std::string& tenant = "customer-1",
                     std::vector<std::string> verified_domains = {"contoso.com"}) {
  CallContext call{{.subject = "admin@" + tenant, .tenant_id = tenant, .cloud = "global",
                    .roles = {"customer_admin"}},
                   "corr-2"};
  call.claims.verified_domains = std::move(verified_domains);
  return call;
}

std::string TokenOf(const v1::EmailDraft& draft) {
  const std::string marker = "token=";
  return draft.link().substr(draft.link().find(marker) + marker.size());
}

common::CustomerProfile Profile(const std::string& domain = "contoso.com") {
  common::CustomerProfile p;
  p.set_company_name("Contoso Ltd");
  p.set_primary_domain(domain);
  p.set_country("BR");
  return p;
}

class InvitationDomainTest : public ::testing::Test, protected pc::storage::DatabaseFixture {
 protected:
  void SetUp() override {
    ASSERT_OK(OpenDatabase(kDialect));
    ASSERT_OK(SqlRepository::Migrate(*db_));
    repository_ = std::make_unique<SqlRepository>(*db_);
    domain_ = std::make_unique<InvitationDomain>(
        DomainOptions{.cloud = "global", .portal_base_url = "https://portal.example"},
        *repository_, clock_, nullptr, [this] { ++commits_; });
  }

  v1::CreateInvitationRequest Request(const std::string& request_id = "req-1") {
    v1::CreateInvitationRequest req;
    req.set_request_id(request_id);
    req.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    req.set_include_admin_permission(true);
    req.mutable_customer_hint()->set_email_domain("contoso.com");
    req.set_message("Looking forward to working with you.");
    return req;
  }

  v1::CreateInvitationResponse MustCreate(const v1::CreateInvitationRequest& req,
                                          const CallContext& call = Partner()) {
    auto created = domain_->Create(call, req);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::CreateInvitationResponse();
  }

  absl::StatusOr<v1::AcceptInvitationResponse> Accept(const std::string& token,
                                                      const CallContext& call = Customer(),
                                                      const std::string& domain = "contoso.com") {
    v1::AcceptInvitationRequest req;
    req.set_request_id("accept-1");
    req.set_token(token);
    *req.mutable_customer_profile() = Profile(domain);
    return domain_->Accept(call, req);
  }

  absl::StatusOr<v1::Invitation> Decline(const std::string& token,
                                         const CallContext& call = Customer()) {
    v1::DeclineInvitationRequest req;
    req.set_request_id("decline-1");
    req.set_token(token);
    req.set_reason("We already have a partner");
    return domain_->Decline(call, req);
  }

  absl::StatusOr<v1::Invitation> Cancel(const std::string& id,
                                        const std::string& request_id = "cancel-1") {
    v1::CancelInvitationRequest req;
    req.set_request_id(request_id);
    req.set_id(id);
    return domain_->Cancel(Partner(), req);
  }

  absl::StatusOr<v1::ResendInvitationResponse> Resend(const std::string& id,
                                                      const std::string& request_id = "resend-1") {
    v1::ResendInvitationRequest req;
    req.set_request_id(request_id);
    req.set_id(id);
    return domain_->Resend(Partner(), req);
  }

  absl::StatusOr<v1::InvitationPreview> Preview(const std::string& token,
                                                const CallContext& call = Customer()) {
    v1::PreviewInvitationRequest req;
    req.set_token(token);
    return domain_->Preview(call, req);
  }

  // Everything stored, as text, for secret-leak checks.
  std::string Dump() {
    std::string dump;
    EXPECT_OK(db_->InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      for (const char* table : {"invitations", "invitation_requests", "outbox"}) {
        auto rows = tx.Query(absl::StrCat("SELECT * FROM ", table));
        if (!rows.ok()) return rows.status();
        for (const auto& row : *rows) {
          for (size_t i = 0; i < row.size(); ++i) {
            auto v = row.values()[i];
            if (auto t = v.AsText(); t.ok()) absl::StrAppend(&dump, *t, "\n");
            if (auto b = v.AsBytes(); b.ok()) absl::StrAppend(&dump, *b, "\n");
          }
        }
      }
      return absl::OkStatus();
    }));
    return dump;
  }

  pc::testing::FakeClock clock_{absl::FromUnixSeconds(1'750'000'000)};
  std::unique_ptr<SqlRepository> repository_;
  std::unique_ptr<InvitationDomain> domain_;
  int commits_ = 0;
};

TEST_F(InvitationDomainTest, CreateDraftsAnEmailWithASingleUseLinkAndEmitsInvitationSent) {
  const auto created = MustCreate(Request());
  const v1::Invitation& inv = created.invitation();
  EXPECT_EQ(inv.state(), common::INVITATION_STATE_PENDING);
  EXPECT_EQ(inv.partner_id(), "partner-a");
  EXPECT_EQ(inv.version(), 1);
  EXPECT_EQ(inv.expire_time().seconds() - inv.create_time().seconds(), 30 * 24 * 3600);
  const v1::EmailDraft& draft = created.email_draft();
  EXPECT_TRUE(absl::StartsWith(draft.link(), "https://portal.example/invitations/accept?token="));
  EXPECT_EQ(TokenOf(draft).size(), 43u);
  EXPECT_THAT(draft.body(), HasSubstr(draft.link()));
  EXPECT_THAT(draft.body(), HasSubstr("Looking forward to working with you."));
  EXPECT_THAT(draft.subject(), HasSubstr("Fabrikam partner-a"));
  EXPECT_TRUE(absl::StartsWith(draft.mailto_url(), "mailto:?subject=Fabrikam%20partner-a"));
  EXPECT_THAT(draft.mailto_url(), HasSubstr(MailtoEncode(draft.link())));
  EXPECT_EQ(commits_, 1);

  const auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.type(), "InvitationSent");
  EXPECT_EQ(e.aggregate_id(), inv.id());
  EXPECT_EQ(e.aggregate_version(), 1);
  EXPECT_EQ(e.partner_id(), "partner-a");
  EXPECT_EQ(e.cloud(), common::CLOUD_GLOBAL);
  EXPECT_EQ(e.correlation_id(), "corr-1");
  EXPECT_EQ(e.actor().kind(), common::ACTOR_KIND_PARTNER_USER);
  EXPECT_EQ(e.invitation_sent().customer_hint().email_domain(), "contoso.com");
  EXPECT_TRUE(e.invitation_sent().include_admin_permission());
}

TEST_F(InvitationDomainTest, NoRawTokenIsEverStored) {
  const auto created = MustCreate(Request());
  auto resent = Resend(created.invitation().id());
  ASSERT_THAT(resent, IsOk());
  const std::string dump = Dump();
  ASSERT_FALSE(dump.empty());
  EXPECT_THAT(dump, HasSubstr(created.invitation().id()));  // the dump is real
  EXPECT_THAT(dump, ::testing::Not(HasSubstr(TokenOf(created.email_draft()))));
  EXPECT_THAT(dump, ::testing::Not(HasSubstr(TokenOf(resent->email_draft()))));
}

TEST_F(InvitationDomainTest, CreateIsIdempotentByRequestId) {
  const auto first = MustCreate(Request("same"));
  const auto again = MustCreate(Request("same"));
  EXPECT_EQ(again.invitation().id(), first.invitation().id());
  EXPECT_EQ(EventTypes(), std::vector<std::string>{"InvitationSent"});
  // The retry's link works; the first one (possibly never seen) no longer does.
  EXPECT_THAT(Preview(TokenOf(again.email_draft())), IsOk());
  EXPECT_THAT(Preview(TokenOf(first.email_draft())), StatusIs(Code::kNotFound));
  // The same request id for a different request is refused.
  auto other = Request("same");
  other.set_message("different");
  EXPECT_THAT(domain_->Create(Partner(), other),
              StatusIs(Code::kInvalidArgument, reason::kInvalidField));
}

TEST_F(InvitationDomainTest, OnePendingInvitationPerPartnerCustomerAndKind) {
  const auto first = MustCreate(Request("r1"));
  auto second = domain_->Create(Partner(), Request("r2"));
  EXPECT_THAT(second, StatusIs(Code::kAlreadyExists, reason::kPendingInvitationExists));
  EXPECT_EQ(pc::ReasonMetadataOf(second.status()).at("invitation_id"), first.invitation().id());
  // Another partner, or another customer, is fine.
  EXPECT_THAT(domain_->Create(Partner("partner-b"), Request("r3")), IsOk());
  auto other_customer = Request("r4");
  other_customer.mutable_customer_hint()->set_email_domain("northwind.com");
  EXPECT_THAT(domain_->Create(Partner(), other_customer), IsOk());
  // Once the first is no longer pending, a new one may be created.
  ASSERT_THAT(Cancel(first.invitation().id()), IsOk());
  EXPECT_THAT(domain_->Create(Partner(), Request("r5")), IsOk());
}

TEST_F(InvitationDomainTest, AcceptIsSingleUseAndIdempotentForTheSameCustomer) {
  const auto created = MustCreate(Request());
  const std::string token = TokenOf(created.email_draft());
  auto accepted = Accept(token);
  ASSERT_THAT(accepted, IsOk());
  EXPECT_EQ(accepted->invitation().state(), common::INVITATION_STATE_ACCEPTED);
  EXPECT_EQ(accepted->invitation().customer_id(), "customer-1");
  EXPECT_EQ(accepted->invitation().version(), 2);

  auto again = Accept(token);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->invitation().version(), 2);
  EXPECT_THAT(Accept(token, Customer("customer-2")),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));

  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "InvitationAccepted");
  EXPECT_EQ(events[1].customer_id(), "customer-1");
  EXPECT_EQ(events[1].aggregate_version(), 2);
  EXPECT_EQ(events[1].invitation_accepted().customer_profile().company_name(), "Contoso Ltd");
  EXPECT_EQ(events[1].actor().kind(), common::ACTOR_KIND_CUSTOMER_ADMIN);
}

// Two replicas (two connections) accept one link at the same moment. On PostgreSQL both have
// read it PENDING before either updates it (RunWritesTogether), so the version check decides.
class RacingAcceptTest : public InvitationDomainTest {
 protected:
  // Runs `a` and `b` at once, each against its own replica of the domain.
  void Race(const std::function<void(InvitationDomain&)>& a,
            const std::function<void(InvitationDomain&)>& b) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<pc::storage::Database> db_b, test_db_->Open());
    SqlRepository repository_b(*db_b);
    InvitationDomain replica_b(
        DomainOptions{.cloud = "global", .portal_base_url = "https://portal.example"},
        repository_b, clock_, nullptr);
    ASSERT_OK(pc::storage::RunWritesTogether(*test_db_, "invitations", "UPDATE invitations",
                                             {[&] { a(*domain_); }, [&] { b(replica_b); }}));
  }

  v1::AcceptInvitationRequest AcceptRequest(const std::string& token, const std::string& id) {
    v1::AcceptInvitationRequest req;
    req.set_request_id(id);
    req.set_token(token);
    *req.mutable_customer_profile() = Profile("contoso.com");
    return req;
  }
};

TEST_F(RacingAcceptTest, TheSameCustomerTwiceGetsOneAcceptanceAndTheSameAnswer) {
  v1::CreateInvitationRequest req = Request();
  req.clear_customer_hint();
  const std::string token = TokenOf(MustCreate(req).email_draft());
  absl::StatusOr<v1::AcceptInvitationResponse> a, b;
  Race([&](InvitationDomain& d) { a = d.Accept(Customer(), AcceptRequest(token, "a")); },
       [&](InvitationDomain& d) { b = d.Accept(Customer(), AcceptRequest(token, "b")); });
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->invitation().version(), 2);
  EXPECT_EQ(b->invitation().version(), 2);
  EXPECT_THAT(EventTypes(), ::testing::ElementsAre("InvitationSent", "InvitationAccepted"));
}

TEST_F(RacingAcceptTest, AnotherCustomerRacingGetsTheGenericInvalidLinkError) {
  v1::CreateInvitationRequest req = Request();
  req.clear_customer_hint();
  const std::string token = TokenOf(MustCreate(req).email_draft());
  absl::StatusOr<v1::AcceptInvitationResponse> a, b;
  Race([&](InvitationDomain& d) { a = d.Accept(Customer("c-a"), AcceptRequest(token, "a")); },
       [&](InvitationDomain& d) { b = d.Accept(Customer("c-b"), AcceptRequest(token, "b")); });
  const bool a_won = a.ok();
  EXPECT_NE(a.ok(), b.ok()) << a.status() << " / " << b.status();
  EXPECT_THAT(a_won ? b.status() : a.status(),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  EXPECT_THAT(EventTypes(), ::testing::ElementsAre("InvitationSent", "InvitationAccepted"));
  EXPECT_EQ(Events()[1].customer_id(), a_won ? "c-a" : "c-b");
}

TEST_F(InvitationDomainTest, EveryUnusableLinkGetsTheSameError) {
  const absl::Status expected = InvitationDomain::InvalidLinkError();
  auto unknown = Accept(pc::RandomUrlSafeToken(32));

  const auto used = MustCreate(Request("u"));
  ASSERT_THAT(Accept(TokenOf(used.email_draft()), Customer("c-used")), IsOk());
  auto used_by_other = Accept(TokenOf(used.email_draft()));

  auto canceled_req = Request("c");
  canceled_req.mutable_customer_hint()->set_email_domain("canceled.com");
  const auto canceled = MustCreate(canceled_req);
  ASSERT_THAT(Cancel(canceled.invitation().id()), IsOk());
  auto after_cancel = Accept(TokenOf(canceled.email_draft()), Customer(), "canceled.com");

  auto declined_req = Request("d");
  declined_req.mutable_customer_hint()->set_email_domain("declined.com");
  const auto declined = MustCreate(declined_req);
  ASSERT_THAT(Decline(TokenOf(declined.email_draft()), Customer("c-declined", {"declined.com"})), IsOk());
  auto after_decline = Accept(TokenOf(declined.email_draft()), Customer(), "declined.com");

  auto expired_req = Request("e");
  expired_req.mutable_customer_hint()->set_email_domain("expired.com");
  const auto expired = MustCreate(expired_req);
  clock_.Advance(absl::Hours(24 * 31));
  auto after_expiry = Accept(TokenOf(expired.email_draft()), Customer(), "expired.com");

  for (const auto* result : {&unknown, &used_by_other, &after_cancel, &after_decline,
                             &after_expiry}) {
    ASSERT_FALSE(result->ok());
    EXPECT_EQ(result->status().code(), expected.code());
    EXPECT_EQ(result->status().message(), expected.message());
    EXPECT_EQ(pc::ReasonOf(result->status()), reason::kInvalidInvitationLink);
  }
}

TEST_F(InvitationDomainTest, ExpiryIsExactAtTheBoundary) {
  auto req = Request();
  req.set_validity_days(1);
  const auto created = MustCreate(req);
  const std::string token = TokenOf(created.email_draft());
  clock_.Advance(absl::Hours(24) - absl::Microseconds(1));
  EXPECT_THAT(Preview(token), IsOk());
  EXPECT_THAT(domain_->ExpireDue(), IsOkAndHolds(0));
  clock_.Advance(absl::Microseconds(1));
  EXPECT_THAT(Preview(token), StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  EXPECT_THAT(domain_->ExpireDue(), IsOkAndHolds(1));
  EXPECT_THAT(domain_->ExpireDue(), IsOkAndHolds(0));  // no second expiry
  EXPECT_EQ(EventTypes(), (std::vector<std::string>{"InvitationSent", "InvitationExpired"}));
  v1::GetInvitationRequest get;
  get.set_id(created.invitation().id());
  EXPECT_EQ(domain_->Get(Partner(), get)->state(), common::INVITATION_STATE_EXPIRED);
}

TEST_F(InvitationDomainTest, ResendKillsTheOldLink) {
  const auto created = MustCreate(Request());
  auto resent = Resend(created.invitation().id());
  ASSERT_THAT(resent, IsOk());
  EXPECT_EQ(resent->invitation().id(), created.invitation().id());
  EXPECT_EQ(resent->invitation().version(), 2);
  EXPECT_NE(resent->email_draft().link(), created.email_draft().link());
  EXPECT_THAT(Accept(TokenOf(created.email_draft())),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  EXPECT_THAT(Accept(TokenOf(resent->email_draft())), IsOk());
  EXPECT_EQ(EventTypes(), (std::vector<std::string>{"InvitationSent", "InvitationResent",
                                                    "InvitationAccepted"}));
}

// Every command from every state: what is allowed, and the exact refusal otherwise.
enum class Start { kPending, kAccepted, kDeclined, kCanceled, kExpired };
enum class Command { kAccept, kDecline, kCancel, kResend, kPreview };

struct Transition {
  Start start;
  Command command;
  Code code;
  std::string reason;
  common::InvitationState end;
};

const char* StartName(Start s) {
  static const char* const kNames[] = {"Pending", "Accepted", "Declined", "Canceled", "Expired"};
  return kNames[static_cast<int>(s)];
}
const char* CommandName(Command c) {
  static const char* const kNames[] = {"Accept", "Decline", "Cancel", "Resend", "Preview"};
  return kNames[static_cast<int>(c)];
}
void PrintTo(const Transition& t, std::ostream* os) {
  *os << CommandName(t.command) << "When" << StartName(t.start);
}

class StateMachineTest : public InvitationDomainTest,
                         public ::testing::WithParamInterface<Transition> {};

TEST_P(StateMachineTest, AppliesOrRefuses) {
  const Transition& t = GetParam();
  const auto created = MustCreate(Request());
  const std::string id = created.invitation().id();
  const std::string token = TokenOf(created.email_draft());
  switch (t.start) {
    case Start::kPending: break;
    case Start::kAccepted: ASSERT_THAT(Accept(token, Customer("other")), IsOk()); break;
    case Start::kDeclined: ASSERT_THAT(Decline(token, Customer("other")), IsOk()); break;
    case Start::kCanceled: ASSERT_THAT(Cancel(id, "setup"), IsOk()); break;
    case Start::kExpired:
      clock_.Advance(absl::Hours(24 * 30));
      ASSERT_THAT(domain_->ExpireDue(), IsOkAndHolds(1));
      break;
  }
  const size_t events_before = Events().size();
  absl::Status status;
  switch (t.command) {
    case Command::kAccept: status = Accept(token).status(); break;
    case Command::kDecline: status = Decline(token).status(); break;
    case Command::kCancel: status = Cancel(id).status(); break;
    case Command::kResend: status = Resend(id).status(); break;
    case Command::kPreview: status = Preview(token).status(); break;
  }
  EXPECT_EQ(status.code(), t.code) << status;
  EXPECT_EQ(pc::ReasonOf(status), t.reason);
  v1::GetInvitationRequest get;
  get.set_id(id);
  EXPECT_EQ(domain_->Get(Partner(), get)->state(), t.end);
  const bool changes = t.code == Code::kOk && t.command != Command::kPreview;
  EXPECT_EQ(Events().size(), events_before + (changes ? 1 : 0));
}

const std::string kLink = reason::kInvalidInvitationLink;
const std::string kNotPending = reason::kInvitationNotPending;
using S = common::InvitationState;
INSTANTIATE_TEST_SUITE_P(
    EveryCommandFromEveryState, StateMachineTest,
    ::testing::Values(
        Transition{Start::kPending, Command::kAccept, Code::kOk, "", S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kPending, Command::kDecline, Code::kOk, "", S::INVITATION_STATE_DECLINED},
        Transition{Start::kPending, Command::kCancel, Code::kOk, "", S::INVITATION_STATE_CANCELED},
        Transition{Start::kPending, Command::kResend, Code::kOk, "", S::INVITATION_STATE_PENDING},
        Transition{Start::kPending, Command::kPreview, Code::kOk, "", S::INVITATION_STATE_PENDING},
        Transition{Start::kAccepted, Command::kAccept, Code::kNotFound, kLink, S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kAccepted, Command::kDecline, Code::kNotFound, kLink, S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kAccepted, Command::kCancel, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kAccepted, Command::kResend, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kAccepted, Command::kPreview, Code::kNotFound, kLink, S::INVITATION_STATE_ACCEPTED},
        Transition{Start::kDeclined, Command::kAccept, Code::kNotFound, kLink, S::INVITATION_STATE_DECLINED},
        Transition{Start::kDeclined, Command::kDecline, Code::kNotFound, kLink, S::INVITATION_STATE_DECLINED},
        Transition{Start::kDeclined, Command::kCancel, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_DECLINED},
        Transition{Start::kDeclined, Command::kResend, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_DECLINED},
        Transition{Start::kDeclined, Command::kPreview, Code::kNotFound, kLink, S::INVITATION_STATE_DECLINED},
        Transition{Start::kCanceled, Command::kAccept, Code::kNotFound, kLink, S::INVITATION_STATE_CANCELED},
        Transition{Start::kCanceled, Command::kDecline, Code::kNotFound, kLink, S::INVITATION_STATE_CANCELED},
        Transition{Start::kCanceled, Command::kCancel, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_CANCELED},
        Transition{Start::kCanceled, Command::kResend, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_CANCELED},
        Transition{Start::kCanceled, Command::kPreview, Code::kNotFound, kLink, S::INVITATION_STATE_CANCELED},
        Transition{Start::kExpired, Command::kAccept, Code::kNotFound, kLink, S::INVITATION_STATE_EXPIRED},
        Transition{Start::kExpired, Command::kDecline, Code::kNotFound, kLink, S::INVITATION_STATE_EXPIRED},
        Transition{Start::kExpired, Command::kCancel, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_EXPIRED},
        Transition{Start::kExpired, Command::kResend, Code::kFailedPrecondition, kNotPending, S::INVITATION_STATE_EXPIRED},
        Transition{Start::kExpired, Command::kPreview, Code::kNotFound, kLink, S::INVITATION_STATE_EXPIRED}),
    [](const auto& info) { return ::testing::PrintToString(info.param); });

TEST_F(InvitationDomainTest, CustomerHintDecidesWhoMayAccept) {
  auto by_tenant = Request("t");
  by_tenant.mutable_customer_hint()->set_tenant_id("customer-9");
  const auto t = MustCreate(by_tenant);
  EXPECT_THAT(Accept(TokenOf(t.email_draft()), Customer("customer-1")),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  EXPECT_THAT(Accept(TokenOf(t.email_draft()), Customer("customer-9")), IsOk());

  const auto d = MustCreate(Request("d"));  // hint: contoso.com
  EXPECT_THAT(Accept(TokenOf(d.email_draft()), Customer("customer-2", {"northwind.com"}),
                     "northwind.com"),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  // Proven by the token's verified_domains claim (case-insensitive): accepted, whatever is
  // typed as the profile's primary domain.
  EXPECT_THAT(Accept(TokenOf(d.email_draft()), Customer("customer-2", {"northwind.com", "CONTOSO.com"}),
                     "northwind.com"),
              IsOk());
}

// The reported attack: a tenant that has not proven the hinted domain types it (in any case)
// as its primary domain. It gets the generic invalid-link answer on every link call, and
// nothing is written.
TEST_F(InvitationDomainTest, ATypedDomainNeverSatisfiesAnEmailDomainHint) {
  auto req = Request("victim");
  req.mutable_customer_hint()->set_email_domain("victim.example");
  const std::string token = TokenOf(MustCreate(req).email_draft());
  const size_t events = Events().size();
  const CallContext attacker = Customer("attacker", {});
  const CallContext other_domain = Customer("attacker-2", {"attacker.example"});
  const CallContext sub_domain = Customer("attacker-3", {"evil.victim.example"});
  for (const CallContext* caller : {&attacker, &other_domain, &sub_domain}) {
    SCOPED_TRACE(caller->claims.tenant_id);
    EXPECT_THAT(Preview(token, *caller), StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
    EXPECT_THAT(Accept(token, *caller, "VICTIM.example"),
                StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
    EXPECT_THAT(Decline(token, *caller), StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  }
  EXPECT_EQ(Events().size(), events);
  // The victim, whose token proves the domain, still can.
  ASSERT_THAT(Accept(token, Customer("victim", {"victim.example"}), "victim.example"), IsOk());
  EXPECT_EQ(Events().back().customer_id(), "victim");
}

TEST_F(InvitationDomainTest, APartnerCannotInviteOrBecomeItsOwnCustomer) {
  auto self = Request("self");
  self.mutable_customer_hint()->set_tenant_id("partner-a");
  auto refused = domain_->Create(Partner("partner-a"), self);
  EXPECT_THAT(refused, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(pc::ReasonMetadataOf(refused.status()).at("field"), "customer_hint.tenant_id");
  // An invitation without a tenant hint cannot be accepted by the inviting tenant either.
  auto open = Request("open");
  open.clear_customer_hint();
  const std::string token = TokenOf(MustCreate(open).email_draft());
  EXPECT_THAT(Accept(token, Customer("partner-a")),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
  EXPECT_THAT(Accept(token, Customer("customer-1")), IsOk());
}

// Records eligibility questions; answers ALREADY_EXISTS for the pairs in `active`.
class FakeEligibility : public EligibilityChecker {
 public:
  absl::Status Check(const CallContext&, const std::string& partner_id,
                     const std::string& customer_tenant_id, common::InvitationKind) override {
    asked.push_back(partner_id + "/" + customer_tenant_id);
    if (active.count(partner_id + "/" + customer_tenant_id)) {
      return pc::WithReason(absl::AlreadyExistsError("active"), reason::kRelationshipExists);
    }
    return absl::OkStatus();
  }
  std::set<std::string> active;
  std::vector<std::string> asked;
};

TEST_F(InvitationDomainTest, AnEmailDomainHintForAnActiveCustomerIsRefusedLikeATenantHint) {
  FakeEligibility eligibility;
  eligibility.active = {"partner-a/customer-1"};
  InvitationDomain domain(DomainOptions{.cloud = "global", .portal_base_url = "https://portal.example"},
                          *repository_, clock_, &eligibility);
  // A tenant hint is refused when drafted.
  auto by_tenant = Request("t");
  by_tenant.mutable_customer_hint()->set_tenant_id("customer-1");
  EXPECT_THAT(domain.Create(Partner(), by_tenant),
              StatusIs(Code::kAlreadyExists, reason::kRelationshipExists));
  // An email-domain hint names no tenant until someone accepts: refused then, nothing written.
  auto created = domain.Create(Partner(), Request("d"));
  ASSERT_THAT(created, IsOk());
  const std::string token = TokenOf(created->email_draft());
  const size_t events = Events().size();
  v1::AcceptInvitationRequest accept;
  accept.set_request_id("a");
  accept.set_token(token);
  *accept.mutable_customer_profile() = Profile();
  EXPECT_THAT(domain.Accept(Customer("customer-1"), accept),
              StatusIs(Code::kAlreadyExists, reason::kRelationshipExists));
  EXPECT_EQ(Events().size(), events);
  EXPECT_EQ(eligibility.asked.back(), "partner-a/customer-1");
  // Another customer proving the domain accepts it.
  EXPECT_THAT(domain.Accept(Customer("customer-2"), accept), IsOk());
}

TEST_F(InvitationDomainTest, RepeatedBadLinksAreRateLimitedPerCustomerTenant) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(Accept(pc::RandomUrlSafeToken(32)), StatusIs(Code::kNotFound));
  }
  const auto created = MustCreate(Request());
  EXPECT_THAT(Accept(TokenOf(created.email_draft())),
              StatusIs(Code::kResourceExhausted, reason::kRateLimited));
  // Another tenant is not affected; the window passes.
  EXPECT_THAT(Preview(TokenOf(created.email_draft()), Customer("customer-2")), IsOk());
  clock_.Advance(absl::Minutes(15));
  EXPECT_THAT(Accept(TokenOf(created.email_draft())), IsOk());
}

TEST_F(InvitationDomainTest, RolesAndTenantsAreEnforced) {
  const auto created = MustCreate(Request());
  const std::string id = created.invitation().id();
  EXPECT_THAT(domain_->Create(Customer(), Request("x")),
              StatusIs(Code::kPermissionDenied, reason::kMissingRole));
  EXPECT_THAT(domain_->Create(Agent(), Request("x")),
              StatusIs(Code::kPermissionDenied, reason::kMissingRole));
  EXPECT_THAT(Accept(TokenOf(created.email_draft()), Partner()),
              StatusIs(Code::kPermissionDenied, reason::kMissingRole));
  v1::GetInvitationRequest get;
  get.set_id(id);
  EXPECT_THAT(domain_->Get(Agent(), get), IsOk());
  EXPECT_THAT(domain_->Get(Partner("partner-b"), get), StatusIs(Code::kNotFound));
  v1::CancelInvitationRequest cancel;
  cancel.set_request_id("c");
  cancel.set_id(id);
  EXPECT_THAT(domain_->Cancel(Partner("partner-b"), cancel), StatusIs(Code::kNotFound));
  v1::ListInvitationsRequest list;
  EXPECT_EQ(domain_->List(Partner("partner-b"), list)->invitations_size(), 0);
  EXPECT_EQ(domain_->List(Partner(), list)->invitations_size(), 1);
}

TEST_F(InvitationDomainTest, CrossCloudInvitationsAreInvisible) {
  const auto created = MustCreate(Request());
  InvitationDomain usgov(DomainOptions{.cloud = "usgov"}, *repository_, clock_, nullptr);
  CallContext partner = Partner();
  partner.claims.cloud = "usgov";
  v1::GetInvitationRequest get;
  get.set_id(created.invitation().id());
  EXPECT_THAT(usgov.Get(partner, get), StatusIs(Code::kNotFound));
  CallContext customer = Customer();
  customer.claims.cloud = "usgov";
  v1::AcceptInvitationRequest accept;
  accept.set_request_id("a");
  accept.set_token(TokenOf(created.email_draft()));
  *accept.mutable_customer_profile() = Profile();
  EXPECT_THAT(usgov.Accept(customer, accept),
              StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
}

struct BadCreate {
  std::string name;
  std::function<void(v1::CreateInvitationRequest&)> mutate;
  std::string field;
};

void PrintTo(const BadCreate& b, std::ostream* os) { *os << b.name; }

class BadCreateTest : public InvitationDomainTest,
                      public ::testing::WithParamInterface<BadCreate> {};

TEST_P(BadCreateTest, IsRejectedNamingTheFieldAndChangesNothing) {
  auto req = Request();
  GetParam().mutate(req);
  auto result = domain_->Create(Partner(), req);
  EXPECT_THAT(result, StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  EXPECT_EQ(pc::ReasonMetadataOf(result.status())["field"], GetParam().field);
  EXPECT_EQ(Count("invitations"), 0);
  EXPECT_EQ(Count("outbox"), 0);
  EXPECT_EQ(commits_, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadCreateTest,
    ::testing::Values(
        BadCreate{"EmptyRequestId", [](auto& r) { r.clear_request_id(); }, "request_id"},
        BadCreate{"LongRequestId", [](auto& r) { r.set_request_id(std::string(129, 'x')); },
                  "request_id"},
        BadCreate{"NoKind", [](auto& r) { r.set_kind(common::INVITATION_KIND_UNSPECIFIED); },
                  "kind"},
        BadCreate{"UnknownKind", [](auto& r) { r.set_kind(static_cast<common::InvitationKind>(99)); },
                  "kind"},
        BadCreate{"BadDomain",
                  [](auto& r) { r.mutable_customer_hint()->set_email_domain("not a domain"); },
                  "customer_hint.email_domain"},
        BadCreate{"SingleLabelDomain",
                  [](auto& r) { r.mutable_customer_hint()->set_email_domain("localhost"); },
                  "customer_hint.email_domain"},
        BadCreate{"BadTenant",
                  [](auto& r) { r.mutable_customer_hint()->set_tenant_id("a b"); },
                  "customer_hint.tenant_id"},
        BadCreate{"LongMessage", [](auto& r) { r.set_message(std::string(2001, 'm')); },
                  "message"},
        BadCreate{"ControlCharInMessage", [](auto& r) { r.set_message(std::string("a\0b", 3)); },
                  "message"},
        BadCreate{"BadLocale", [](auto& r) { r.set_locale("xx"); }, "locale"},
        BadCreate{"TooLong", [](auto& r) { r.set_validity_days(91); }, "validity_days"},
        BadCreate{"Negative", [](auto& r) { r.set_validity_days(-1); }, "validity_days"},
        BadCreate{"SelfAsReseller", [](auto& r) { r.set_indirect_reseller_id("partner-a"); },
                  "indirect_reseller_id"},
        BadCreate{"RestoreWithoutTenant",
                  [](auto& r) { r.set_kind(common::INVITATION_KIND_ADMIN_RESTORE); },
                  "customer_hint.tenant_id"}),
    [](const auto& info) { return info.param.name; });

TEST_F(InvitationDomainTest, BadTokensAndPagesAreInvalidArguments) {
  for (const std::string& token :
       std::vector<std::string>{"", "short", std::string(43, '*'), std::string(5000, 'a')}) {
    auto result = Accept(token);
    EXPECT_THAT(result, StatusIs(Code::kInvalidArgument, reason::kInvalidField)) << token;
    EXPECT_EQ(pc::ReasonMetadataOf(result.status())["field"], "token");
  }
  v1::ListInvitationsRequest list;
  list.set_page_size(10000);
  EXPECT_THAT(domain_->List(Partner(), list), StatusIs(Code::kInvalidArgument));
  list.set_page_size(-1);
  EXPECT_THAT(domain_->List(Partner(), list), StatusIs(Code::kInvalidArgument));
  list.set_page_size(0);
  list.set_page_token("garbage!");
  EXPECT_THAT(domain_->List(Partner(), list), StatusIs(Code::kInvalidArgument));
  list.clear_page_token();
  list.set_order_by("name; DROP TABLE invitations");
  EXPECT_THAT(domain_->List(Partner(), list), StatusIs(Code::kInvalidArgument));
  v1::GetInvitationRequest get;
  get.set_id("not-a-uuid");
  EXPECT_THAT(domain_->Get(Partner(), get), StatusIs(Code::kInvalidArgument));
}

TEST_F(InvitationDomainTest, ListPagesWithAnOpaqueCursorInEveryOrder) {
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) {
    auto req = Request(absl::StrCat("r", i));
    req.mutable_customer_hint()->set_email_domain(absl::StrCat("c", i, ".com"));
    req.set_validity_days(10 + (i * 3) % 7);  // expiry order differs from creation order
    created.insert(MustCreate(req).invitation().id());
    clock_.Advance(absl::Seconds(i % 2));  // some share a create_time
  }
  for (const std::string order :
       {"create_time desc", "create_time asc", "expire_time asc", "expire_time desc"}) {
    std::vector<std::string> seen;
    std::vector<int64_t> keys;
    v1::ListInvitationsRequest list;
    list.set_page_size(3);
    list.set_order_by(order);
    int pages = 0;
    do {
      auto page = domain_->List(Partner(), list);
      ASSERT_THAT(page, IsOk());
      ++pages;
      for (const auto& inv : page->invitations()) {
        seen.push_back(inv.id());
        keys.push_back(absl::StartsWith(order, "create") ? inv.create_time().seconds()
                                                          : inv.expire_time().seconds());
      }
      list.set_page_token(page->next_page_token());
    } while (!list.page_token().empty() && pages < 10);
    EXPECT_EQ(pages, 3) << order;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created) << order;
    EXPECT_EQ(seen.size(), created.size()) << order;
    const bool desc = absl::EndsWith(order, "desc");
    for (size_t i = 1; i < keys.size(); ++i) {
      EXPECT_TRUE(desc ? keys[i - 1] >= keys[i] : keys[i - 1] <= keys[i]) << order;
    }
  }
  v1::ListInvitationsRequest pending_only;
  pending_only.add_states(common::INVITATION_STATE_CANCELED);
  EXPECT_EQ(domain_->List(Partner(), pending_only)->invitations_size(), 0);
}

TEST_F(InvitationDomainTest, StaleVersionIsAborted) {
  const auto created = MustCreate(Request());
  v1::CancelInvitationRequest cancel;
  cancel.set_request_id("c");
  cancel.set_id(created.invitation().id());
  cancel.set_version(7);
  EXPECT_THAT(domain_->Cancel(Partner(), cancel),
              StatusIs(Code::kAborted, reason::kVersionConflict));
  cancel.set_version(1);
  EXPECT_THAT(domain_->Cancel(Partner(), cancel), IsOk());
}

TEST_F(InvitationDomainTest, DeclineKeepsTheReasonForThePartner) {
  const auto created = MustCreate(Request());
  ASSERT_THAT(Decline(TokenOf(created.email_draft())), IsOk());
  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "InvitationDeclined");
  EXPECT_EQ(events[1].invitation_declined().reason(), "We already have a partner");
  EXPECT_EQ(events[1].cause(), partnercenter::events::v1::CAUSE_CUSTOMER_DECLINED);
  v1::GetInvitationRequest get;
  get.set_id(created.invitation().id());
  EXPECT_EQ(domain_->Get(Partner(), get)->decline_reason(), "We already have a partner");
}

// The probe's created_after=9999-01-01 and created_before=1677-09-21 returned every
// invitation (int64 nanoseconds overflowed); outside Timestamp's range is INVALID_ARGUMENT.
TEST_F(InvitationDomainTest, CreatedRangeBeyondInt64NanosecondsIsExactOrRefused) {
  MustCreate(Request());
  auto list = [&](int64_t after, int64_t before) {
    v1::ListInvitationsRequest req;
    if (after != 0) req.mutable_created_after()->set_seconds(after);
    if (before != 0) req.mutable_created_before()->set_seconds(before);
    return domain_->List(Partner(), req);
  };
  constexpr int64_t k9999 = 253'370'764'800;    // 9999-01-01
  constexpr int64_t k1677 = -9'223'372'037;     // 1677-09-21, just below int64 nanoseconds
  constexpr int64_t k2262 = 9'223'372'037;      // 2262-04-11, just above
  EXPECT_EQ(list(k9999, 0)->invitations_size(), 0);
  EXPECT_EQ(list(0, k1677)->invitations_size(), 0);
  EXPECT_EQ(list(k2262, 0)->invitations_size(), 0);
  EXPECT_EQ(list(0, k2262)->invitations_size(), 1);
  EXPECT_EQ(list(k1677, 0)->invitations_size(), 1);
  EXPECT_THAT(list(253'402'300'800, 0), StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  EXPECT_THAT(list(0, -62'135'596'801), StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  EXPECT_THAT(list(k2262, k1677), StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  v1::ListInvitationsRequest bad_nanos;
  bad_nanos.mutable_created_after()->set_nanos(-1);
  EXPECT_THAT(domain_->List(Partner(), bad_nanos), StatusIs(Code::kInvalidArgument));
}

TEST_F(InvitationDomainTest, AcceptReportsEveryInvalidProfileFieldAtOnce) {
  const auto created = MustCreate(Request());
  v1::AcceptInvitationRequest req;
  req.set_request_id("accept-bad");
  req.set_token(TokenOf(created.email_draft()));
  req.mutable_customer_profile()->set_company_name("");
  req.mutable_customer_profile()->set_primary_domain("not a domain");
  req.mutable_customer_profile()->set_country("ZZ");
  absl::Status status = domain_->Accept(Customer(), req).status();
  EXPECT_THAT(status, StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  std::vector<std::string> fields;
  for (const auto& [field, why] : FieldViolationsOf(status)) fields.push_back(field);
  EXPECT_THAT(fields, ::testing::ElementsAre("customer_profile.company_name",
                                             "customer_profile.primary_domain",
                                             "customer_profile.country"));
  // Nothing changed: the invitation is still pending and acceptable.
  EXPECT_EQ(Events().size(), 1u);
  EXPECT_THAT(Accept(TokenOf(created.email_draft())), IsOk());
}

TEST_F(InvitationDomainTest, CountryMustBeAnAssignedIsoCode) {
  const auto created = MustCreate(Request());
  for (const char* country : {"ZZ", "XK", "UK", "br", ""}) {
    v1::AcceptInvitationRequest req;
    req.set_request_id(std::string("accept-") + country);
    req.set_token(TokenOf(created.email_draft()));
    *req.mutable_customer_profile() = Profile();
    req.mutable_customer_profile()->set_country(country);
    EXPECT_THAT(domain_->Accept(Customer(), req),
                StatusIs(Code::kInvalidArgument, reason::kInvalidField))
        << country;
  }
  EXPECT_THAT(Accept(TokenOf(created.email_draft())), IsOk());  // Profile() says BR
}

// A plain GET of the accept link is all another site needs to make a signed-in customer's
// browser preview garbage links: previews must not use up the tenant's failure budget.
TEST_F(InvitationDomainTest, FailedPreviewsDoNotLockTheTenantOut) {
  for (int i = 0; i < 30; ++i) {
    EXPECT_THAT(Preview(pc::RandomUrlSafeToken(32)),
                StatusIs(Code::kNotFound, reason::kInvalidInvitationLink));
    EXPECT_THAT(Preview("not a token"), StatusIs(Code::kInvalidArgument));
  }
  const auto created = MustCreate(Request());
  EXPECT_THAT(Preview(TokenOf(created.email_draft())), IsOk());
  EXPECT_THAT(Accept(TokenOf(created.email_draft())), IsOk());
}

TEST_F(InvitationDomainTest, RateLimitSaysWhenToRetry) {
  clock_.Advance(absl::Seconds(10));
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(Accept(pc::RandomUrlSafeToken(32)), StatusIs(Code::kNotFound));
    clock_.Advance(absl::Seconds(30));  // the first failure leaves the window first
  }
  const absl::Status limited = Accept(pc::RandomUrlSafeToken(32)).status();
  EXPECT_THAT(limited, StatusIs(Code::kResourceExhausted, reason::kRateLimited));
  ASSERT_TRUE(RetryDelayOf(limited).has_value());
  // 15 minutes after the first failure, which was 10 × 30 s ago.
  EXPECT_EQ(*RetryDelayOf(limited), absl::Minutes(15) - absl::Seconds(300));
  clock_.Advance(*RetryDelayOf(limited));
  EXPECT_THAT(Accept(pc::RandomUrlSafeToken(32)), StatusIs(Code::kNotFound));  // admitted again
}

TEST_F(InvitationDomainTest, NotFoundCarriesAReason) {
  v1::GetInvitationRequest get;
  get.set_id(pc::NewUuid());
  absl::Status status = domain_->Get(Partner(), get).status();
  EXPECT_THAT(status, StatusIs(Code::kNotFound, reason::kNotFound));
  EXPECT_EQ(ReasonMetadataOf(status).at("resource"), "invitation");
}

TEST_F(InvitationDomainTest, EventsNameTheCustomerTheHintNames) {
  auto by_tenant = Request("t");
  by_tenant.mutable_customer_hint()->set_tenant_id("customer-9");
  const auto created = MustCreate(by_tenant);
  v1::CancelInvitationRequest cancel;
  cancel.set_request_id("c");
  cancel.set_id(created.invitation().id());
  ASSERT_THAT(domain_->Cancel(Partner(), cancel), IsOk());
  const auto by_domain = MustCreate(Request("d"));  // email-domain hint: no tenant known yet
  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), "InvitationSent");
  EXPECT_EQ(events[0].customer_id(), "customer-9");
  EXPECT_EQ(events[1].type(), "InvitationCanceled");
  EXPECT_EQ(events[1].customer_id(), "customer-9");
  EXPECT_EQ(events[2].customer_id(), "");
}

TEST_F(InvitationDomainTest, RepeatedStateFiltersAreOnePlaceholderEach) {
  MustCreate(Request());
  v1::ListInvitationsRequest req;
  for (int i = 0; i < 70'000; ++i) req.add_states(common::INVITATION_STATE_PENDING);
  EXPECT_EQ(domain_->List(Partner(), req)->invitations_size(), 1);
}

}  // namespace
}  // namespace pc::invitation
