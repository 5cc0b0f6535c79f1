// The contract suite on PostgreSQL 15 (label integration; needs PC_TEST_DATABASE_URL from the
// CTest fixture and fails without it), plus what only matters with several replicas and a
// server: concurrent migrations, relay leadership, reconnects, deadlocks, connection errors.
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/status_macros.h"
#include "pc/storage/database.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"
#include "storage_test_util.h"

namespace pc::storage::test_util {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

INSTANTIATE_TEST_SUITE_P(Postgres, StorageContractTest, ::testing::Values(Dialect::kPostgres),
                         DialectTestName);

using StoragePostgresTest = test_util::FreshDatabaseTest<Dialect::kPostgres>;

int64_t BackendPid(Database& db) {
  int64_t pid = -1;
  absl::Status status = db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT pg_backend_pid()"));
    PC_ASSIGN_OR_RETURN(pid, row.GetInt64(0));
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return pid;
}

TEST_F(StoragePostgresTest, ConcurrentMigrateFromTwoReplicasSucceeds) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int round = 0; round < 5; ++round) {
    // A fresh component and table each round, so both replicas really race.
    const std::string component = "svc" + std::to_string(round);
    const std::string table = "t_" + component;
    const std::vector<Migration> list = {
        {1, "create", "CREATE TABLE " + table + " (id TEXT PRIMARY KEY)"},
        {2, "seed", "INSERT INTO " + table + " (id) VALUES ('seed')"},
        {3, "index", "CREATE INDEX " + table + "_id ON " + table + " (id)"}};
    absl::Notification go;
    absl::Status result_a, result_b;
    std::thread ta([&] { go.WaitForNotification(); result_a = Migrate(*a, component, list); });
    std::thread tb([&] { go.WaitForNotification(); result_b = Migrate(*b, component, list); });
    go.Notify();
    ta.join();
    tb.join();
    EXPECT_OK(result_a);
    EXPECT_OK(result_b);
    EXPECT_OK(a->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM schema_migrations "
                                               "WHERE component = $1", {component}));
      EXPECT_EQ(*row.GetInt64(0), 3);
      PC_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT COUNT(*) FROM " + table));
      EXPECT_EQ(*row.GetInt64(0), 1);  // the seed ran once
      return absl::OkStatus();
    }));
  }
}

TEST_F(StoragePostgresTest, OnlyOneRelayPublishesAndAStandbyTakesOver) {
  auto db_a = OpenOrDie();
  auto db_b = OpenOrDie();
  ASSERT_NE(db_a, nullptr);
  ASSERT_NE(db_b, nullptr);
  ASSERT_OK(MigrateOutboxAndInbox(*db_a));
  FakePublisher publisher_a, publisher_b;
  RelayObserver observer;  // shared: counts rows marked sent by either relay
  OutboxRelayOptions options{.poll_interval = absl::Milliseconds(20)};
  observer.Attach(options);
  auto relay_a = std::make_unique<OutboxRelay>(*db_a, publisher_a, options);
  auto relay_b = std::make_unique<OutboxRelay>(*db_b, publisher_b, options);
  relay_a->Start();
  ASSERT_TRUE(observer.WaitForIdle());  // a idles only while holding the lock
  ASSERT_TRUE(relay_a->is_leader());
  relay_b->Start();

  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(db_a->InTransaction(
        [&](Transaction& tx) { return Outbox::Append(tx, MakeRecord("a" + std::to_string(i))); }));
  }
  relay_a->Notify();
  relay_b->Notify();
  ASSERT_TRUE(observer.WaitForSent(10));
  EXPECT_EQ(publisher_a.attempts().size(), 10u);
  EXPECT_EQ(publisher_b.attempts().size(), 0u);
  EXPECT_FALSE(relay_b->is_leader());

  ASSERT_OK(relay_a->Stop(kDeadline));  // releases the lock; b takes over at its next poll
  relay_a.reset();
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(db_b->InTransaction(
        [&](Transaction& tx) { return Outbox::Append(tx, MakeRecord("b" + std::to_string(i))); }));
  }
  relay_b->Notify();
  ASSERT_TRUE(observer.WaitForSent(15));
  EXPECT_EQ(publisher_b.delivered().size(), 5u);
  EXPECT_TRUE(relay_b->is_leader());
  EXPECT_EQ(publisher_a.attempts().size(), 10u);
}

// A commit on another replica wakes the leader through LISTEN/NOTIFY: with an hour-long poll
// and no in-process Notify(), the row is published only if the notification arrives.
TEST_F(StoragePostgresTest, ACommitOnAnotherReplicaWakesTheLeaderAtOnce) {
  auto db_a = OpenOrDie();
  auto db_b = OpenOrDie();
  ASSERT_NE(db_a, nullptr);
  ASSERT_NE(db_b, nullptr);
  ASSERT_OK(MigrateOutboxAndInbox(*db_a));
  FakePublisher publisher;
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
  observer.Attach(options);
  OutboxRelay relay(*db_a, publisher, options);
  relay.Start();
  ASSERT_TRUE(observer.WaitForIdle());  // leading, waiting out its hour
  ASSERT_TRUE(relay.is_leader());
  ASSERT_OK(db_b->InTransaction(
      [&](Transaction& tx) { return Outbox::Append(tx, MakeRecord("from-b")); }));
  ASSERT_TRUE(observer.WaitForSent(1)) << "the leader did not hear the other replica's commit";
  EXPECT_EQ(publisher.delivered().size(), 1u);
  ASSERT_OK(relay.Stop(kDeadline));
}

// A holder that stops checking its lock (frozen by SIGSTOP, or gone without closing its
// connection: to the server both look like an idle session) loses it once its lease ran out,
// and another replica gets it; the frozen holder learns it at its next Check().
TEST_F(StoragePostgresTest, AFrozenLockHolderLosesTheLockAfterItsLease) {
  auto db_a = OpenOrDie({.lock_lease = absl::Seconds(1)});
  auto db_b = OpenOrDie();
  ASSERT_NE(db_a, nullptr);
  ASSERT_NE(db_b, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SessionLock> held, db_a->TryLock("lease"));
  ASSERT_NE(held, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SessionLock> taken, db_b->TryLock("lease"));
  EXPECT_EQ(taken, nullptr) << "the lock was free while its holder was alive";
  // From now on `held` is never checked: the holder is frozen.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (taken == nullptr && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));  // the standby's poll, not synchronisation
    ASSERT_OK_AND_ASSIGN(taken, db_b->TryLock("lease"));
  }
  ASSERT_NE(taken, nullptr) << "the frozen holder kept the lock";
  EXPECT_THAT(held->Check(), ::pc::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(taken->Check());
}

TEST_F(StoragePostgresTest, BrokenPooledConnectionIsReconnected) {
  auto db = OpenOrDie({.pool_size = 1});
  auto admin = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_NE(admin, nullptr);
  int64_t pid = BackendPid(*db);
  ASSERT_OK(admin->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT pg_terminate_backend($1::int, 10000)", {pid}));
    EXPECT_EQ(*row.GetInt64(0), 1);  // true
    return absl::OkStatus();
  }));
  int64_t new_pid = BackendPid(*db);  // the next transaction works on a new session
  EXPECT_GT(new_pid, 0);
  EXPECT_NE(new_pid, pid);
}

TEST_F(StoragePostgresTest, ConnectionLostInsideATransactionIsUnavailable) {
  auto db = OpenOrDie({.pool_size = 1});
  auto admin = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_NE(admin, nullptr);
  absl::Status status = db->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT pg_backend_pid()"));
    PC_ASSIGN_OR_RETURN(int64_t pid, row.GetInt64(0));
    PC_RETURN_IF_ERROR(admin->InTransaction([&](Transaction& admin_tx) {
      return admin_tx.Query("SELECT pg_terminate_backend($1::int, 10000)", {pid}).status();
    }));
    return tx.Query("SELECT 1").status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_GT(BackendPid(*db), 0);  // and the pool recovers
}

TEST_F(StoragePostgresTest, DeadlockIsAborted) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->InTransaction([](Transaction& tx) {
    return tx.ExecuteScript("CREATE TABLE r (id INT PRIMARY KEY, v INT); "
                            "INSERT INTO r VALUES (1, 0), (2, 0)");
  }));
  absl::Notification a_locked, b_locked;
  auto lock_both = [](Database* db, int first, int second, absl::Notification* mine,
                      absl::Notification* theirs) {
    return db->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_RETURN_IF_ERROR(tx.Execute("UPDATE r SET v = v + 1 WHERE id = $1", {first}).status());
      mine->Notify();
      theirs->WaitForNotification();
      return tx.Execute("UPDATE r SET v = v + 1 WHERE id = $1", {second}).status();
    });
  };
  absl::Status result_a, result_b;
  std::thread ta([&] { result_a = lock_both(a.get(), 1, 2, &a_locked, &b_locked); });
  std::thread tb([&] { result_b = lock_both(b.get(), 2, 1, &b_locked, &a_locked); });
  ta.join();
  tb.join();
  // The server's deadlock detector aborts exactly one of the two.
  EXPECT_NE(result_a.ok(), result_b.ok()) << result_a << " / " << result_b;
  absl::Status failed = result_a.ok() ? result_b : result_a;
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted) << failed;
}

TEST_F(StoragePostgresTest, BadInputErrorsHideTheValue) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->InTransaction(
      [](Transaction& tx) { return tx.ExecuteScript("CREATE TABLE n (v BIGINT, u UUID)"); }));
  absl::Status status = db->InTransaction([](Transaction& tx) {
    return tx.Execute("INSERT INTO n (u) VALUES ($1)", {"secret-not-a-uuid"}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("secret-not-a-uuid")));
}

TEST(StoragePostgresOpenTest, UnreachableServerIsUnavailable) {
  auto db = Open("postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2");
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
}

TEST(StoragePostgresOpenTest, MalformedUrlIsInvalidArgument) {
  auto db = Open("postgresql://127.0.0.1/postgres?no_such_option=1");
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument) << db.status();
  EXPECT_EQ(Open("postgresql://127.0.0.1/x", {.pool_size = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pc::storage::test_util
