// Design.md §4 end to end, against the real broker: the outbox on the producing side and the
// inbox on the consuming side give every committed event exactly one effect, through a relay
// killed with SIGKILL and a handler that fails after its commit (label integration).
#include <signal.h>
#include <sys/wait.h>

#include <condition_variable>
#include <future>
#include <filesystem>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/storage/database.h"
#include "pc/storage/inbox.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"
#include "pc/testing/subprocess.h"

namespace pc {
namespace {

using pc::storage::Transaction;

// A consumer whose effect is a row per event, guarded by the inbox, in its own SQLite file.
class EffectLedger {
 public:
  explicit EffectLedger(const std::string& path) {
    auto db = pc::storage::Open(path);
    EXPECT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    EXPECT_OK(pc::storage::MigrateOutboxAndInbox(*db_));
    EXPECT_OK(pc::storage::Migrate(
        *db_, "ledger", {{1, "effects", "CREATE TABLE effects (event_id TEXT NOT NULL)"}}));
  }

  // Applies one delivery: records the effect once per event id. `fail_after_commit` makes the
  // handler report a transient failure after its transaction committed.
  absl::Status Apply(const pc::kafka::ConsumedMessage& m, bool fail_after_commit) {
    const std::string event_id = pc::kafka::HeaderValue(m.headers, "event-id");
    {
      std::lock_guard lock(mu_);
      ++deliveries_[event_id];
    }
    absl::Status status = db_->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(bool first, pc::storage::Inbox::TryInsert(tx, "ledger", event_id));
      if (!first) return absl::OkStatus();
      return tx.Execute("INSERT INTO effects (event_id) VALUES ($1)", {event_id}).status();
    });
    cv_.notify_all();
    if (!status.ok()) return status;
    return fail_after_commit ? absl::UnavailableError("crashed after commit") : absl::OkStatus();
  }

  int64_t Effects(const std::string& event_id) {
    int64_t n = -1;
    EXPECT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(auto row,
                          tx.QueryOne("SELECT count(*) FROM effects WHERE event_id = $1", {event_id}));
      PC_ASSIGN_OR_RETURN(n, row.GetInt64(0));
      return absl::OkStatus();
    }));
    return n;
  }

  int Deliveries(const std::string& event_id) {
    std::lock_guard lock(mu_);
    return deliveries_[event_id];
  }

  // Waits until `pred` (called under the lock with the delivery counts) holds.
  bool WaitUntil(const std::function<bool(std::map<std::string, int>&)>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(90), [&] { return pred(deliveries_); });
  }

 private:
  std::unique_ptr<pc::storage::Database> db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> deliveries_;
};

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = pc::testing::KafkaBrokers();
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("delivery");
    std::filesystem::create_directories(dir_);
    topic_ = pc::testing::UniqueName("delivery");
    ASSERT_OK(pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), {topic_}, 3, 1));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string brokers_;
  std::filesystem::path dir_;
  std::string topic_;
};

TEST_F(DeliveryTest, RelayKilledBetweenPublishAndMarkSentStillGivesOneEffectPerEvent) {
  const std::string outbox_path = (dir_ / "producer.db").string();
  auto db = pc::storage::Open(outbox_path);
  ASSERT_OK(db.status());
  ASSERT_OK(pc::storage::MigrateOutboxAndInbox(**db));
  std::vector<std::string> committed;
  auto record = [&](const std::string& event_id) {
    return pc::storage::OutboxRecord{.topic = topic_, .key = "agg-" + event_id.substr(0, 4),
                                     .event_id = event_id, .event_type = "TestEvent",
                                     .payload = "payload-" + event_id};
  };
  ASSERT_OK((*db)->InTransaction([&](Transaction& tx) -> absl::Status {
    for (int i = 0; i < 3; ++i) {
      committed.push_back(NewUuid());
      PC_RETURN_IF_ERROR(pc::storage::Outbox::Append(tx, record(committed.back())));
    }
    return absl::OkStatus();
  }));
  const std::string rolled_back = NewUuid();
  EXPECT_THAT((*db)->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(pc::storage::Outbox::Append(tx, record(rolled_back)));
    return absl::AbortedError("business rule failed after the append");
  }),
              pc::testing::StatusIs(absl::StatusCode::kAborted));
  ASSERT_THAT(pc::storage::Outbox::Backlog(**db), pc::testing::IsOkAndHolds(3));

  EffectLedger ledger((dir_ / "consumer.db").string());
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = pc::testing::UniqueName("ledger"), .topics = {topic_}},
      [&](const pc::kafka::ConsumedMessage& m) { return ledger.Apply(m, false); }, nullptr);
  ASSERT_OK(consumer.status());
  ASSERT_OK((*consumer)->Start());

  {
    pc::testing::Subprocess relay({PC_OUTBOX_RELAY_BINARY, outbox_path, brokers_, "crash"});
    ASSERT_OK(relay.WaitForLine([](const std::string& l) { return l == "PUBLISHED 3"; },
                                absl::Seconds(90))
                  .status());
    relay.Kill(SIGKILL);
    const int status = relay.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  // Delivered to Kafka, never marked sent.
  EXPECT_THAT(pc::storage::Outbox::Backlog(**db), pc::testing::IsOkAndHolds(3));

  pc::testing::Subprocess relay({PC_OUTBOX_RELAY_BINARY, outbox_path, brokers_});
  ASSERT_OK(relay.WaitForLine([](const std::string& l) { return l == "MARKED 3"; },
                              absl::Seconds(90))
                .status());
  EXPECT_THAT(pc::storage::Outbox::Backlog(**db), pc::testing::IsOkAndHolds(0));

  // Every committed event reaches the consumer twice (before and after the crash)…
  ASSERT_TRUE(ledger.WaitUntil([&](std::map<std::string, int>& seen) {
    for (const auto& id : committed) {
      if (seen[id] < 2) return false;
    }
    return true;
  }));
  // …and has exactly one effect; the rolled-back one never existed.
  for (const auto& id : committed) EXPECT_EQ(ledger.Effects(id), 1) << id;
  EXPECT_EQ(ledger.Deliveries(rolled_back), 0);
  EXPECT_EQ(ledger.Effects(rolled_back), 0);
  relay.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(relay.Wait()));
  (*consumer)->Stop(absl::Seconds(10));
}

TEST_F(DeliveryTest, AHandlerFailingAfterItsCommitIsRedeliveredAfterRestartWithOneEffect) {
  auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers_, .security = pc::testing::KafkaSecurity()});
  ASSERT_OK(publisher.status());
  const std::string event_id = NewUuid();
  std::promise<absl::Status> delivered;
  (*publisher)->Publish({.topic = topic_, .key = "k", .payload = "p",
                         .headers = {{"event-id", event_id}}},
                        [&](absl::Status s) { delivered.set_value(s); });
  ASSERT_OK(delivered.get_future().get());

  EffectLedger ledger((dir_ / "consumer.db").string());
  const std::string group = pc::testing::UniqueName("redelivery");
  std::promise<pc::kafka::ConsumedMessage> first_failure;
  std::atomic<bool> failed_once{false};
  {
    auto consumer = pc::kafka::KafkaConsumer::Create(
        {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = group, .topics = {topic_}},
        [&](const pc::kafka::ConsumedMessage& m) { return ledger.Apply(m, true); }, nullptr,
        {.on_handled = [&](const pc::kafka::ConsumedMessage& m, const absl::Status& s) {
           if (!s.ok() && !failed_once.exchange(true)) first_failure.set_value(m);
         }});
    ASSERT_OK(consumer.status());
    ASSERT_OK((*consumer)->Start());
    first_failure.get_future().wait();
    (*consumer)->Stop(absl::Seconds(10));  // the "crash": the offset was never stored
  }
  EXPECT_EQ(ledger.Effects(event_id), 1);

  std::promise<pc::kafka::ConsumedMessage> redelivered;
  std::atomic<bool> done{false};
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .group_id = group, .topics = {topic_}},
      [&](const pc::kafka::ConsumedMessage& m) { return ledger.Apply(m, false); }, nullptr,
      {.on_handled = [&](const pc::kafka::ConsumedMessage& m, const absl::Status& s) {
         if (s.ok() && !done.exchange(true)) redelivered.set_value(m);
       }});
  ASSERT_OK(consumer.status());
  ASSERT_OK((*consumer)->Start());
  const pc::kafka::ConsumedMessage again = redelivered.get_future().get();
  EXPECT_EQ(pc::kafka::HeaderValue(again.headers, "event-id"), event_id);
  EXPECT_GE(ledger.Deliveries(event_id), 2);
  EXPECT_EQ(ledger.Effects(event_id), 1);
  (*consumer)->Stop(absl::Seconds(10));
  (*publisher)->Close(absl::Seconds(5));
}

}  // namespace
}  // namespace pc
