// pc-notification against the real Kafka broker (label integration): events in → page rows
// out; a watcher sees a change made after it subscribed; a poison message goes to the dead
// letter without stopping consumption; and a rebuild from the earliest offsets into an empty
// store equals the live read model.
#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "events.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/publisher.h"
#include "pc/storage/database.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"
#include "pc/testing/subprocess.h"
#include "pc/testing/test_tls.h"
#include "pc/testing/topic_recorder.h"
#include "store.h"

namespace pc::notification::testing {
namespace {

constexpr char kCloud[] = "global";

class NotificationBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("notification-e2e");
    std::filesystem::create_directories(dir_);
    ASSERT_OK(pc::auth::GenerateDevKeyPair((dir_ / "jwt").string(), "k1").status());
    auto minter = pc::auth::Minter::FromDirectory((dir_ / "jwt").string(), "k1",
                                                  "partnercenter-dev", "partnercenter");
    ASSERT_OK(minter.status());
    minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
    ASSERT_OK(pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics(kCloud), 3, 1));
    auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .client_id = "test"});
    ASSERT_OK(publisher.status());
    publisher_ = *std::move(publisher);
  }

  void TearDown() override {
    service_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> Flags(const std::string& db) {
    // Over mTLS, as in `make run`.
    if (!tls_) tls_ = std::make_unique<pc::testing::TestTls>(dir_ / "grpc-tls",
                                                            std::vector<std::string>{"notification", "test"});
    std::vector<std::string> flags{PC_NOTIFICATION_BINARY, absl::StrCat("--cloud=", kCloud), "--grpc_port=0",
            "--admin_port=0", "--log_format=text", "--kafka_brokers=" + brokers_,
            "--jwt_keys_dir=" + (dir_ / "jwt").string(),
            "--database_url=sqlite://" + (dir_ / db).string(),
            "--consumer_group=" + group_, "--watch_poll_interval=50ms"};
    for (std::string& f : tls_->Flags("notification")) flags.push_back(std::move(f));
    return flags;
  }

  void Start() {
    service_ = std::make_unique<pc::testing::Subprocess>(Flags("live.db"),
                                                         pc::testing::KafkaSecurityEnv("notification"),
                                                         (dir_ / "live.log").string());
    auto line = service_->WaitForLine(
        [](const std::string& l) { return l.find("serving gRPC on :") != std::string::npos; },
        absl::Seconds(60));
    ASSERT_OK(line.status());
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*line, m, std::regex("gRPC on :(\\d+)")));
    stub_ = v1::NotificationService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + m[1].str(), tls_->Credentials("test")));
  }

  std::string Token(const std::string& tenant, const std::string& role) {
    return *minter_->Mint({.subject = "u", .tenant_id = tenant, .cloud = kCloud, .roles = {role}},
                          absl::Hours(1), absl::Now());
  }

  void Publish(const std::string& topic, const std::string& key, const std::string& bytes) {
    publisher_->Publish({.topic = topic, .key = key, .payload = bytes},
                        [](const absl::Status& s) { EXPECT_TRUE(s.ok()) << s; });
    ASSERT_OK(publisher_->Flush(absl::Seconds(30)));
  }
  void Publish(const ev::EventEnvelope& e) {
    const bool invitation = e.payload_case() <= ev::EventEnvelope::kInvitationResent;
    Publish(invitation ? pc::kafka::InvitationTopic(kCloud) : pc::kafka::RelationshipTopic(kCloud),
            e.aggregate_id(), e.SerializeAsString());
  }

  std::string brokers_;
  std::filesystem::path dir_;
  std::unique_ptr<pc::auth::Minter> minter_;
  std::unique_ptr<pc::kafka::KafkaPublisher> publisher_;
  std::unique_ptr<pc::testing::TestTls> tls_;
  std::unique_ptr<pc::testing::Subprocess> service_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
  // Starts with the service's name: its ACL allows the groups "notification*".
  std::string group_ = "notification." + pc::testing::UniqueName("e2e");
  const std::string partner_ = "p" + pc::NewUuid().substr(0, 8);
  EventFactory events_{kCloud};
};

TEST_F(NotificationBrokerTest, EventsInRowsOutAndAWatcherSeesLaterChangesLive) {
  pc::testing::TopicRecorder dead_letter(brokers_, pc::kafka::DeadLetterTopic(kCloud));
  Start();
  grpc::ClientContext watch_ctx;
  pc::auth::AttachBearerToken(&watch_ctx, Token(partner_, "partner_agent"));
  v1::WatchCustomersRequest watch;
  auto reader = stub_->WatchCustomers(&watch_ctx, watch);
  v1::CustomerChange change;
  ASSERT_TRUE(reader->Read(&change));
  ASSERT_EQ(change.kind(), v1::CHANGE_KIND_SNAPSHOT_END);
  EXPECT_EQ(change.sequence(), 0);

  // A poison message first, on the same partition as what follows: it is dead-lettered and
  // consumption goes on.
  const std::string key = pc::events::RelationshipKey(partner_, "c1");
  Publish(pc::kafka::RelationshipTopic(kCloud), key, "\x01\x02 not an envelope");
  Publish(events_.Established(partner_, "c1", 1, "Contoso"));
  Publish(events_.Revoked(partner_, "c1", 2));
  // Sequences rise strictly; other partners' events share the cloud's clock, so gaps are allowed.
  ASSERT_TRUE(reader->Read(&change));
  const int64_t established = change.sequence();
  EXPECT_GT(established, 0);
  EXPECT_EQ(change.event_type(), "RelationshipEstablished");
  ASSERT_TRUE(reader->Read(&change));
  const int64_t revoked = change.sequence();
  EXPECT_GT(revoked, established);
  EXPECT_EQ(change.customer().admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_TRUE(change.customer().support_responsible());
  auto poisoned = dead_letter.WaitForMessage([&](const pc::kafka::ConsumedMessage& m) {
    return m.key == key && pc::kafka::HeaderValue(m.headers, "dlq-consumer-group") == group_;
  });
  ASSERT_TRUE(poisoned.has_value());
  EXPECT_EQ(poisoned->payload, "\x01\x02 not an envelope");
  EXPECT_FALSE(pc::kafka::HeaderValue(poisoned->headers, "dlq-error").empty());

  grpc::ClientContext page_ctx;
  pc::auth::AttachBearerToken(&page_ctx, Token(partner_, "partner_agent"));
  v1::GetCustomersPageRequest req;
  v1::CustomersPage page;
  ASSERT_TRUE(stub_->GetCustomersPage(&page_ctx, req, &page).ok());
  ASSERT_EQ(page.customers_size(), 1);
  EXPECT_EQ(page.customers(0).company_name(), "Contoso");
  EXPECT_EQ(page.customers(0).admin_access(), common::ADMIN_ACCESS_REVOKED);
  EXPECT_GE(page.as_of_sequence(), revoked);
  watch_ctx.TryCancel();
}

TEST_F(NotificationBrokerTest, RebuildFromEarliestEqualsTheLiveReadModel) {
  Start();
  grpc::ClientContext watch_ctx;
  pc::auth::AttachBearerToken(&watch_ctx, Token(partner_, "partner_admin"));
  auto reader = stub_->WatchCustomers(&watch_ctx, v1::WatchCustomersRequest());
  v1::CustomerChange change;
  ASSERT_TRUE(reader->Read(&change));  // SNAPSHOT_END
  int expected = 0;
  for (int c = 0; c < 5; ++c) {
    const std::string customer = absl::StrCat("c", c);
    Publish(events_.Established(partner_, customer, 1));
    ++expected;
    if (c % 2 == 0) {
      Publish(events_.Revoked(partner_, customer, 2));
      ++expected;
    }
    const std::string invitation = pc::NewUuid();
    Publish(events_.Invitation(partner_, invitation, 1, [](ev::EventEnvelope& e) {
      e.mutable_invitation_sent();
    }));
    ++expected;
  }
  // Sequences come from one clock per cloud, shared with the other tests' partners: they rise
  // strictly for this partner but need not be contiguous.
  int64_t last = 0;
  for (int i = 1; i <= expected; ++i) {
    ASSERT_TRUE(reader->Read(&change));
    ASSERT_GT(change.sequence(), last);
    last = change.sequence();
  }
  watch_ctx.TryCancel();

  pc::testing::Subprocess rebuild(
      [&] {
        std::vector<std::string> flags = Flags("rebuilt.db");
        flags.push_back("--rebuild");
        return flags;
      }(),
      pc::testing::KafkaSecurityEnv("notification"), (dir_ / "rebuild.log").string());
  auto done = rebuild.WaitForLine(
      [](const std::string& l) { return absl::StrContains(l, "rebuild: done"); },
      absl::Seconds(120));
  ASSERT_OK(done.status());
  ASSERT_EQ(WEXITSTATUS(rebuild.Wait()), 0);

  auto dump = [&](const std::string& db) -> std::vector<std::string> {
    auto opened = pc::storage::Open("sqlite://" + (dir_ / db).string());
    EXPECT_OK(opened.status());
    NotificationStore store(**opened);
    auto rows = store.DumpReadModels();
    EXPECT_OK(rows.status());
    std::vector<std::string> mine;  // other tests publish to the same topics
    for (const std::string& r : *rows) {
      if (absl::StrContains(r, partner_)) mine.push_back(r);
    }
    return mine;
  };
  const std::vector<std::string> live = dump("live.db");
  EXPECT_EQ(live.size(), 5u * 2 + 5u);  // customer rows, partner rows, invitation rows
  EXPECT_EQ(dump("rebuilt.db"), live);
}

// Reads a WatchCustomers stream on its own thread until it has `want` live changes.
class StreamReader {
 public:
  StreamReader(v1::NotificationService::Stub& stub, const std::string& token,
               std::optional<int64_t> resume, int want)
      : thread_([this, &stub, token, resume, want] {
          pc::auth::AttachBearerToken(&ctx_, token);
          v1::WatchCustomersRequest req;
          if (resume) req.set_resume_after_sequence(*resume);
          auto reader = stub.WatchCustomers(&ctx_, req);
          v1::CustomerChange c;
          while (reader->Read(&c)) {
            std::lock_guard lock(mu_);
            if (c.kind() == v1::CHANGE_KIND_SNAPSHOT_END) subscribed_ = true;
            if (c.kind() == v1::CHANGE_KIND_UPSERT) sequences_.push_back(c.sequence());
            cv_.notify_all();
            if (static_cast<int>(sequences_.size()) >= want) break;
          }
          ctx_.TryCancel();
          std::lock_guard lock(mu_);
          done_ = true;
          cv_.notify_all();
        }) {}
  ~StreamReader() {
    ctx_.TryCancel();
    thread_.join();
  }
  bool WaitSubscribed() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return subscribed_ || done_; }) &&
           subscribed_;
  }
  std::vector<int64_t> WaitDone() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(90), [&] { return done_; }));
    return sequences_;
  }

 private:
  grpc::ClientContext ctx_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;
  bool done_ = false;
  std::vector<int64_t> sequences_;
  std::thread thread_;
};

TEST_F(NotificationBrokerTest, FiftyWatchersGetTheSameSequenceAndAResumeMissesNothing) {
  Start();
  const std::string token = Token(partner_, "partner_agent");
  std::vector<std::unique_ptr<StreamReader>> watchers;
  for (int i = 0; i < 50; ++i) {
    watchers.push_back(std::make_unique<StreamReader>(*stub_, token, std::nullopt, 10));
  }
  for (auto& w : watchers) ASSERT_TRUE(w->WaitSubscribed());
  auto early = std::make_unique<StreamReader>(*stub_, token, std::optional<int64_t>(0), 4);
  for (int c = 0; c < 10; ++c) Publish(events_.Established(partner_, absl::StrCat("c", c), 1));
  // Sequences come from one clock per cloud shared with other tests' partners: strictly rising,
  // not necessarily contiguous, and the same for every watcher of this partner.
  const std::vector<int64_t> expected = watchers.front()->WaitDone();
  ASSERT_EQ(expected.size(), 10u);
  EXPECT_TRUE(std::is_sorted(expected.begin(), expected.end()) &&
              std::adjacent_find(expected.begin(), expected.end()) == expected.end());
  for (auto& w : watchers) EXPECT_EQ(w->WaitDone(), expected);
  // A watcher that went away after 4 changes resumes after its last one: the other 6, once each.
  const std::vector<int64_t> first_part = early->WaitDone();
  ASSERT_EQ(first_part, std::vector<int64_t>(expected.begin(), expected.begin() + 4));
  early.reset();
  StreamReader resumed(*stub_, token, first_part.back(), 6);
  EXPECT_EQ(resumed.WaitDone(), std::vector<int64_t>(expected.begin() + 4, expected.end()));
}

}  // namespace
}  // namespace pc::notification::testing
