// The relationship domain against a real store: SQLite (label unit) and PostgreSQL (label
// integration) run this same suite, so it is also the store's contract test.
#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "fixture.h"
#include "gmock/gmock.h"
#include "pc/common/errors.h"

namespace pc::relationship::testing {
namespace {

namespace common = partnercenter::common::v1;
using ::pc::testing::IsOk;
using ::pc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

// ---- The state machine: every command in every state ------------------------------------

enum class Start { kNone, kGranted, kRevoked, kNotRequested, kRemoved };

std::string StartName(Start s) {
  switch (s) {
    case Start::kNone: return "None";
    case Start::kGranted: return "Granted";
    case Start::kRevoked: return "Revoked";
    case Start::kNotRequested: return "NotRequested";
    case Start::kRemoved: return "Removed";
  }
  return "";
}

struct Expect {
  Code code;
  std::string reason;  // "" = don't care / none
  common::RelationshipState state;  // after the command (UNSPECIFIED: no relationship)
  common::AdminAccess admin;
};

constexpr auto kActive = common::RELATIONSHIP_STATE_ACTIVE;
constexpr auto kRemovedState = common::RELATIONSHIP_STATE_REMOVED;
constexpr auto kNoState = common::RELATIONSHIP_STATE_UNSPECIFIED;
constexpr auto kGranted = common::ADMIN_ACCESS_GRANTED;
constexpr auto kRevokedAdmin = common::ADMIN_ACCESS_REVOKED;
constexpr auto kNotReq = common::ADMIN_ACCESS_NOT_REQUESTED;
constexpr auto kNoAdmin = common::ADMIN_ACCESS_UNSPECIFIED;

struct Row {
  std::string command;
  Start start;
  Expect expect;
};

std::string RowName(const ::testing::TestParamInfo<Row>& info) {
  return info.param.command + "_from_" + StartName(info.param.start);
}

class StateMachineTest : public RelationshipFixture, public ::testing::WithParamInterface<Row> {
 protected:
  void Arrange(Start start) {
    // partner-b is always there (ACTIVE, not requested) as a reassign target.
    Establish("partner-b", "customer-1", /*admin=*/false);
    switch (start) {
      case Start::kNone:
        return;
      case Start::kGranted:
        return Establish("partner-a", "customer-1", true);
      case Start::kRevoked:
        Establish("partner-a", "customer-1", true);
        ASSERT_OK(Revoke());
        return;
      case Start::kNotRequested:
        return Establish("partner-a", "customer-1", false);
      case Start::kRemoved:
        Establish("partner-a", "customer-1", true);
        ASSERT_OK(Remove());
        return;
    }
  }

  absl::Status Run(const std::string& command) {
    const std::string rid = pc::NewUuid();
    if (command == "Revoke") return Revoke().status();
    if (command == "Reassign") {
      v1::ReassignAdminPermissionRequest req;
      req.set_request_id(rid);
      req.set_from_partner_id("partner-a");
      req.set_to_partner_id("partner-b");
      req.set_customer_id("customer-1");
      return domain_->ReassignAdminPermission(CustomerAdmin(), req).status();
    }
    if (command == "RequestRestore") {
      v1::RequestAdminRestoreRequest req;
      req.set_request_id(rid);
      req.set_partner_id("partner-a");
      req.set_customer_id("customer-1");
      return domain_->RequestAdminRestore(PartnerAdmin(), req).status();
    }
    if (command == "Provision") return Provision().status();
    if (command == "CreateUser") {
      v1::CreateUserRequest req;
      req.set_request_id(rid);
      req.set_partner_id("partner-a");
      req.set_customer_id("customer-1");
      req.set_user_principal_name("ana@customer-1.example.com");
      req.set_display_name("Ana");
      return domain_->CreateUser(PartnerAdmin(), req).status();
    }
    if (command == "ListUsers") {
      v1::ListUsersRequest req;
      req.set_partner_id("partner-a");
      req.set_customer_id("customer-1");
      return domain_->ListUsers(PartnerAgent(), req).status();
    }
    if (command == "OpenServiceRequest") {
      v1::OpenServiceRequestRequest req;
      req.set_request_id(rid);
      req.set_partner_id("partner-a");
      req.set_customer_id("customer-1");
      req.set_title("Mailbox quota");
      req.set_severity(common::SERVICE_REQUEST_SEVERITY_MEDIUM);
      return domain_->OpenServiceRequest(PartnerAgent(), req).status();
    }
    if (command == "AssignSupportContact") {
      v1::AssignSupportContactRequest req;
      req.set_request_id(rid);
      req.set_partner_id("partner-a");
      req.set_customer_id("customer-1");
      req.mutable_contact()->set_partner_id("partner-a");
      req.mutable_contact()->set_name("Sam Support");
      req.mutable_contact()->set_email("sam@partner-a.example.com");
      return domain_->AssignSupportContact(PartnerAdmin(), req).status();
    }
    if (command == "Remove") return Remove().status();
    if (command == "AcceptReseller") {
      return domain_->ApplyInvitationEvent(Accepted("partner-a", "customer-1", true));
    }
    if (command == "AcceptRestore") {
      return domain_->ApplyInvitationEvent(
          Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_ADMIN_RESTORE));
    }
    return absl::InternalError("unknown command " + command);
  }
};

TEST_P(StateMachineTest, CommandInState) {
  const Row& row = GetParam();
  Arrange(row.start);
  const std::string before = Snapshot();
  const absl::Status status = Run(row.command);
  EXPECT_EQ(status.code(), row.expect.code) << status;
  if (!row.expect.reason.empty()) {
    EXPECT_EQ(pc::ReasonOf(status), row.expect.reason) << status;
  }
  if (!status.ok()) {
    EXPECT_EQ(Snapshot(), before) << "a refused command wrote something";
  }
  absl::StatusOr<v1::Relationship> after = Get();
  if (row.expect.state == kNoState) {
    EXPECT_THAT(after, StatusIs(Code::kNotFound));
    return;
  }
  ASSERT_OK(after.status());
  EXPECT_EQ(after->state(), row.expect.state);
  EXPECT_EQ(after->admin_access(), row.expect.admin);
  // Support responsibility follows the state, never admin access.
  EXPECT_EQ(after->support_responsible(), row.expect.state == kActive);
}

const char* const kNotActive = pc::reason::kRelationshipNotActive;
const char* const kRevokedR = pc::reason::kAdminPermissionRevoked;
const char* const kNotReqR = pc::reason::kAdminPermissionNotRequested;
const char* const kAlready = pc::reason::kAdminPermissionAlreadyGranted;

INSTANTIATE_TEST_SUITE_P(
    EveryCommandEveryState, StateMachineTest,
    ::testing::Values(
        Row{"Revoke", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"Revoke", Start::kGranted, {Code::kOk, "", kActive, kRevokedAdmin}},
        Row{"Revoke", Start::kRevoked, {Code::kFailedPrecondition, kRevokedR, kActive, kRevokedAdmin}},
        Row{"Revoke", Start::kNotRequested, {Code::kFailedPrecondition, kNotReqR, kActive, kNotReq}},
        Row{"Revoke", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"Reassign", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"Reassign", Start::kGranted, {Code::kOk, "", kActive, kRevokedAdmin}},
        Row{"Reassign", Start::kRevoked, {Code::kFailedPrecondition, kRevokedR, kActive, kRevokedAdmin}},
        Row{"Reassign", Start::kNotRequested, {Code::kFailedPrecondition, kNotReqR, kActive, kNotReq}},
        Row{"Reassign", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"RequestRestore", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"RequestRestore", Start::kGranted, {Code::kFailedPrecondition, kAlready, kActive, kGranted}},
        Row{"RequestRestore", Start::kRevoked, {Code::kOk, "", kActive, kRevokedAdmin}},
        Row{"RequestRestore", Start::kNotRequested, {Code::kOk, "", kActive, kNotReq}},
        Row{"RequestRestore", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"Provision", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"Provision", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"Provision", Start::kRevoked, {Code::kFailedPrecondition, kRevokedR, kActive, kRevokedAdmin}},
        Row{"Provision", Start::kNotRequested, {Code::kFailedPrecondition, kNotReqR, kActive, kNotReq}},
        Row{"Provision", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"CreateUser", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"CreateUser", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"CreateUser", Start::kRevoked, {Code::kFailedPrecondition, kRevokedR, kActive, kRevokedAdmin}},
        Row{"CreateUser", Start::kNotRequested, {Code::kFailedPrecondition, kNotReqR, kActive, kNotReq}},
        Row{"CreateUser", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"ListUsers", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"ListUsers", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"ListUsers", Start::kRevoked, {Code::kFailedPrecondition, kRevokedR, kActive, kRevokedAdmin}},
        Row{"ListUsers", Start::kNotRequested, {Code::kFailedPrecondition, kNotReqR, kActive, kNotReq}},
        Row{"ListUsers", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"OpenServiceRequest", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"OpenServiceRequest", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"OpenServiceRequest", Start::kRevoked, {Code::kOk, "", kActive, kRevokedAdmin}},
        Row{"OpenServiceRequest", Start::kNotRequested, {Code::kOk, "", kActive, kNotReq}},
        Row{"OpenServiceRequest", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"AssignSupportContact", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"AssignSupportContact", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"AssignSupportContact", Start::kRevoked, {Code::kOk, "", kActive, kRevokedAdmin}},
        Row{"AssignSupportContact", Start::kNotRequested, {Code::kOk, "", kActive, kNotReq}},
        Row{"AssignSupportContact", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"Remove", Start::kNone, {Code::kNotFound, "", kNoState, kNoAdmin}},
        Row{"Remove", Start::kGranted, {Code::kOk, "", kRemovedState, kRevokedAdmin}},
        Row{"Remove", Start::kRevoked, {Code::kOk, "", kRemovedState, kRevokedAdmin}},
        Row{"Remove", Start::kNotRequested, {Code::kOk, "", kRemovedState, kNotReq}},
        Row{"Remove", Start::kRemoved, {Code::kFailedPrecondition, kNotActive, kRemovedState, kRevokedAdmin}},
        Row{"AcceptReseller", Start::kNone, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptReseller", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptReseller", Start::kRevoked, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptReseller", Start::kNotRequested, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptReseller", Start::kRemoved, {Code::kOk, "", kActive, kGranted}},
        // Unknown yet: retried (the establishing acceptance may be on another partition).
        Row{"AcceptRestore", Start::kNone, {Code::kUnavailable, "", kNoState, kNoAdmin}},
        Row{"AcceptRestore", Start::kGranted, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptRestore", Start::kRevoked, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptRestore", Start::kNotRequested, {Code::kOk, "", kActive, kGranted}},
        Row{"AcceptRestore", Start::kRemoved, {Code::kOk, "", kRemovedState, kRevokedAdmin}}),
    RowName);

// ---- Events ---------------------------------------------------------------------------------

class RelationshipDomainTest : public RelationshipFixture {};

TEST_F(RelationshipDomainTest, AcceptedInvitationEstablishesTheRelationshipWithItsEvent) {
  Establish("partner-a", "customer-1", /*admin=*/true, /*reseller=*/"reseller-r");
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.state(), common::RELATIONSHIP_STATE_ACTIVE);
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_TRUE(r.support_responsible());
  EXPECT_EQ(r.indirect_reseller_id(), "reseller-r");
  EXPECT_EQ(r.customer_profile().company_name(), "Company customer-1");
  EXPECT_EQ(r.version(), 1);
  std::vector<ev::EventEnvelope> events = Events();
  ASSERT_EQ(events.size(), 1u);
  const ev::EventEnvelope& e = events[0];
  EXPECT_EQ(e.type(), "RelationshipEstablished");
  EXPECT_EQ(e.aggregate_id(), "partner-a:customer-1");
  EXPECT_EQ(e.aggregate_version(), 1);
  EXPECT_EQ(e.cause(), ev::CAUSE_INVITATION_ACCEPTED);
  EXPECT_EQ(e.actor().tenant_id(), "customer-1");
  EXPECT_EQ(e.correlation_id(), "corr-accept");
  EXPECT_EQ(e.relationship_established().admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(e.relationship_established().indirect_reseller_id(), "reseller-r");
  EXPECT_EQ(commits_, 1);
}

TEST_F(RelationshipDomainTest, WithoutAdminTheRelationshipIsNotRequested) {
  Establish("partner-a", "customer-1", /*admin=*/false);
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_NOT_REQUESTED);
}

TEST_F(RelationshipDomainTest, RedeliveredAcceptanceHasOneEffect) {
  const ev::EventEnvelope e = Accepted("partner-a", "customer-1", true);
  pc::events::Outcome outcome;
  ASSERT_OK(domain_->ApplyInvitationEvent(e, &outcome));
  EXPECT_EQ(outcome, pc::events::Outcome::kApplied);
  ASSERT_OK(Revoke());
  ASSERT_OK(domain_->ApplyInvitationEvent(e, &outcome));  // again, after a later change
  EXPECT_EQ(outcome, pc::events::Outcome::kDuplicateIgnored) << "counted as applied";
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_REVOKED) << "the duplicate re-granted";
  EXPECT_THAT(EventTypes(), ElementsAre("RelationshipEstablished", "PermissionRevoked"));
  EXPECT_EQ(Count("relationships"), 1);
}

TEST_F(RelationshipDomainTest, ABatchHasTheEffectsOfItsEventsOneByOneInOneCommit) {
  const ev::EventEnvelope first = Accepted("partner-a", "customer-1", true);
  ev::EventEnvelope sent = Accepted("partner-a", "customer-3", true);
  sent.mutable_invitation_sent();  // replaces the payload: not an acceptance
  const std::vector<ev::EventEnvelope> batch = {
      first, Accepted("partner-a", "customer-2", false), first, sent,
      Accepted("partner-a", "customer-1", false)};
  std::vector<pc::events::Outcome> outcomes;
  ASSERT_OK(domain_->ApplyInvitationEvents(batch, &outcomes));
  EXPECT_THAT(outcomes, ElementsAre(pc::events::Outcome::kApplied, pc::events::Outcome::kApplied,
                                    pc::events::Outcome::kDuplicateIgnored,
                                    pc::events::Outcome::kIgnoredNotHandled,
                                    pc::events::Outcome::kApplied));
  EXPECT_EQ(commits_, 1) << "one commit wakes the relay once";
  EXPECT_EQ(cache_->size(), 2u) << "the cache learns every pair the batch changed";
  EXPECT_EQ(Count("relationships"), 2);
  EXPECT_THAT(EventTypes(), ElementsAre("RelationshipEstablished", "RelationshipEstablished"));
  // The second acceptance of customer-1 saw the first one's row inside the same transaction.
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get("partner-a", "customer-1"));
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(r.version(), 2);
  ASSERT_OK_AND_ASSIGN(r, Get("partner-a", "customer-2"));
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_NOT_REQUESTED);
  // The same events again, redelivered after a crash: no second effect.
  ASSERT_OK(domain_->ApplyInvitationEvents(batch, &outcomes));
  EXPECT_THAT(outcomes, ElementsAre(pc::events::Outcome::kDuplicateIgnored,
                                    pc::events::Outcome::kDuplicateIgnored,
                                    pc::events::Outcome::kDuplicateIgnored,
                                    pc::events::Outcome::kIgnoredNotHandled,
                                    pc::events::Outcome::kDuplicateIgnored));
  EXPECT_EQ(Count("relationships"), 2);
  EXPECT_EQ(Count("outbox"), 2);
}

TEST_F(RelationshipDomainTest, AnEventThatFailsRollsItsWholeBatchBack) {
  const ev::EventEnvelope good = Accepted("partner-a", "customer-1", true);
  // An admin restore for a relationship nobody established: an error inside the transaction.
  const ev::EventEnvelope restore = Accepted(
      "partner-a", "customer-9", true, common::INVITATION_KIND_ADMIN_RESTORE);
  const std::string before = Snapshot();
  EXPECT_FALSE(domain_->ApplyInvitationEvents({good, restore}).ok());
  EXPECT_EQ(Snapshot(), before) << "a failed batch left rows behind";
  EXPECT_EQ(commits_, 0);
  // An invalid event is refused before anything is written.
  ev::EventEnvelope invalid = Accepted("partner-a", "customer-2", true);
  invalid.mutable_invitation_accepted()->clear_invitation_id();
  EXPECT_EQ(domain_->ApplyInvitationEvents({good, invalid}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Snapshot(), before);
  // One at a time (the consumer's fallback), the good event still has its effect: the failed
  // batch did not mark it delivered.
  pc::events::Outcome outcome;
  ASSERT_OK(domain_->ApplyInvitationEvent(good, &outcome));
  EXPECT_EQ(outcome, pc::events::Outcome::kApplied);
  EXPECT_EQ(Count("relationships"), 1);
}

TEST_F(RelationshipDomainTest, ASecondAcceptanceOfAnActivePairIsInTheHistoryWithoutAnEvent) {
  Establish("partner-a", "customer-1", /*admin=*/true);
  ASSERT_OK(domain_->ApplyInvitationEvent(Accepted("partner-a", "customer-1", false)));
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(r.version(), 2);
  EXPECT_THAT(EventTypes(), ElementsAre("RelationshipEstablished"));
  v1::ListHistoryRequest req;
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  ASSERT_OK_AND_ASSIGN(v1::ListHistoryResponse history, domain_->ListHistory(PartnerAdmin(), req));
  ASSERT_EQ(history.entries_size(), 2);
  EXPECT_EQ(history.entries(1).action(), "InvitationAccepted");
  EXPECT_THAT(history.entries(1).detail(), HasSubstr("already active"));
}

// Two first acceptances of one pair (two invitations, one with admin permission) applied at
// the same moment by two replicas, each on its own connection: one relationship with admin
// granted, one RelationshipEstablished, both acceptances in the history, and no error (an
// error would send one of them to the dead-letter topic). On PostgreSQL both have read "no
// relationship" before either inserts, so the unique key decides (RunWritesTogether).
TEST_F(RelationshipDomainTest, ConcurrentFirstAcceptancesOfOnePairMergeIntoOneRelationship) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<pc::storage::Database> db_b, test_db_->Open());
  RelationshipStore store_b(*db_b);
  AccessCache cache_b([&](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
    return AccessEntry{};
  });
  RelationshipDomain domain_b(DomainOptions{.cloud = "global"}, store_b, clock_, &invitations_,
                              cache_b);
  const ev::EventEnvelope without_admin = Accepted("partner-a", "customer-1", false);
  const ev::EventEnvelope with_admin = Accepted("partner-a", "customer-1", true);

  absl::Status status_a, status_b;
  ASSERT_OK(pc::storage::RunWritesTogether(
      *test_db_, "relationships", "INSERT INTO relationships",
      {[&] { status_a = domain_->ApplyInvitationEvent(without_admin); },
       [&] { status_b = domain_b.ApplyInvitationEvent(with_admin); }}));
  EXPECT_OK(status_a);
  EXPECT_OK(status_b);

  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.state(), common::RELATIONSHIP_STATE_ACTIVE);
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_GRANTED) << "the admin acceptance was lost";
  EXPECT_EQ(Count("relationships"), 1);
  std::vector<std::string> types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "RelationshipEstablished"), 1);
  EXPECT_EQ(Count("relationship_history"), 2) << "both acceptances belong in the history";
  EXPECT_EQ(Count("applied_invitations"), 2);
}

TEST_F(RelationshipDomainTest, AnOlderVersionOfTheSameInvitationIsIgnored) {
  const std::string id = pc::NewUuid();
  ASSERT_OK(domain_->ApplyInvitationEvent(
      Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_RESELLER_RELATIONSHIP,
               "", id, /*version=*/3)));
  ASSERT_OK(Revoke());
  // A different event of the same invitation with an older version (reordered): no effect.
  ASSERT_OK(domain_->ApplyInvitationEvent(
      Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_RESELLER_RELATIONSHIP,
               "", id, /*version=*/2)));
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Get());
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(Events().size(), 2u);
}

TEST_F(RelationshipDomainTest, OtherInvitationEventsAreIgnored) {
  ev::EventEnvelope e = Accepted("partner-a", "customer-1", true);
  e.mutable_invitation_declined()->set_invitation_id(e.aggregate_id());
  pc::events::Seal(e);
  ASSERT_OK(domain_->ApplyInvitationEvent(e));
  EXPECT_EQ(Count("relationships"), 0);
  EXPECT_EQ(Count("inbox"), 0);
}

TEST_F(RelationshipDomainTest, PoisonAndForeignCloudEventsArePermanentErrors) {
  ev::EventEnvelope foreign = Accepted("partner-a", "customer-1", true);
  foreign.set_cloud(common::CLOUD_GERMANY);
  EXPECT_THAT(domain_->ApplyInvitationEvent(foreign),
              StatusIs(Code::kFailedPrecondition, pc::reason::kCloudMismatch));
  ev::EventEnvelope no_customer = Accepted("partner-a", "customer-1", true);
  no_customer.set_customer_id("");
  EXPECT_THAT(domain_->ApplyInvitationEvent(no_customer), StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Count("relationships"), 0);
  EXPECT_EQ(Count("inbox"), 0);
}

TEST_F(RelationshipDomainTest, AnOldRestoreForAnUnknownRelationshipIsDeadLettered) {
  const ev::EventEnvelope e =
      Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_ADMIN_RESTORE);
  EXPECT_THAT(domain_->ApplyInvitationEvent(e), StatusIs(Code::kUnavailable));
  clock_.Advance(absl::Minutes(11));
  EXPECT_THAT(domain_->ApplyInvitationEvent(e), StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(Count("inbox"), 0);
}

TEST_F(RelationshipDomainTest, RestoreAcceptedGrantsWithRestoredFlag) {
  Establish();
  ASSERT_OK(Revoke());
  ASSERT_OK(domain_->ApplyInvitationEvent(
      Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_ADMIN_RESTORE)));
  std::vector<ev::EventEnvelope> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].type(), "PermissionGranted");
  EXPECT_TRUE(events[2].permission_granted().restored());
  EXPECT_EQ(events[2].cause(), ev::CAUSE_ADMIN_RESTORED);
  EXPECT_EQ(events[2].aggregate_version(), 3);
}

TEST_F(RelationshipDomainTest, RevokeKeepsSupportAndEmitsCustomerRevoked) {
  Establish();
  ASSERT_OK_AND_ASSIGN(v1::Relationship r, Revoke("partner-a", "customer-1", /*version=*/1));
  EXPECT_EQ(r.state(), common::RELATIONSHIP_STATE_ACTIVE);
  EXPECT_EQ(r.admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_TRUE(r.support_responsible());
  EXPECT_EQ(r.version(), 2);
  const ev::EventEnvelope e = Events().back();
  EXPECT_EQ(e.type(), "PermissionRevoked");
  EXPECT_EQ(e.cause(), ev::CAUSE_CUSTOMER_REVOKED);
  EXPECT_EQ(e.permission_revoked().reason(), "moving to in-house IT");
  EXPECT_EQ(e.actor().kind(), common::ACTOR_KIND_CUSTOMER_ADMIN);
  EXPECT_EQ(e.aggregate_version(), 2);
}

TEST_F(RelationshipDomainTest, StaleVersionIsAbortedAndWritesNothing) {
  Establish();
  ASSERT_OK(Provision());  // version 2 now
  const std::string before = Snapshot();
  EXPECT_THAT(Revoke("partner-a", "customer-1", /*version=*/1),
              StatusIs(Code::kAborted, pc::reason::kVersionConflict));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RelationshipDomainTest, ReassignIsOneTransactionWithTwoEvents) {
  Establish("partner-a", "customer-1", true);
  Establish("partner-b", "customer-1", false);
  v1::ReassignAdminPermissionRequest req;
  req.set_request_id("reassign-1");
  req.set_from_partner_id("partner-a");
  req.set_to_partner_id("partner-b");
  req.set_customer_id("customer-1");
  req.set_reason("new partner");
  ASSERT_OK_AND_ASSIGN(v1::ReassignAdminPermissionResponse out,
                       domain_->ReassignAdminPermission(CustomerAdmin(), req));
  EXPECT_EQ(out.from_relationship().admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(out.to_relationship().admin_access(), common::ADMIN_ACCESS_GRANTED);
  std::vector<ev::EventEnvelope> events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type(), "PermissionRevoked");
  EXPECT_EQ(events[2].cause(), ev::CAUSE_CUSTOMER_REASSIGNED);
  EXPECT_EQ(events[2].permission_revoked().reassigned_to_partner_id(), "partner-b");
  EXPECT_EQ(events[3].type(), "PermissionGranted");
  EXPECT_EQ(events[3].cause(), ev::CAUSE_REASSIGNED_FROM_OTHER_PARTNER);
  EXPECT_EQ(events[3].aggregate_id(), "partner-b:customer-1");
  EXPECT_EQ(commits_, 3);
  // Reassign to a partner that already holds the permission: refused, nothing written.
  req.set_request_id("reassign-2");
  req.set_from_partner_id("partner-b");
  req.set_to_partner_id("partner-a");
  ASSERT_OK(domain_->ApplyInvitationEvent(
      Accepted("partner-a", "customer-1", true, common::INVITATION_KIND_ADMIN_RESTORE)));
  const std::string before = Snapshot();
  EXPECT_THAT(domain_->ReassignAdminPermission(CustomerAdmin(), req),
              StatusIs(Code::kFailedPrecondition, pc::reason::kAdminPermissionAlreadyGranted));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RelationshipDomainTest, RetryWithTheSameRequestIdReplaysWithoutASecondEffect) {
  Establish();
  v1::RevokeAdminPermissionRequest req;
  req.set_request_id("same-id");
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  ASSERT_OK_AND_ASSIGN(v1::Relationship first, domain_->RevokeAdminPermission(CustomerAdmin(), req));
  ASSERT_OK_AND_ASSIGN(v1::Relationship again, domain_->RevokeAdminPermission(CustomerAdmin(), req));
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());
  EXPECT_EQ(Events().size(), 2u);
  req.set_reason("different");
  EXPECT_THAT(domain_->RevokeAdminPermission(CustomerAdmin(), req),
              StatusIs(Code::kInvalidArgument, pc::reason::kInvalidField));
}

TEST_F(RelationshipDomainTest, RemoveNeedsNoActiveServicesAndEndsEverything) {
  Establish();
  ASSERT_OK_AND_ASSIGN(common::CustomerService s, Provision());
  v1::AssignSupportContactRequest contact;
  contact.set_request_id("c1");
  contact.set_partner_id("partner-a");
  contact.set_customer_id("customer-1");
  contact.mutable_contact()->set_partner_id("partner-a");
  contact.mutable_contact()->set_name("Sam");
  contact.mutable_contact()->set_email("sam@partner-a.example.com");
  ASSERT_OK(domain_->AssignSupportContact(PartnerAdmin(), contact));

  const std::string before = Snapshot();
  EXPECT_THAT(Remove(), StatusIs(Code::kFailedPrecondition, pc::reason::kActiveServicesExist));
  EXPECT_EQ(Snapshot(), before);

  v1::ChangeServiceRequest cancel;
  cancel.set_request_id("cancel-1");
  cancel.set_partner_id("partner-a");
  cancel.set_customer_id("customer-1");
  cancel.set_service_id(s.id());
  cancel.set_action(v1::SERVICE_CHANGE_ACTION_CANCEL);
  ASSERT_OK(domain_->ChangeService(PartnerAdmin(), cancel));

  ASSERT_OK_AND_ASSIGN(v1::Relationship removed, Remove());
  EXPECT_EQ(removed.state(), common::RELATIONSHIP_STATE_REMOVED);
  EXPECT_FALSE(removed.support_responsible());
  EXPECT_FALSE(removed.has_support_contact());
  std::vector<ev::EventEnvelope> events = Events();
  ASSERT_GE(events.size(), 2u);
  const ev::EventEnvelope& revoked = events[events.size() - 2];
  const ev::EventEnvelope& gone = events.back();
  EXPECT_EQ(revoked.type(), "PermissionRevoked");
  EXPECT_EQ(revoked.cause(), ev::CAUSE_RELATIONSHIP_REMOVED);
  EXPECT_EQ(gone.type(), "RelationshipRemoved");
  EXPECT_EQ(gone.cause(), ev::CAUSE_PARTNER_REMOVED);
  EXPECT_EQ(gone.aggregate_version(), revoked.aggregate_version() + 1);
}

TEST_F(RelationshipDomainTest, IndirectResellerCanAssignSupportButNotRemove) {
  Establish("provider-p", "customer-1", true, "reseller-r");
  v1::AssignSupportContactRequest contact;
  contact.set_request_id("c1");
  contact.set_partner_id("provider-p");
  contact.set_customer_id("customer-1");
  contact.mutable_contact()->set_partner_id("reseller-r");
  contact.mutable_contact()->set_name("Rita Reseller");
  contact.mutable_contact()->set_email("rita@reseller-r.example.com");
  ASSERT_OK_AND_ASSIGN(v1::Relationship r,
                       domain_->AssignSupportContact(PartnerAdmin("reseller-r"), contact));
  EXPECT_EQ(r.support_contact().partner_id(), "reseller-r");
  // A contact from an unrelated partner is refused.
  contact.set_request_id("c2");
  contact.mutable_contact()->set_partner_id("partner-x");
  EXPECT_THAT(domain_->AssignSupportContact(PartnerAdmin("reseller-r"), contact),
              StatusIs(Code::kInvalidArgument));

  v1::RemoveRelationshipRequest remove;
  remove.set_request_id("r1");
  remove.set_partner_id("provider-p");
  remove.set_customer_id("customer-1");
  EXPECT_THAT(domain_->RemoveRelationship(PartnerAdmin("reseller-r"), remove),
              StatusIs(Code::kFailedPrecondition, pc::reason::kIndirectResellerCannotRemove));
  remove.set_request_id("r2");
  EXPECT_OK(domain_->RemoveRelationship(PartnerAdmin("provider-p"), remove));
}

TEST_F(RelationshipDomainTest, ServiceChangesFollowTheServiceStateMachine) {
  Establish();
  ASSERT_OK_AND_ASSIGN(common::CustomerService s, Provision());
  auto change = [&](v1::ServiceChangeAction action, int32_t quantity = 0, int64_t version = 0) {
    v1::ChangeServiceRequest req;
    req.set_request_id(pc::NewUuid());
    req.set_partner_id("partner-a");
    req.set_customer_id("customer-1");
    req.set_service_id(s.id());
    req.set_action(action);
    req.set_license_quantity(quantity);
    req.set_version(version);
    return domain_->ChangeService(PartnerAdmin(), req);
  };
  ASSERT_OK_AND_ASSIGN(common::CustomerService more, change(v1::SERVICE_CHANGE_ACTION_SET_LICENSES, 40, 1));
  EXPECT_EQ(more.license_quantity(), 40);
  EXPECT_EQ(more.version(), 2);
  EXPECT_THAT(change(v1::SERVICE_CHANGE_ACTION_SET_LICENSES, 50, 1), StatusIs(Code::kAborted));
  EXPECT_THAT(change(v1::SERVICE_CHANGE_ACTION_RESUME), StatusIs(Code::kFailedPrecondition));
  ASSERT_OK(change(v1::SERVICE_CHANGE_ACTION_SUSPEND));
  EXPECT_THAT(change(v1::SERVICE_CHANGE_ACTION_SET_LICENSES, 5), StatusIs(Code::kFailedPrecondition));
  ASSERT_OK(change(v1::SERVICE_CHANGE_ACTION_RESUME));
  ASSERT_OK(change(v1::SERVICE_CHANGE_ACTION_CANCEL));
  EXPECT_THAT(change(v1::SERVICE_CHANGE_ACTION_CANCEL), StatusIs(Code::kFailedPrecondition));
  const ev::EventEnvelope e = Events().back();
  EXPECT_EQ(e.type(), "ServiceChanged");
  EXPECT_EQ(e.service_changed().service().state(), common::SERVICE_STATE_CANCELED);
  EXPECT_EQ(e.service_changed().previous_state(), common::SERVICE_STATE_ACTIVE);
  EXPECT_EQ(e.service_changed().previous_license_quantity(), 40);
}

TEST_F(RelationshipDomainTest, UsersAreUniquePerCustomerAndNeedActiveServices) {
  Establish();
  ASSERT_OK_AND_ASSIGN(common::CustomerService s, Provision());
  v1::CreateUserRequest req;
  req.set_request_id("u1");
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  req.set_user_principal_name("ana@customer-1.example.com");
  req.set_display_name("Ana");
  req.add_service_ids(s.id());
  ASSERT_OK_AND_ASSIGN(v1::CustomerUser u, domain_->CreateUser(PartnerAdmin(), req));
  EXPECT_EQ(u.service_ids_size(), 1);
  req.set_request_id("u2");
  req.set_user_principal_name("ANA@customer-1.example.com");
  EXPECT_THAT(domain_->CreateUser(PartnerAdmin(), req), StatusIs(Code::kAlreadyExists));
  req.set_request_id("u3");
  req.set_user_principal_name("bob@customer-1.example.com");
  req.set_service_ids(0, pc::NewUuid());
  EXPECT_THAT(domain_->CreateUser(PartnerAdmin(), req), StatusIs(Code::kInvalidArgument));
  v1::ListUsersRequest list;
  list.set_partner_id("partner-a");
  list.set_customer_id("customer-1");
  ASSERT_OK_AND_ASSIGN(v1::ListUsersResponse users, domain_->ListUsers(PartnerAgent(), list));
  ASSERT_EQ(users.users_size(), 1);
  EXPECT_EQ(users.users(0).display_name(), "Ana");
}

TEST_F(RelationshipDomainTest, RequestAdminRestoreDraftsThroughTheInvitationService) {
  Establish();
  ASSERT_OK(Revoke());
  v1::RequestAdminRestoreRequest req;
  req.set_request_id("restore-1");
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  req.set_message("Please give us admin back");
  req.set_locale("pt-BR");
  ASSERT_OK_AND_ASSIGN(v1::RequestAdminRestoreResponse out,
                       domain_->RequestAdminRestore(PartnerAdmin(), req));
  EXPECT_THAT(out.email_draft().link(), HasSubstr("/invitations/accept?token="));
  ASSERT_EQ(invitations_.calls.size(), 1u);
  const auto [call, create] = invitations_.calls[0];
  EXPECT_EQ(call.bearer_token, "token-of-partner-a") << "the caller's identity is forwarded";
  EXPECT_EQ(create.kind(), common::INVITATION_KIND_ADMIN_RESTORE);
  EXPECT_EQ(create.customer_hint().tenant_id(), "customer-1");
  EXPECT_EQ(create.message(), "Please give us admin back");
  EXPECT_EQ(create.locale(), "pt-BR");
  EXPECT_EQ(create.partner_display_name(), "Partner partner-a");
  // A retry derives the same CreateInvitation request id (idempotent there).
  ASSERT_OK(domain_->RequestAdminRestore(PartnerAdmin(), req));
  EXPECT_EQ(invitations_.calls[1].second.request_id(), create.request_id());
  // The invitation service's refusal reaches the caller as it is.
  invitations_.next_error = pc::WithReason(absl::AlreadyExistsError("pending"),
                                           pc::reason::kPendingInvitationExists);
  EXPECT_THAT(domain_->RequestAdminRestore(PartnerAdmin(), req),
              StatusIs(Code::kAlreadyExists, pc::reason::kPendingInvitationExists));
}

TEST_F(RelationshipDomainTest, CheckAdminAccessAnswersEveryCaseWithItsReason) {
  auto check = [&](const std::string& partner) {
    v1::CheckAdminAccessRequest req;
    req.set_partner_id(partner);
    req.set_customer_id("customer-1");
    return domain_->CheckAdminAccess(Service("portal"), req);
  };
  ASSERT_OK_AND_ASSIGN(v1::CheckAdminAccessResponse none, check("partner-a"));
  EXPECT_FALSE(none.allowed());
  EXPECT_EQ(none.reason(), "NO_RELATIONSHIP");
  Establish("partner-a", "customer-1", true);
  ASSERT_OK_AND_ASSIGN(v1::CheckAdminAccessResponse granted, check("partner-a"));
  EXPECT_TRUE(granted.allowed()) << "the cached 'no relationship' was replaced on commit";
  EXPECT_EQ(granted.version(), 1);
  ASSERT_OK(Revoke());
  ASSERT_OK_AND_ASSIGN(v1::CheckAdminAccessResponse revoked, check("partner-a"));
  EXPECT_FALSE(revoked.allowed()) << "read-your-writes";
  EXPECT_EQ(revoked.reason(), pc::reason::kAdminPermissionRevoked);
  Establish("partner-b", "customer-1", false);
  ASSERT_OK_AND_ASSIGN(v1::CheckAdminAccessResponse not_requested, check("partner-b"));
  EXPECT_EQ(not_requested.reason(), pc::reason::kAdminPermissionNotRequested);
  ASSERT_OK(Remove("partner-b"));
  ASSERT_OK_AND_ASSIGN(v1::CheckAdminAccessResponse removed, check("partner-b"));
  EXPECT_EQ(removed.reason(), pc::reason::kRelationshipNotActive);
}

TEST_F(RelationshipDomainTest, HistoryRecordsEveryChangeWithWhoAndWhy) {
  Establish();
  ASSERT_OK(Provision());
  ASSERT_OK(Revoke());
  v1::ListHistoryRequest req;
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListHistoryResponse page1, domain_->ListHistory(CustomerAdmin(), req));
  ASSERT_EQ(page1.entries_size(), 2);
  EXPECT_EQ(page1.entries(0).action(), "RelationshipEstablished");
  EXPECT_EQ(page1.entries(1).action(), "ServiceProvisioned");
  EXPECT_EQ(page1.entries(1).actor().tenant_id(), "partner-a");
  ASSERT_FALSE(page1.next_page_token().empty());
  req.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListHistoryResponse page2, domain_->ListHistory(CustomerAdmin(), req));
  ASSERT_EQ(page2.entries_size(), 1);
  EXPECT_EQ(page2.entries(0).action(), "PermissionRevoked");
  EXPECT_EQ(page2.entries(0).reason(), "moving to in-house IT");
  EXPECT_EQ(page2.entries(0).sequence(), 3);
  EXPECT_FALSE(page2.entries(0).event_id().empty());
  EXPECT_TRUE(page2.next_page_token().empty());
}

TEST_F(RelationshipDomainTest, CustomerRecordHasEverythingAndHidesUsersWithoutAdmin) {
  Establish();
  ASSERT_OK_AND_ASSIGN(common::CustomerService s, Provision());
  v1::CreateUserRequest user;
  user.set_request_id("u1");
  user.set_partner_id("partner-a");
  user.set_customer_id("customer-1");
  user.set_user_principal_name("ana@customer-1.example.com");
  user.set_display_name("Ana");
  ASSERT_OK(domain_->CreateUser(PartnerAdmin(), user));
  v1::GetCustomerRecordRequest req;
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  ASSERT_OK_AND_ASSIGN(v1::CustomerRecord record, domain_->GetCustomerRecord(PartnerAgent(), req));
  EXPECT_EQ(record.relationship().customer_profile().country(), "BR");
  ASSERT_EQ(record.services_size(), 1);
  EXPECT_EQ(record.services(0).id(), s.id());
  EXPECT_EQ(record.users_size(), 1);
  ASSERT_EQ(record.recent_history_size(), 3);
  EXPECT_EQ(record.recent_history(0).action(), "UserCreated") << "newest first";
  ASSERT_OK(Revoke());
  ASSERT_OK_AND_ASSIGN(record, domain_->GetCustomerRecord(PartnerAgent(), req));
  EXPECT_EQ(record.users_size(), 0);
  EXPECT_EQ(record.services_size(), 1);
  ASSERT_OK_AND_ASSIGN(record, domain_->GetCustomerRecord(CustomerAdmin(), req));
  EXPECT_EQ(record.users_size(), 1) << "the customer always sees its own users";
}

TEST_F(RelationshipDomainTest, ListRelationshipsFiltersOrdersAndPages) {
  for (const char* c : {"zeta", "alpha", "mike", "bravo", "echo"}) Establish("partner-a", c, true);
  Establish("partner-b", "alpha", true);  // another partner's customer never shows
  ASSERT_OK(Revoke("partner-a", "mike"));
  v1::ListRelationshipsRequest req;
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    ASSERT_OK_AND_ASSIGN(v1::ListRelationshipsResponse page,
                         domain_->ListRelationships(PartnerAgent(), req));
    for (const auto& r : page.relationships()) seen.push_back(r.customer_id());
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre("alpha", "bravo", "echo", "mike", "zeta"));

  v1::ListRelationshipsRequest revoked;
  revoked.add_admin_access(common::ADMIN_ACCESS_REVOKED);
  ASSERT_OK_AND_ASSIGN(v1::ListRelationshipsResponse only, domain_->ListRelationships(PartnerAgent(), revoked));
  ASSERT_EQ(only.relationships_size(), 1);
  EXPECT_EQ(only.relationships(0).customer_id(), "mike");

  v1::ListRelationshipsRequest prefix;
  prefix.set_name_prefix("COMPANY B");
  ASSERT_OK_AND_ASSIGN(v1::ListRelationshipsResponse b, domain_->ListRelationships(PartnerAgent(), prefix));
  ASSERT_EQ(b.relationships_size(), 1);
  EXPECT_EQ(b.relationships(0).customer_id(), "bravo");

  v1::ListRelationshipsRequest recent;
  recent.set_order_by("update_time desc");
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK(Provision("partner-a", "echo"));
  ASSERT_OK_AND_ASSIGN(v1::ListRelationshipsResponse by_time, domain_->ListRelationships(PartnerAgent(), recent));
  EXPECT_EQ(by_time.relationships(0).customer_id(), "echo");
}

TEST_F(RelationshipDomainTest, ListPartnersShowsEveryPartnerOfTheCustomer) {
  Establish("partner-a", "customer-1", true);
  Establish("partner-b", "customer-1", false);
  Establish("partner-c", "customer-2", true);
  ASSERT_OK_AND_ASSIGN(v1::ListRelationshipsResponse partners,
                       domain_->ListPartners(CustomerAdmin(), v1::ListPartnersRequest()));
  ASSERT_EQ(partners.relationships_size(), 2);
  EXPECT_EQ(partners.relationships(0).partner_id(), "partner-a");
  EXPECT_EQ(partners.relationships(1).partner_id(), "partner-b");
}

TEST_F(RelationshipDomainTest, BadInputIsInvalidArgumentNamingTheFieldAndWritesNothing) {
  Establish();
  const std::string before = Snapshot();
  struct Case {
    std::string field;
    std::function<absl::Status()> call;
  };
  std::vector<Case> cases = {
      {"request_id", [&] {
         v1::RevokeAdminPermissionRequest r;
         r.set_partner_id("partner-a");
         r.set_customer_id("customer-1");
         return domain_->RevokeAdminPermission(CustomerAdmin(), r).status();
       }},
      {"partner_id", [&] {
         v1::GetRelationshipRequest r;
         r.set_partner_id("bad id with spaces");
         r.set_customer_id("customer-1");
         return domain_->GetRelationship(Service(), r).status();
       }},
      {"page_size", [&] {
         v1::ListRelationshipsRequest r;
         r.set_page_size(201);
         return domain_->ListRelationships(PartnerAdmin(), r).status();
       }},
      {"page_token", [&] {
         v1::ListRelationshipsRequest r;
         r.set_page_token("garbage");
         return domain_->ListRelationships(PartnerAdmin(), r).status();
       }},
      {"order_by", [&] {
         v1::ListRelationshipsRequest r;
         r.set_order_by("drop table");
         return domain_->ListRelationships(PartnerAdmin(), r).status();
       }},
      {"license_quantity", [&] {
         v1::ProvisionServiceRequest r;
         r.set_request_id("x");
         r.set_partner_id("partner-a");
         r.set_customer_id("customer-1");
         r.set_offer_id("OFFER");
         r.set_display_name("Offer");
         r.set_license_quantity(0);
         return domain_->ProvisionService(PartnerAdmin(), r).status();
       }},
      {"severity", [&] {
         v1::OpenServiceRequestRequest r;
         r.set_request_id("x");
         r.set_partner_id("partner-a");
         r.set_customer_id("customer-1");
         r.set_title("t");
         r.set_severity(static_cast<common::ServiceRequestSeverity>(99));
         return domain_->OpenServiceRequest(PartnerAdmin(), r).status();
       }},
      {"contact.email", [&] {
         v1::AssignSupportContactRequest r;
         r.set_request_id("x");
         r.set_partner_id("partner-a");
         r.set_customer_id("customer-1");
         r.mutable_contact()->set_partner_id("partner-a");
         r.mutable_contact()->set_name("n");
         r.mutable_contact()->set_email("not-an-email");
         return domain_->AssignSupportContact(PartnerAdmin(), r).status();
       }},
      {"reason", [&] {
         v1::RevokeAdminPermissionRequest r;
         r.set_request_id("x");
         r.set_partner_id("partner-a");
         r.set_customer_id("customer-1");
         r.set_reason(std::string("bad\0byte", 8));
         return domain_->RevokeAdminPermission(CustomerAdmin(), r).status();
       }},
      {"to_partner_id", [&] {
         v1::ReassignAdminPermissionRequest r;
         r.set_request_id("x");
         r.set_from_partner_id("partner-a");
         r.set_to_partner_id("partner-a");
         r.set_customer_id("customer-1");
         return domain_->ReassignAdminPermission(CustomerAdmin(), r).status();
       }},
  };
  for (const Case& c : cases) {
    const absl::Status s = c.call();
    EXPECT_THAT(s, StatusIs(Code::kInvalidArgument)) << c.field;
    EXPECT_EQ(pc::ReasonMetadataOf(s)["field"], c.field) << s;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RelationshipDomainTest, NotFoundCarriesAReason) {
  absl::Status status = Get("partner-a", "nobody").status();
  EXPECT_THAT(status, StatusIs(Code::kNotFound, reason::kNotFound));
  EXPECT_EQ(ReasonMetadataOf(status).at("resource"), "relationship");
}

// More than 65 535 entries used to be as many SQL placeholders, which broke the statement.
TEST_F(RelationshipDomainTest, RepeatedFilterValuesAreOnePlaceholderEach) {
  Establish();
  v1::ListRelationshipsRequest req;
  for (int i = 0; i < 70'000; ++i) {
    req.add_states(common::RELATIONSHIP_STATE_ACTIVE);
    req.add_admin_access(common::ADMIN_ACCESS_GRANTED);
  }
  auto listed = domain_->ListRelationships(PartnerAdmin(), req);
  ASSERT_THAT(listed.status(), IsOk());
  EXPECT_EQ(listed->relationships_size(), 1);
  v1::ListPartnersRequest partners;
  partners.set_customer_id("customer-1");
  for (int i = 0; i < 70'000; ++i) partners.add_states(common::RELATIONSHIP_STATE_ACTIVE);
  EXPECT_EQ(domain_->ListPartners(CustomerAdmin(), partners)->relationships_size(), 1);
}

TEST_F(RelationshipDomainTest, CreateUserBoundsItsServiceIds) {
  Establish();
  auto create = [&](const std::vector<std::string>& ids) {
    v1::CreateUserRequest req;
    req.set_request_id(pc::NewUuid());
    req.set_partner_id("partner-a");
    req.set_customer_id("customer-1");
    req.set_user_principal_name("user" + std::to_string(ids.size()) + "@contoso.com");
    req.set_display_name("User");
    for (const auto& id : ids) req.add_service_ids(id);
    return domain_->CreateUser(PartnerAdmin(), req);
  };
  const std::string before = Snapshot();
  absl::Status too_many = create(std::vector<std::string>(51, pc::NewUuid())).status();
  EXPECT_THAT(too_many, StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  EXPECT_EQ(ReasonMetadataOf(too_many).at("field"), "service_ids");
  const auto service = Provision();
  ASSERT_THAT(service.status(), IsOk());
  EXPECT_THAT(create({service->id(), service->id()}),
              StatusIs(Code::kInvalidArgument, reason::kInvalidField));
  EXPECT_THAT(create({service->id()}), IsOk());
  EXPECT_NE(Snapshot(), before);
}

}  // namespace
}  // namespace pc::relationship::testing
