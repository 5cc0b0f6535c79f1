// pc-relationship (with pc-invitation) against the real Kafka broker, on SQLite and on
// PostgreSQL (label integration): the seed flow end to end through the topics, redelivered
// and reordered acceptances, a consumer killed mid-stream, and two replicas sharing one
// database where a revoke through one is seen by CheckAdminAccess on the other.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <iostream>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"
#include "access_cache.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/publisher.h"
#include "pc/storage/database.h"
#include "pc/storage/test_database.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"
#include "pc/testing/subprocess.h"
#include "pc/testing/test_tls.h"
#include "pc/testing/topic_recorder.h"

namespace pc::relationship {
namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
namespace inv = partnercenter::invitation::v1;
namespace v1 = partnercenter::relationship::v1;
using pc::testing::TopicRecorder;

constexpr char kCloud[] = "usgov";

// Waits for an output line that `match` accepts (already read or still to come).
void WaitLine(pc::testing::Subprocess& p, const std::function<bool(const std::string&)>& match,
              const std::string& what, absl::Duration timeout = absl::Seconds(90)) {
  for (const std::string& line : p.lines()) {
    if (match(line)) return;
  }
  auto found = p.WaitForLine(match, timeout);
  ASSERT_TRUE(found.ok()) << "waiting for " << what << ": " << found.status();
}

// Waits for an output line containing `needle` (already read or still to come).
void WaitLine(pc::testing::Subprocess& p, const std::string& needle,
              absl::Duration timeout = absl::Seconds(90)) {
  WaitLine(p, [&](const std::string& l) { return absl::StrContains(l, needle); },
           "'" + needle + "'", timeout);
}

int CountLines(pc::testing::Subprocess& p, const std::string& needle) {
  int n = 0;
  for (const std::string& line : p.lines()) n += absl::StrContains(line, needle);
  return n;
}

class RelationshipBrokerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("relationship-e2e");
    std::filesystem::create_directories(dir_);
    ASSERT_OK(pc::auth::GenerateDevKeyPair((dir_ / "jwt").string(), "k1").status());
    auto minter = pc::auth::Minter::FromDirectory((dir_ / "jwt").string(), "k1",
                                                  "partnercenter-dev", "partnercenter");
    ASSERT_OK(minter.status());
    minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
    // gRPC over mTLS between the processes and to the test, as in `make run`; the invitation
    // service checks eligibility as itself.
    tls_ = std::make_unique<pc::testing::TestTls>(dir_ / "grpc-tls",
                                                  std::vector<std::string>{"invitation", "relationship", "test"});
    {
      std::ofstream token(dir_ / "invitation.token");
      token << *minter_->Mint({.subject = "invitation", .tenant_id = "partnercenter", .cloud = kCloud,
                               .roles = {"service"}},
                              absl::Hours(1), absl::Now());
    }
    ASSERT_OK(pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics(kCloud), 3, 1));
    if (GetParam() == "postgres") {
      auto pg = pc::testing::TempPostgresDatabase::Create();
      ASSERT_OK(pg.status());
      pg_ = *std::move(pg);
      database_url_ = pg_->url();
    } else {
      database_url_ = "sqlite://" + (dir_ / "relationship.db").string();
    }
    invitation_port_ = pc::testing::FreeTcpPort();
    auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .client_id = "test"});
    ASSERT_OK(publisher.status());
    publisher_ = *std::move(publisher);
  }

  void TearDown() override {
    replicas_.clear();
    invitation_.reset();
    if (HasFailure()) {
      std::cerr << "logs kept in " << dir_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  std::unique_ptr<pc::testing::Subprocess> StartRelationship(int port, const std::string& name) {
    std::vector<std::string> args{PC_RELATIONSHIP_BINARY, absl::StrCat("--cloud=", kCloud),
                                  absl::StrCat("--grpc_port=", port), "--admin_port=0",
                                  "--log_format=text", "--log_level=debug",
                                  "--kafka_brokers=" + brokers_,
                                  "--jwt_keys_dir=" + (dir_ / "jwt").string(),
                                  "--database_url=" + database_url_,
                                  "--consumer_group=" + group_, "--restore_wait=2s",
                                  absl::StrCat("--invitation_address=127.0.0.1:", invitation_port_)};
    for (std::string& f : tls_->Flags("relationship")) args.push_back(std::move(f));
    auto p = std::make_unique<pc::testing::Subprocess>(
        std::move(args), pc::testing::KafkaSecurityEnv("relationship"), (dir_ / (name + ".log")).string());
    WaitLine(*p, "serving gRPC on :");
    return p;
  }

  void StartInvitation(int relationship_port) {
    std::vector<std::string> args{PC_INVITATION_BINARY, absl::StrCat("--cloud=", kCloud),
                                  absl::StrCat("--grpc_port=", invitation_port_), "--admin_port=0",
                                  "--log_format=text", "--kafka_brokers=" + brokers_,
                                  "--jwt_keys_dir=" + (dir_ / "jwt").string(),
                                  "--database_url=sqlite://" + (dir_ / "invitation.db").string(),
                                  "--service_token_file=" + (dir_ / "invitation.token").string(),
                                  absl::StrCat("--relationship_address=127.0.0.1:", relationship_port)};
    for (std::string& f : tls_->Flags("invitation")) args.push_back(std::move(f));
    invitation_ = std::make_unique<pc::testing::Subprocess>(
        std::move(args), pc::testing::KafkaSecurityEnv("invitation"), (dir_ / "invitation.log").string());
    WaitLine(*invitation_, "serving gRPC on :");
    inv_stub_ = inv::InvitationService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", invitation_port_), tls_->Credentials("test")));
  }

  std::unique_ptr<v1::RelationshipService::Stub> RelStub(int port) {
    return v1::RelationshipService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), tls_->Credentials("test")));
  }

  // A user of `tenant`, or for role "service" the portal's service identity.
  std::string Token(const std::string& tenant, const std::string& role) {
    const bool service = role == "service";
    return *minter_->Mint({.subject = service ? "portal" : "u-" + tenant,
                           .tenant_id = service ? "partnercenter" : tenant, .cloud = kCloud,
                           .roles = {role}},
                          absl::Hours(1), absl::Now());
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant, const std::string& role) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    pc::auth::AttachBearerToken(ctx.get(), Token(tenant, role));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  // Publishes an InvitationAccepted the way the invitation service does, under `key`.
  ev::EventEnvelope PublishAccepted(const std::string& key, const std::string& partner,
                                    const std::string& customer, int64_t version = 2) {
    common::Actor actor;
    actor.set_kind(common::ACTOR_KIND_CUSTOMER_ADMIN);
    actor.set_tenant_id(customer);
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = kCloud, .partner_id = partner, .customer_id = customer,
         .aggregate_id = pc::NewUuid(), .aggregate_version = version, .actor = actor},
        absl::Now());
    ev::InvitationAccepted* a = e.mutable_invitation_accepted();
    a->set_invitation_id(e.aggregate_id());
    a->set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    a->set_include_admin_permission(true);
    a->mutable_customer_profile()->set_company_name("Company " + customer);
    pc::events::Seal(e);
    Publish(key, e);
    return e;
  }

  void Publish(const std::string& key, const ev::EventEnvelope& e) {
    publisher_->Publish({.topic = pc::kafka::InvitationTopic(kCloud),
                         .key = key,
                         .payload = e.SerializeAsString(),
                         .headers = pc::events::KafkaHeaders(e)},
                        [](const absl::Status& s) { EXPECT_TRUE(s.ok()) << s; });
    ASSERT_OK(publisher_->Flush(absl::Seconds(30)));
  }

  // Waits until `p` has applied `n` InvitationAccepted events for `key` (its own log line,
  // written after the commit).
  void WaitApplied(pc::testing::Subprocess& p, const std::string& key, int n) {
    const std::string needle = "(" + key + ")";
    int seen = CountLines(p, needle);
    if (seen >= n) return;
    auto line = p.WaitForLine(
        [&](const std::string& l) {
          return absl::StrContains(l, "handled InvitationAccepted") &&
                 absl::StrContains(l, needle) && ++seen >= n;
        },
        absl::Seconds(90));
    ASSERT_TRUE(line.ok()) << line.status();
  }

  // The newest event of `type` for `key` in this service's outbox, once the recorder saw that
  // very event on the topic. (Other tests run relationship services of their own on the same
  // broker, so the topic alone can't tell whose event it is.)
  std::optional<TopicRecorder::Seen> Published(TopicRecorder& topic, const std::string& key,
                                               const std::string& type) {
    auto db = pc::storage::Open(database_url_);
    EXPECT_OK(db.status());
    std::string event_id;
    EXPECT_OK((*db)->InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne(
          "SELECT event_id FROM outbox WHERE key = $1 AND event_type = $2 ORDER BY id DESC",
          {key, type});
      if (!row.ok()) return row.status();
      auto id = row->GetText(0);
      if (!id.ok()) return id.status();
      event_id = *id;
      return absl::OkStatus();
    }));
    if (event_id.empty()) return std::nullopt;
    return topic.WaitFor([&](const ev::EventEnvelope& e) { return e.event_id() == event_id; });
  }

  // Publishes an acceptance of (partner_, customer_) with admin permission (see below).
  void EstablishOnBoth() { EstablishOnBoth({customer_}); }
  // Publishes acceptances of (partner_, c) for each of `customers` and waits until one of
  // replicas_[0..1] applied each (the group gives its partition to one of them; other tests'
  // services read the same topics, so only our replicas' "applied" lines prove our database
  // has it) and replicas_[1] knows it: from its own commit or else from the topic.
  void EstablishOnBoth(const std::vector<std::string>& customers) {
    for (const std::string& c : customers) PublishAccepted(pc::NewUuid(), partner_, c);
    for (const std::string& c : customers) {
      const std::string key = partner_ + ":" + c;
      auto applied = [&](const std::string& l) {
        return absl::StrContains(l, "handled InvitationAccepted") &&
               absl::StrContains(l, "(" + key + ")");
      };
      auto applied_by = [&](int i) {
        for (const std::string& line : replicas_[i]->lines()) {
          if (applied(line)) return true;
        }
        return false;
      };
      const absl::Time deadline = absl::Now() + absl::Seconds(90);
      while (!applied_by(0) && !applied_by(1) && absl::Now() < deadline) {
        for (int i = 0; i < 2; ++i) {
          replicas_[i]->WaitForLine(applied, absl::Milliseconds(200)).IgnoreError();
        }
      }
      ASSERT_TRUE(applied_by(0) || applied_by(1)) << "neither replica applied " << key;
      if (!applied_by(1)) WaitLine(*replicas_[1], "access cache: RelationshipEstablished " + key + " v1");
    }
  }

  int64_t CountRows(const std::string& sql) {
    auto db = pc::storage::Open(database_url_);
    EXPECT_OK(db.status());
    auto n = pc::storage::QueryInt64(**db, sql);
    EXPECT_OK(n.status());
    return n.value_or(-1);
  }


  std::string brokers_;
  std::filesystem::path dir_;
  std::unique_ptr<pc::auth::Minter> minter_;
  std::unique_ptr<pc::testing::TempPostgresDatabase> pg_;
  std::string database_url_;
  // Starts with the service's name: its ACL allows the groups "relationship*".
  std::string group_ = "relationship." + pc::testing::UniqueName("e2e");
  int invitation_port_ = 0;
  std::unique_ptr<pc::kafka::KafkaPublisher> publisher_;
  std::unique_ptr<pc::testing::TestTls> tls_;
  std::unique_ptr<pc::testing::Subprocess> invitation_;
  std::vector<std::unique_ptr<pc::testing::Subprocess>> replicas_;
  std::unique_ptr<inv::InvitationService::Stub> inv_stub_;
  const std::string partner_ = "p" + pc::NewUuid().substr(0, 8);
  const std::string customer_ = "c" + pc::NewUuid().substr(0, 8);
};

TEST_P(RelationshipBrokerTest, SeedFlowThroughTheTopics) {
  TopicRecorder relationship_topic(brokers_, pc::kafka::RelationshipTopic(kCloud));
  TopicRecorder invitation_topic(brokers_, pc::kafka::InvitationTopic(kCloud));
  const int port = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port, "relationship"));
  StartInvitation(port);
  auto rel = RelStub(port);
  const std::string key = partner_ + ":" + customer_;

  // Invite → accept → RelationshipEstablished.
  inv::CreateInvitationRequest invite;
  invite.set_request_id("invite-1");
  invite.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  invite.set_include_admin_permission(true);
  invite.mutable_customer_hint()->set_tenant_id(customer_);
  inv::CreateInvitationResponse created;
  grpc::Status s = inv_stub_->CreateInvitation(Ctx(partner_, "partner_admin").get(), invite, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string link = created.email_draft().link();
  inv::AcceptInvitationRequest accept;
  accept.set_request_id("accept-1");
  accept.set_token(link.substr(link.find("token=") + 6));
  accept.mutable_customer_profile()->set_company_name("Contoso");
  accept.mutable_customer_profile()->set_primary_domain("contoso.com");
  accept.mutable_customer_profile()->set_country("US");
  inv::AcceptInvitationResponse accepted;
  s = inv_stub_->AcceptInvitation(Ctx(customer_, "customer_admin").get(), accept, &accepted);
  ASSERT_TRUE(s.ok()) << s.error_message();

  WaitApplied(*replicas_[0], key, 1);
  auto established = Published(relationship_topic, key, "RelationshipEstablished");
  ASSERT_TRUE(established.has_value());
  EXPECT_EQ(established->message.key, key);
  EXPECT_EQ(established->envelope.aggregate_version(), 1);
  EXPECT_EQ(established->envelope.cause(), ev::CAUSE_INVITATION_ACCEPTED);
  EXPECT_EQ(established->envelope.relationship_established().admin_access(),
            common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(established->envelope.relationship_established().customer_profile().company_name(),
            "Contoso");

  // Eligibility: a second reseller invitation to an ACTIVE customer is refused up front.
  invite.set_request_id("invite-2");
  inv::CreateInvitationResponse refused;
  s = inv_stub_->CreateInvitation(Ctx(partner_, "partner_admin").get(), invite, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_EQ(pc::ReasonOf(pc::FromGrpcStatus(s)), pc::reason::kRelationshipExists);

  // Revoke → PermissionRevoked(CUSTOMER_REVOKED).
  v1::RevokeAdminPermissionRequest revoke;
  revoke.set_request_id("revoke-1");
  revoke.set_partner_id(partner_);
  revoke.set_customer_id(customer_);
  revoke.set_reason("in-house IT");
  v1::Relationship after_revoke;
  s = rel->RevokeAdminPermission(Ctx(customer_, "customer_admin").get(), revoke, &after_revoke);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  auto revoked = Published(relationship_topic, key, "PermissionRevoked");
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->envelope.cause(), ev::CAUSE_CUSTOMER_REVOKED);
  EXPECT_EQ(revoked->envelope.aggregate_version(), 2);
  EXPECT_TRUE(after_revoke.support_responsible());

  // RequestAdminRestore → the customer accepts → PermissionGranted(restored).
  v1::RequestAdminRestoreRequest restore;
  restore.set_request_id("restore-1");
  restore.set_partner_id(partner_);
  restore.set_customer_id(customer_);
  v1::RequestAdminRestoreResponse draft;
  s = rel->RequestAdminRestore(Ctx(partner_, "partner_admin").get(), restore, &draft);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(draft.invitation().kind(), common::INVITATION_KIND_ADMIN_RESTORE);
  const std::string restore_link = draft.email_draft().link();
  accept.set_request_id("accept-2");
  accept.set_token(restore_link.substr(restore_link.find("token=") + 6));
  ASSERT_TRUE(inv_stub_->AcceptInvitation(Ctx(customer_, "customer_admin").get(), accept, &accepted).ok());
  WaitApplied(*replicas_[0], key, 2);
  auto granted = Published(relationship_topic, key, "PermissionGranted");
  ASSERT_TRUE(granted.has_value());
  EXPECT_TRUE(granted->envelope.permission_granted().restored());
  EXPECT_EQ(granted->envelope.cause(), ev::CAUSE_ADMIN_RESTORED);
  EXPECT_EQ(granted->envelope.aggregate_version(), 3);

  // The first acceptance delivered twice more, then an older version of the same invitation
  // (reordered) as a barrier on the same partition: no second effect from any of them.
  auto first_accept = invitation_topic.WaitFor(created.invitation().id(), "InvitationAccepted");
  ASSERT_TRUE(first_accept.has_value());
  Publish(first_accept->message.key, first_accept->envelope);
  Publish(first_accept->message.key, first_accept->envelope);
  ev::EventEnvelope older = first_accept->envelope;
  older.set_event_id(pc::NewUuid());
  older.set_aggregate_version(1);
  Publish(first_accept->message.key, older);
  WaitLine(*replicas_[0], "handled InvitationAccepted " + older.event_id());
  v1::GetRelationshipRequest get;
  get.set_partner_id(partner_);
  get.set_customer_id(customer_);
  v1::Relationship now;
  ASSERT_TRUE(rel->GetRelationship(Ctx(partner_, "partner_agent").get(), get, &now).ok());
  EXPECT_EQ(now.version(), 3) << "a redelivered or older acceptance changed the relationship";
  EXPECT_EQ(now.admin_access(), common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationships WHERE partner_id = '" + partner_ + "'"), 1);
  // One event per effect in this service's outbox. (The topic itself may carry more for this
  // key: other tests run relationship services of their own against the same broker, and
  // their fresh consumer groups replay this test's acceptances into their own stores.)
  EXPECT_EQ(CountRows("SELECT count(*) FROM outbox WHERE key = '" + key +
                      "' AND event_type = 'RelationshipEstablished'"),
            1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM outbox WHERE key = '" + key +
                      "' AND event_type = 'PermissionGranted'"),
            1);
}

TEST_P(RelationshipBrokerTest, ConsumerKilledMidStreamLosesAndDoublesNothing) {
  const int port = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port, "first"));
  // One key: one partition, so the barrier at the end comes after all of them.
  const std::string key = "batch-" + pc::NewUuid();
  constexpr int kEvents = 150;
  for (int i = 0; i < kEvents; ++i) PublishAccepted(key, partner_, absl::StrCat(customer_, "-", i));
  // Let it get going, then kill it without warning.
  int applied = 0;
  ASSERT_TRUE(replicas_[0]->WaitForLine(
      [&](const std::string& l) {
        return absl::StrContains(l, "handled InvitationAccepted") &&
               absl::StrContains(l, "(" + partner_ + ":") && ++applied >= 20;
      },
      absl::Seconds(90)).ok());
  replicas_[0]->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(replicas_[0]->Wait()));
  const int before_kill = CountLines(*replicas_[0], "(" + partner_ + ":");

  replicas_.push_back(StartRelationship(port, "second"));
  const ev::EventEnvelope barrier = PublishAccepted(key, partner_, customer_ + "-barrier");
  WaitLine(*replicas_[1], "handled InvitationAccepted " + barrier.event_id());
  replicas_[1]->Kill(SIGTERM);
  replicas_[1]->Wait();

  const std::string like = "'" + partner_ + ":%'";
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationships WHERE partner_id = '" + partner_ + "'"),
            kEvents + 1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM outbox WHERE event_type = 'RelationshipEstablished' "
                      "AND key LIKE " + like),
            kEvents + 1)
      << "every acceptance has exactly one effect";
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationship_history WHERE partner_id = '" +
                      partner_ + "'"),
            kEvents + 1);
  EXPECT_LT(before_kill, kEvents + 1) << "the kill did not land mid-stream";
}

INSTANTIATE_TEST_SUITE_P(BothStores, RelationshipBrokerTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

class TwoReplicasTest : public RelationshipBrokerTest {};

TEST_P(TwoReplicasTest, ARevokeThroughOneReplicaIsSeenByCheckAdminAccessOnTheOther) {
  const int port_a = pc::testing::FreeTcpPort();
  const int port_b = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port_a, "replica-a"));
  replicas_.push_back(StartRelationship(port_b, "replica-b"));
  pc::testing::Subprocess& b = *replicas_[1];
  auto stub_a = RelStub(port_a);
  auto stub_b = RelStub(port_b);
  const std::string key = partner_ + ":" + customer_;

  // One of the two replicas applies it; B knows it from its own commit or from the topic.
  EstablishOnBoth();
  v1::CheckAdminAccessRequest check;
  check.set_partner_id(partner_);
  check.set_customer_id(customer_);
  v1::CheckAdminAccessResponse answer;
  ASSERT_TRUE(stub_b->CheckAdminAccess(Ctx("svc", "service").get(), check, &answer).ok());
  EXPECT_TRUE(answer.allowed());

  v1::RevokeAdminPermissionRequest revoke;
  revoke.set_request_id("revoke-a");
  revoke.set_partner_id(partner_);
  revoke.set_customer_id(customer_);
  v1::Relationship revoked;
  const grpc::Status revoked_status =
      stub_a->RevokeAdminPermission(Ctx(customer_, "customer_admin").get(), revoke, &revoked);
  ASSERT_TRUE(revoked_status.ok()) << revoked_status.error_code() << " " << revoked_status.error_message();
  WaitLine(b, "access cache: PermissionRevoked " + key + " v2");
  ASSERT_TRUE(stub_b->CheckAdminAccess(Ctx("svc", "service").get(), check, &answer).ok());
  EXPECT_FALSE(answer.allowed());
  EXPECT_EQ(answer.reason(), pc::reason::kAdminPermissionRevoked);
  EXPECT_EQ(answer.version(), 2);
}

TEST_P(TwoReplicasTest, TwoFirstAcceptancesOfOnePairBecomeOneRelationshipAndNoDeadLetter) {
  const int port_a = pc::testing::FreeTcpPort();
  const int port_b = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port_a, "replica-a"));
  replicas_.push_back(StartRelationship(port_b, "replica-b"));
  const std::string key = partner_ + ":" + customer_;
  // Two invitations of one partner to one customer, accepted within milliseconds: one asked
  // for admin permission, one did not; each keyed by its invitation id (any partition).
  ev::EventEnvelope with_admin = PublishAccepted(pc::NewUuid(), partner_, customer_);
  common::Actor actor = with_admin.actor();
  ev::EventEnvelope without_admin = pc::events::NewEnvelope(
      {.cloud = kCloud, .partner_id = partner_, .customer_id = customer_,
       .aggregate_id = pc::NewUuid(), .aggregate_version = 2, .actor = actor},
      absl::Now());
  *without_admin.mutable_invitation_accepted() = with_admin.invitation_accepted();
  without_admin.mutable_invitation_accepted()->set_invitation_id(without_admin.aggregate_id());
  without_admin.mutable_invitation_accepted()->set_include_admin_permission(false);
  pc::events::Seal(without_admin);
  Publish(without_admin.aggregate_id(), without_admin);

  // Both applied, by whichever replicas hold their partitions.
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (CountLines(*replicas_[0], "(" + key + ")") + CountLines(*replicas_[1], "(" + key + ")") <
             2 &&
         absl::Now() < deadline) {
    for (auto& replica : replicas_) {
      replica->WaitForLine([&](const std::string& l) { return absl::StrContains(l, key); },
                           absl::Milliseconds(200)).IgnoreError();
    }
  }
  ASSERT_EQ(CountLines(*replicas_[0], "(" + key + ")") + CountLines(*replicas_[1], "(" + key + ")"),
            2);
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationships WHERE partner_id = '" + partner_ + "'"), 1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationships WHERE partner_id = '" + partner_ +
                      "' AND admin_access = " + std::to_string(common::ADMIN_ACCESS_GRANTED)),
            1)
      << "the acceptance that carried admin permission was lost";
  EXPECT_EQ(CountRows("SELECT count(*) FROM outbox WHERE key = '" + key +
                      "' AND event_type = 'RelationshipEstablished'"),
            1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM relationship_history WHERE partner_id = '" +
                      partner_ + "'"),
            2);
  // Both lines above are "applied" lines, written only after a successful commit: neither
  // acceptance failed, so neither was sent to the dead-letter topic.
}

INSTANTIATE_TEST_SUITE_P(SharedPostgres, TwoReplicasTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });


// Replicas on a broker of their own (started and stopped by this suite), so the test can stop
// it or add partitions without disturbing the tests that share the tier's broker.
class OwnBrokerTest : public RelationshipBrokerTest {
 protected:
  static void SetUpTestSuite() {
    broker_dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                            pc::testing::UniqueName("own-kafka"));
    std::filesystem::create_directories(*broker_dir_);
    broker_port_ = pc::testing::FreeTcpPort();
    controller_port_ = pc::testing::FreeTcpPort();
    sasl_port_ = pc::testing::FreeTcpPort();
  }
  static void TearDownTestSuite() {
    KafkaScript("stop");
    std::filesystem::remove_all(*broker_dir_);
    delete broker_dir_;
  }
  static int KafkaScript(const std::string& verb) {
    const std::string command = absl::StrCat(
        "PC_KAFKA_DIR=", broker_dir_->string(), " PC_KAFKA_PORT=", broker_port_,
        " PC_KAFKA_CONTROLLER_PORT=", controller_port_, " PC_KAFKA_SASL_PORT=", sasl_port_,
        // The tier's credentials: the services' and the admin's certificates work here too.
        " PC_KAFKA_CERTS_DIR=", pc::testing::RequiredEnv("PC_TEST_KAFKA_CERTS_DIR"),
        " PC_KAFKA_HEAP=-Xmx384m ",
        pc::testing::RequiredEnv("PC_SOURCE_DIR"), "/deploy/local/kafka/kafka.sh ", verb,
        " >>", broker_dir_->string(), "/script.log 2>&1");
    return std::system(command.c_str());
  }

  void SetUp() override {
    RelationshipBrokerTest::SetUp();
    ASSERT_EQ(KafkaScript("start"), 0) << "see " << *broker_dir_ << "/script.log";
    brokers_ = absl::StrCat("127.0.0.1:", broker_port_);
    ASSERT_OK(pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics(kCloud), 1, 1));
    auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .client_id = "test"});
    ASSERT_OK(publisher.status());
    publisher_ = *std::move(publisher);
  }

  v1::CheckAdminAccessRequest Pair() {
    v1::CheckAdminAccessRequest check;
    check.set_partner_id(partner_);
    check.set_customer_id(customer_);
    return check;
  }

  // SQL on the tier's PostgreSQL server, outside this test's database.
  void AdminSql(const std::string& sql) {
    auto admin = pc::storage::Open(pc::testing::RequiredEnv("PC_TEST_DATABASE_URL"));
    ASSERT_OK(admin.status());
    ASSERT_OK((*admin)->InTransaction(
        [&](pc::storage::Transaction& tx) { return tx.Query(sql).status(); }));
  }

  static std::filesystem::path* broker_dir_;
  static int broker_port_;
  static int controller_port_;
  static int sasl_port_;
};

std::filesystem::path* OwnBrokerTest::broker_dir_ = nullptr;
int OwnBrokerTest::broker_port_ = 0;
int OwnBrokerTest::controller_port_ = 0;
int OwnBrokerTest::sasl_port_ = 0;

// The bound: with the broker stopped, replica B cannot learn of A's revoke from the topic; once
// it can no longer prove its cache current it reads the database and denies. With the
// database gone too it denies with UNAVAILABLE and turns not ready.
TEST_P(OwnBrokerTest, ARevokeHoldsOnTheOtherReplicaWithTheBrokerDownAndFailsClosedWithoutDatabase) {
  const int port_a = pc::testing::FreeTcpPort();
  const int port_b = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port_a, "replica-a"));
  replicas_.push_back(StartRelationship(port_b, "replica-b"));
  pc::testing::Subprocess& b = *replicas_[1];
  auto stub_a = RelStub(port_a);
  auto stub_b = RelStub(port_b);
  EstablishOnBoth();
  v1::CheckAdminAccessResponse answer;
  ASSERT_TRUE(stub_b->CheckAdminAccess(Ctx("svc", "service").get(), Pair(), &answer).ok());
  EXPECT_TRUE(answer.allowed());

  ASSERT_EQ(KafkaScript("stop"), 0);
  v1::RevokeAdminPermissionRequest revoke;
  revoke.set_request_id("revoke-a");
  revoke.set_partner_id(partner_);
  revoke.set_customer_id(customer_);
  v1::Relationship revoked;
  ASSERT_TRUE(
      stub_a->RevokeAdminPermission(Ctx(customer_, "customer_admin").get(), revoke, &revoked).ok());
  // B's hook: it says when it stops trusting its memory (within the bound plus one probe).
  WaitLine(b, "admin-access cache not proven current");
  ASSERT_TRUE(stub_b->CheckAdminAccess(Ctx("svc", "service").get(), Pair(), &answer).ok());
  EXPECT_FALSE(answer.allowed());
  EXPECT_EQ(answer.reason(), pc::reason::kAdminPermissionRevoked);
  EXPECT_EQ(answer.version(), 2);
  EXPECT_EQ(CountLines(b, "access cache: PermissionRevoked"), 0)
      << "B learnt it from the topic, so the broker was not really down";

  // The database too: no connection to it is allowed any more.
  const std::string db = pg_->name();
  AdminSql("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
  AdminSql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
  grpc::Status s = stub_b->CheckAdminAccess(Ctx("svc", "service").get(), Pair(), &answer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(pc::ReasonOf(pc::FromGrpcStatus(s)), kAccessStateUnavailable);
  WaitLine(b, "not ready: admin-access cache not proven current and the database is unreachable");
  AdminSql("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
}

// Partitions added while the replicas run: B's tail follows them, so a revoke whose pair now
// maps to a new partition still reaches B's cache from the topic.
TEST_P(OwnBrokerTest, TheTailFollowsPartitionsAddedWhileRunning) {
  const int port_a = pc::testing::FreeTcpPort();
  const int port_b = pc::testing::FreeTcpPort();
  replicas_.push_back(StartRelationship(port_a, "replica-a"));
  replicas_.push_back(StartRelationship(port_b, "replica-b"));
  pc::testing::Subprocess& b = *replicas_[1];
  constexpr int kPairs = 12;
  std::vector<std::string> customers;
  for (int i = 0; i < kPairs; ++i) customers.push_back(absl::StrCat(customer_, "-", i));
  EstablishOnBoth(customers);
  ASSERT_OK(pc::kafka::AddPartitions(brokers_, pc::testing::KafkaSecurity(), pc::kafka::RelationshipTopic(kCloud), 3));
  WaitLine(b, "grew from 1 to 3 partitions");
  // A new A publishes with the new partition count from its first metadata request.
  replicas_[0]->Kill(SIGTERM);
  replicas_[0]->Wait();
  replicas_[0] = StartRelationship(port_a, "replica-a2");
  auto stub_a = RelStub(port_a);
  for (const std::string& c : customers) {
    v1::RevokeAdminPermissionRequest revoke;
    revoke.set_request_id("revoke-" + c);
    revoke.set_partner_id(partner_);
    revoke.set_customer_id(c);
    v1::Relationship revoked;
    ASSERT_TRUE(stub_a->RevokeAdminPermission(Ctx(c, "customer_admin").get(), revoke, &revoked).ok());
  }
  int on_new_partitions = 0;
  for (const std::string& c : customers) {
    const std::string needle = "access cache: PermissionRevoked " + partner_ + ":" + c + " v2";
    WaitLine(b, needle);
    for (const std::string& line : b.lines()) {
      if (absl::StrContains(line, needle) && !absl::StrContains(line, "(partition 0)")) {
        ++on_new_partitions;
      }
    }
  }
  EXPECT_GT(on_new_partitions, 0) << "no revoke reached B through an added partition";
  auto stub_b = RelStub(port_b);
  v1::CheckAdminAccessRequest check;
  check.set_partner_id(partner_);
  check.set_customer_id(customers.back());
  v1::CheckAdminAccessResponse answer;
  ASSERT_TRUE(stub_b->CheckAdminAccess(Ctx("svc", "service").get(), check, &answer).ok());
  EXPECT_FALSE(answer.allowed());
}

INSTANTIATE_TEST_SUITE_P(SharedPostgres, OwnBrokerTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pc::relationship
