// The pc-invitation binary against the real Kafka broker: what event consumers see on
// partnercenter.<cloud>.invitation-events.v1, and that a crash right after a commit neither
// loses nor doubles an event (label integration).
#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <regex>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/testing/infra.h"
#include "pc/testing/subprocess.h"
#include "pc/testing/test_tls.h"
#include "pc/testing/topic_recorder.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
namespace v1 = partnercenter::invitation::v1;
using partnercenter::events::v1::EventEnvelope;

using pc::testing::TopicRecorder;

class InvitationBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("invitation-e2e");
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(pc::auth::GenerateDevKeyPair((dir_ / "jwt").string(), "k1").ok());
    auto minter = pc::auth::Minter::FromDirectory((dir_ / "jwt").string(), "k1",
                                                  "partnercenter-dev", "partnercenter");
    ASSERT_TRUE(minter.ok());
    minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
    ASSERT_TRUE(pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics("germany"), 3, 1).ok());
  }
  // The services' logs stay in dir_ when a test failed.
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Starts pc-invitation on a kernel-chosen port; returns once it serves.
  void StartService(const std::string& brokers) {
    // Over mTLS, as in `make run`.
    if (!tls_) tls_ = std::make_unique<pc::testing::TestTls>(dir_ / "grpc-tls",
                                                            std::vector<std::string>{"invitation", "test"});
    std::vector<std::string> args{PC_INVITATION_BINARY, "--cloud=germany", "--grpc_port=0",
                                  "--admin_port=0", "--log_format=text",
                                  "--kafka_brokers=" + brokers,
                                  "--jwt_keys_dir=" + (dir_ / "jwt").string(),
                                  "--database_url=sqlite://" + (dir_ / "inv.db").string()};
    for (std::string& f : tls_->Flags("invitation")) args.push_back(std::move(f));
    service_ = std::make_unique<pc::testing::Subprocess>(
        std::move(args), pc::testing::KafkaSecurityEnv("invitation"), (dir_ / "service.log").string());
    auto line = service_->WaitForLine(
        [](const std::string& l) { return l.find("serving gRPC on :") != std::string::npos; },
        absl::Seconds(60));
    ASSERT_TRUE(line.ok()) << line.status();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*line, m, std::regex("gRPC on :(\\d+)")));
    stub_ = v1::InvitationService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + m[1].str(), tls_->Credentials("test")));
  }

  std::string Token(const std::string& tenant, const std::string& role,
                    std::vector<std::string> verified_domains = {}) {
    pc::auth::Claims claims{.subject = "u", .tenant_id = tenant, .cloud = "germany", .roles = {role}};
    claims.verified_domains = std::move(verified_domains);
    return *minter_->Mint(claims, absl::Hours(1), absl::Now());
  }

  v1::CreateInvitationResponse Invite(const std::string& domain, const std::string& correlation) {
    v1::CreateInvitationRequest req;
    req.set_request_id(pc::testing::UniqueName("req"));
    req.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    req.set_include_admin_permission(true);
    req.mutable_customer_hint()->set_email_domain(domain);
    grpc::ClientContext ctx;
    pc::auth::AttachBearerToken(&ctx, Token(partner_, "partner_admin"));
    ctx.AddMetadata("x-correlation-id", correlation);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::CreateInvitationResponse resp;
    const grpc::Status s = stub_->CreateInvitation(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::string brokers_;
  std::filesystem::path dir_;
  std::unique_ptr<pc::auth::Minter> minter_;
  std::unique_ptr<pc::testing::TestTls> tls_;
  std::unique_ptr<pc::testing::Subprocess> service_;
  std::unique_ptr<v1::InvitationService::Stub> stub_;
  const std::string partner_ = pc::testing::UniqueName("partner").substr(5);
};

TEST_F(InvitationBrokerTest, CreateAndAcceptReachTheTopicWithTheFullEnvelope) {
  TopicRecorder recorder(brokers_, pc::kafka::InvitationTopic("germany"));
  StartService(brokers_);
  const auto created = Invite("contoso.com", "corr-e2e-1");
  const std::string id = created.invitation().id();

  auto sent_or = recorder.WaitFor(id, "InvitationSent");
  ASSERT_TRUE(sent_or.has_value());
  const TopicRecorder::Seen& sent = *sent_or;
  EXPECT_EQ(sent.message.key, id);
  EXPECT_EQ(pc::kafka::HeaderValue(sent.message.headers, "event-id"), sent.envelope.event_id());
  EXPECT_EQ(pc::kafka::HeaderValue(sent.message.headers, "event-type"), "InvitationSent");
  EXPECT_EQ(pc::kafka::HeaderValue(sent.message.headers, "content-type"),
            "application/x-protobuf");
  EXPECT_EQ(pc::kafka::HeaderValue(sent.message.headers, "correlation-id"), "corr-e2e-1");
  EXPECT_EQ(sent.envelope.partner_id(), partner_);
  EXPECT_EQ(sent.envelope.cloud(), common::CLOUD_GERMANY);
  EXPECT_EQ(sent.envelope.aggregate_version(), 1);
  EXPECT_TRUE(sent.envelope.has_occurred_at());
  EXPECT_EQ(sent.envelope.actor().tenant_id(), partner_);

  const std::string link = created.email_draft().link();
  v1::AcceptInvitationRequest accept;
  accept.set_request_id("accept");
  accept.set_token(link.substr(link.find("token=") + 6));
  accept.mutable_customer_profile()->set_company_name("Contoso");
  accept.mutable_customer_profile()->set_primary_domain("contoso.com");
  accept.mutable_customer_profile()->set_country("DE");
  grpc::ClientContext ctx;
  // The customer's identity provider has verified the hinted domain.
  pc::auth::AttachBearerToken(&ctx, Token("customer-77", "customer_admin", {"contoso.com"}));
  v1::AcceptInvitationResponse resp;
  ASSERT_TRUE(stub_->AcceptInvitation(&ctx, accept, &resp).ok());

  auto accepted_or = recorder.WaitFor(id, "InvitationAccepted");
  ASSERT_TRUE(accepted_or.has_value());
  const TopicRecorder::Seen& accepted = *accepted_or;
  EXPECT_EQ(accepted.envelope.customer_id(), "customer-77");
  EXPECT_EQ(accepted.envelope.aggregate_version(), 2);
  EXPECT_EQ(accepted.envelope.invitation_accepted().customer_profile().company_name(), "Contoso");
  EXPECT_EQ(accepted.message.partition, sent.message.partition);  // keyed by invitation id
  EXPECT_GT(accepted.message.offset, sent.message.offset);
}

TEST_F(InvitationBrokerTest, AKillAfterCommitNeitherLosesNorDoublesTheEvent) {
  TopicRecorder recorder(brokers_, pc::kafka::InvitationTopic("germany"));
  // The broker is unreachable, so the committed event cannot leave the outbox…
  StartService("127.0.0.1:1");
  const std::string id = Invite("fabrikam.com", "corr-crash").invitation().id();
  ASSERT_FALSE(id.empty());
  // …and the process dies without any chance to clean up.
  service_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(service_->Wait()));

  StartService(brokers_);
  // A later event from the same relay is a barrier: rows are published in commit order.
  const std::string barrier = Invite("northwind.com", "corr-barrier").invitation().id();
  recorder.WaitFor(barrier, "InvitationSent");
  recorder.WaitFor(id, "InvitationSent");
  EXPECT_EQ(recorder.Count(id, "InvitationSent"), 1);
  EXPECT_EQ(recorder.Count(barrier, "InvitationSent"), 1);
}

// Two replicas on one PostgreSQL: the relay leader is frozen with SIGSTOP (its connections
// stay open, so only the lock's lease can free it). A write on the standby is still published:
// the standby takes the relay over once the frozen leader's lease ran out, and the leader,
// thawed, learns it lost the lock. Nothing is lost or doubled.
TEST_F(InvitationBrokerTest, AFrozenRelayLeaderIsReplacedByTheStandby) {
  auto pg = pc::testing::TempPostgresDatabase::Create();
  ASSERT_TRUE(pg.ok()) << pg.status();
  TopicRecorder recorder(brokers_, pc::kafka::InvitationTopic("germany"));
  // Over mTLS, as in `make run`.
  if (!tls_) tls_ = std::make_unique<pc::testing::TestTls>(dir_ / "grpc-tls",
                                                          std::vector<std::string>{"invitation", "test"});
  auto start = [&](const std::string& name) {
    std::vector<std::string> args{PC_INVITATION_BINARY, "--cloud=germany", "--grpc_port=0",
                                  "--admin_port=0", "--log_format=text", "--drain_delay=0s",
                                  "--kafka_brokers=" + brokers_,
                                  "--jwt_keys_dir=" + (dir_ / "jwt").string(),
                                  "--database_url=" + (*pg)->url()};
    for (std::string& f : tls_->Flags("invitation")) args.push_back(std::move(f));
    return std::make_unique<pc::testing::Subprocess>(
        std::move(args), pc::testing::KafkaSecurityEnv("invitation"), (dir_ / (name + ".log")).string());
  };
  // The gRPC port once `p` serves, and (with `lock`) once it also holds the relay lock. The
  // relay starts before the server, so the two lines come in either order.
  auto serving_port = [](pc::testing::Subprocess& p, bool lock) -> std::string {
    std::string port;
    bool locked = !lock;
    auto line = p.WaitForLine(
        [&](const std::string& l) {
          std::smatch m;
          if (std::regex_search(l, m, std::regex("serving gRPC on :(\\d+)"))) port = m[1].str();
          if (l.find("holding the relay lock") != std::string::npos) locked = true;
          return !port.empty() && locked;
        },
        absl::Seconds(60));
    EXPECT_TRUE(line.ok()) << line.status();
    return line.ok() ? port : "";
  };
  auto leader = start("leader");
  ASSERT_FALSE(serving_port(*leader, /*lock=*/true).empty());
  auto standby = start("standby");
  const std::string standby_port = serving_port(*standby, /*lock=*/false);
  ASSERT_FALSE(standby_port.empty());
  stub_ = v1::InvitationService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + standby_port, tls_->Credentials("test")));

  ASSERT_EQ(kill(leader->pid(), SIGSTOP), 0);
  const std::string id = Invite("fabrikam.com", "corr-frozen").invitation().id();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(recorder.WaitFor(id, "InvitationSent").has_value())
      << "the write on the standby was never published while the leader was frozen";
  EXPECT_TRUE(standby->WaitForLine(
      [](const std::string& l) { return l.find("holding the relay lock") != std::string::npos; },
      absl::Seconds(5)).ok());

  ASSERT_EQ(kill(leader->pid(), SIGCONT), 0);
  EXPECT_TRUE(leader->WaitForLine(
      [](const std::string& l) { return l.find("lost the relay lock") != std::string::npos; },
      absl::Seconds(60)).ok());
  const std::string after = Invite("northwind.com", "corr-after").invitation().id();
  ASSERT_TRUE(recorder.WaitFor(after, "InvitationSent").has_value());
  EXPECT_EQ(recorder.Count(id, "InvitationSent"), 1);
  EXPECT_EQ(recorder.Count(after, "InvitationSent"), 1);
  leader->Kill(SIGKILL);
  standby->Kill(SIGKILL);
}

}  // namespace
}  // namespace pc::invitation
