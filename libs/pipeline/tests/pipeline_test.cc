// pc::pipeline without a broker: the readiness rule's table, the outcome counters and their
// consumer hooks, /caughtup over an outbox, the outbox gauges.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/pipeline/caught_up.h"
#include "pc/pipeline/consumer_counters.h"
#include "pc/pipeline/consumer_monitor.h"
#include "pc/pipeline/outbox_metrics.h"
#include "pc/pipeline/retention.h"
#include "pc/storage/inbox.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"
#include "pc/storage/test_database.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/status_matchers.h"
#include "pc/common/status_macros.h"

namespace pc::pipeline {
namespace {

using ::pc::testing::IsOk;
using ::pc::testing::StatusIs;
using ::testing::HasSubstr;

pc::kafka::GroupStatus WithUnheld(int unheld) {
  pc::kafka::GroupStatus status;
  status.unheld = unheld;
  return status;
}

TEST(ConsumerReadiness, Table) {
  const absl::Time now = absl::FromUnixSeconds(1000);
  const absl::Duration session = absl::Seconds(10);
  struct Case {
    const char* name;
    bool fatal;
    std::optional<absl::Time> unassigned_since;
    std::optional<pc::kafka::GroupStatus> probe;
    bool ready;
  } cases[] = {
      {"holds partitions", false, std::nullopt, WithUnheld(3), true},
      {"fatal error", true, std::nullopt, WithUnheld(0), false},
      {"unassigned briefly (rebalance)", false, now - absl::Seconds(5), WithUnheld(3), true},
      {"unassigned past the session timeout, partitions orphaned", false,
       now - absl::Seconds(11), WithUnheld(2), false},
      {"more replicas than partitions: every partition has a holder", false,
       now - absl::Hours(1), WithUnheld(0), true},
      {"no probe yet: cannot tell, stays ready", false, now - absl::Hours(1), std::nullopt, true},
  };
  for (const Case& c : cases) {
    absl::Status status = ConsumerReadiness(c.fatal, c.unassigned_since, now, session, c.probe);
    EXPECT_EQ(status.ok(), c.ready) << c.name << ": " << status;
    if (!c.ready) {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable)) << c.name;
    }
  }
  EXPECT_THAT(std::string(ConsumerReadiness(false, now - absl::Seconds(11), now, session,
                                            WithUnheld(2))
                              .message()),
              HasSubstr("2 partition(s)"));
}

TEST(ConsumerCounters, CountsOutcomesAndTheConsumersFailuresApart) {
  pc::runtime::Registry registry;
  ConsumerCounters counters(registry, "notification");
  counters.Count(pc::events::Outcome::kApplied, 3);
  counters.Count(pc::events::Outcome::kDuplicateIgnored);
  int forwarded = 0;
  pc::kafka::ConsumerHooks hooks = counters.Hooks(
      {.on_handled = [&](const pc::kafka::ConsumedMessage&, const absl::Status&) { ++forwarded; }});
  const pc::kafka::ConsumedMessage m;
  hooks.on_handled(m, absl::UnavailableError("db down"));     // retried
  hooks.on_handled(m, absl::DataLossError("poison"));         // permanent: not a retry
  hooks.on_handled(m, absl::OkStatus());
  hooks.on_dead_lettered(m, absl::DataLossError("poison"));
  EXPECT_EQ(forwarded, 3);
  EXPECT_EQ(counters.Value("applied"), 3);
  EXPECT_EQ(counters.Value("duplicate_ignored"), 1);
  EXPECT_EQ(counters.Value("retried"), 1);
  EXPECT_EQ(counters.Value("dead_lettered"), 1);
  EXPECT_EQ(counters.Value("ignored_unknown_type"), 0);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("pc_consumer_events_total{group=\"notification\",outcome=\"applied\"} 3"));
  EXPECT_THAT(text, HasSubstr("outcome=\"ignored_unknown_type\"} 0"));  // present from the start
}

class OutboxPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(test_db_, pc::storage::TestDatabase::Create(pc::storage::Dialect::kSqlite));
    ASSERT_OK_AND_ASSIGN(db_, test_db_->Open());
    ASSERT_THAT(pc::storage::MigrateOutboxAndInbox(*db_), IsOk());
  }
  absl::Status AppendOne() {
    return db_->InTransaction([](pc::storage::Transaction& tx) {
      return pc::storage::Outbox::Append(
          tx, {.topic = "t", .key = "k", .event_id = "e-1", .event_type = "X", .payload = "p"});
    });
  }
  std::unique_ptr<pc::storage::TestDatabase> test_db_;
  std::unique_ptr<pc::storage::Database> db_;
};

TEST_F(OutboxPipelineTest, CaughtUpOnlyWithAnEmptyOutbox) {
  CaughtUp caught_up({.outbox = db_.get()});
  CaughtUpReport report = caught_up.Check();
  EXPECT_TRUE(report.caught_up);
  EXPECT_EQ(report.outbox_backlog, 0);
  EXPECT_EQ(caught_up.Page().status, 200u);
  EXPECT_EQ(report.ToJson(), "{\"caught_up\":true,\"outbox_backlog\":0}\n");

  ASSERT_THAT(AppendOne(), IsOk());
  report = caught_up.Check();
  EXPECT_FALSE(report.caught_up);
  EXPECT_EQ(report.outbox_backlog, 1);
  EXPECT_EQ(caught_up.Page().status, 503u);
}

TEST_F(OutboxPipelineTest, CaughtUpIsFalseWhenTheOutboxCannotBeRead) {
  ASSERT_THAT(db_->InTransaction([](pc::storage::Transaction& tx) {
    return tx.Execute("DROP TABLE outbox").status();
  }), IsOk());
  CaughtUpReport report = CaughtUp({.outbox = db_.get()}).Check();
  EXPECT_FALSE(report.caught_up);
  EXPECT_THAT(report.error, HasSubstr("outbox"));
}

// A publisher that never delivers: the relay is never started here, only its gauges read.
class NoPublisher final : public pc::kafka::Publisher {
 public:
  void Publish(const pc::kafka::OutboundMessage&, pc::kafka::DeliveryCallback) override {}
  absl::Status Flush(absl::Duration) override { return absl::OkStatus(); }
};

TEST_F(OutboxPipelineTest, OutboxGaugesShowBacklogAgeAndLeadership) {
  NoPublisher publisher;
  pc::storage::OutboxRelay relay(*db_, publisher);
  pc::testing::FakeClock clock(absl::Now() + absl::Seconds(30));
  pc::runtime::Registry registry;
  RegisterOutboxMetrics(registry, relay, *db_, clock);
  EXPECT_THAT(registry.Render(), HasSubstr("pc_outbox_oldest_unsent_age_seconds 0\n"));
  ASSERT_THAT(AppendOne(), IsOk());
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("pc_outbox_backlog 1\n"));
  EXPECT_THAT(text, HasSubstr("pc_outbox_relay_leader 0\n"));  // not started: holds no lock
  EXPECT_THAT(text, ::testing::ContainsRegex("pc_outbox_oldest_unsent_age_seconds (29|30)"));
}

// Retention: sent outbox rows and inbox rows past their age go, unsent rows and younger rows
// stay, a generic rule deletes by its column, and the counter says how many went.
TEST_F(OutboxPipelineTest, RetentionDeletesOnlyWhatIsOldEnough) {
  ASSERT_THAT(AppendOne(), IsOk());  // will be sent
  ASSERT_THAT(db_->InTransaction([](pc::storage::Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.Execute("UPDATE outbox SET sent_at = $1",
                                  {absl::ToUnixMicros(absl::Now())}).status());
    PC_RETURN_IF_ERROR(pc::storage::Outbox::Append(
        tx, {.topic = "t", .key = "k", .event_id = "e-unsent", .event_type = "X", .payload = "p"}));
    PC_RETURN_IF_ERROR(pc::storage::Inbox::TryInsert(tx, "g", "e-old").status());
    PC_RETURN_IF_ERROR(tx.Execute("CREATE TABLE requests (id TEXT, created_at BIGINT)").status());
    PC_RETURN_IF_ERROR(tx.Execute("INSERT INTO requests VALUES ('old', $1), ('new', $2)",
                                  {absl::ToUnixMicros(absl::Now() - absl::Hours(30)),
                                   absl::ToUnixMicros(absl::Now())}).status());
    return absl::OkStatus();
  }), IsOk());
  // Two days on: the sent row and the inbox row are older than a day, the unsent one stays.
  pc::testing::FakeClock clock(absl::Now() + absl::Hours(48));
  pc::runtime::Registry registry;
  RetentionSweeper sweeper(
      {OutboxRule(*db_, absl::Hours(24)), InboxRule(*db_, absl::Hours(24)),
       {.table = "requests", .keep = absl::Hours(24 + 48),
        .prune = DeleteOlderThan(*db_, "requests", "created_at")}},
      registry, clock, absl::Hours(1));
  ASSERT_THAT(sweeper.SweepOnce(), IsOk());
  EXPECT_EQ(pc::storage::QueryInt64(*db_, "SELECT COUNT(*) FROM outbox").value(), 1);
  EXPECT_EQ(pc::storage::QueryInt64(*db_, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
                .value(),
            1);
  EXPECT_EQ(pc::storage::QueryInt64(*db_, "SELECT COUNT(*) FROM inbox").value(), 0);
  EXPECT_EQ(pc::storage::QueryInt64(*db_, "SELECT COUNT(*) FROM requests").value(), 1);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("pc_retention_deleted_rows_total{table=\"outbox\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pc_retention_deleted_rows_total{table=\"inbox\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pc_retention_deleted_rows_total{table=\"requests\"} 1\n"));
  ASSERT_THAT(sweeper.SweepOnce(), IsOk());  // nothing more to do
  EXPECT_THAT(registry.Render(), HasSubstr("{table=\"outbox\"} 1\n"));
}

}  // namespace
}  // namespace pc::pipeline
