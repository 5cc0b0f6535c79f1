// The contract suite on SQLite (label unit), plus what only SQLite has: pragmas, URL forms,
// and two connections (think: two processes) writing to one file.
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pc/common/status_macros.h"
#include "pc/storage/database.h"
#include "storage_test_util.h"

namespace pc::storage::test_util {
namespace {

INSTANTIATE_TEST_SUITE_P(Sqlite, StorageContractTest, ::testing::Values(Dialect::kSqlite),
                         DialectTestName);

std::string Pragma(Database& db, const std::string& name) {
  std::string value;
  absl::Status status = db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("PRAGMA " + name));
    PC_ASSIGN_OR_RETURN(Value v, row.Get(0));
    value = v.kind() == ValueKind::kInt64 ? std::to_string(*v.AsInt64()) : *v.AsText();
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return value;
}

using StorageSqliteTest = test_util::FreshDatabaseTest<Dialect::kSqlite>;

TEST_F(StorageSqliteTest, DefaultsAreWalFullSyncForeignKeysAndBusyTimeout) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->dialect(), Dialect::kSqlite);
  EXPECT_EQ(Pragma(*db, "journal_mode"), "wal");
  EXPECT_EQ(Pragma(*db, "synchronous"), "2");  // FULL
  EXPECT_EQ(Pragma(*db, "foreign_keys"), "1");
  EXPECT_EQ(Pragma(*db, "busy_timeout"), "5000");
}

TEST_F(StorageSqliteTest, SynchronousIsConfigurable) {
  auto db = OpenOrDie({.sqlite_synchronous = "normal"});
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Pragma(*db, "synchronous"), "1");
  EXPECT_EQ(test_db_->Open({.sqlite_synchronous = "sometimes"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StorageSqliteTest, OpenAcceptsUrlsPlainPathsAndMemory) {
  const std::string path = test_db_->url().substr(std::string("sqlite://").size());
  for (const std::string& url : {test_db_->url(), path, std::string(":memory:"),
                                 std::string("sqlite::memory:")}) {
    auto db = Open(url);
    ASSERT_TRUE(db.ok()) << url << ": " << db.status();
    EXPECT_OK((*db)->InTransaction(
        [](Transaction& tx) { return tx.Execute("CREATE TABLE IF NOT EXISTS t (x)").status(); }));
  }
}

TEST_F(StorageSqliteTest, OpenRejectsBadUrls) {
  EXPECT_EQ(Open("mysql://db/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open("sqlite://").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open("/nonexistent-dir/sub/x.db").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(StorageSqliteTest, TwoConnectionsWriteConcurrentlyWithoutBusyErrors) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->InTransaction([](Transaction& tx) {
    return tx.ExecuteScript(
        "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)");
  }));
  constexpr int kIncrements = 200;
  auto work = [&](Database* db, absl::Status* result) {
    for (int i = 0; i < kIncrements && result->ok(); ++i) {
      *result = db->InTransaction([](Transaction& tx) -> absl::Status {
        PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT n FROM counter"));
        PC_ASSIGN_OR_RETURN(int64_t n, row.GetInt64(0));
        return tx.Execute("UPDATE counter SET n = $1", {n + 1}).status();
      });
    }
  };
  absl::Status result_a, result_b;
  std::thread ta(work, a.get(), &result_a);
  std::thread tb(work, b.get(), &result_b);
  ta.join();
  tb.join();
  EXPECT_OK(result_a);
  EXPECT_OK(result_b);
  EXPECT_OK(a->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT n FROM counter"));
    EXPECT_EQ(*row.GetInt64(0), 2 * kIncrements);  // read-modify-write never lost an update
    return absl::OkStatus();
  }));
}

TEST_F(StorageSqliteTest, LockIsAlwaysGranted) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  auto first = db->TryLock("relay");
  auto second = db->TryLock("relay");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_NE(*first, nullptr);
  ASSERT_NE(*second, nullptr);
  EXPECT_OK((*first)->Check());
}

// ":memory:" has no file for read connections: reads run on the write connection, read-only
// for their duration, and writes work again afterwards.
TEST_F(StorageSqliteTest, MemoryDatabaseReadsOnTheWriteConnection) {
  auto db = Open(":memory:");
  ASSERT_OK(db.status());
  ASSERT_OK((*db)->InTransaction([](Transaction& tx) {
    return tx.ExecuteScript("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')");
  }));
  ASSERT_OK((*db)->InReadTransaction([](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM t"));
    EXPECT_EQ(*row.GetInt64(0), 1);
    return absl::OkStatus();
  }));
  absl::Status write = (*db)->InReadTransaction(
      [](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES ('b')").status(); });
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;  // SQLITE_READONLY
  EXPECT_OK((*db)->InTransaction(
      [](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES ('c')").status(); }));
  EXPECT_EQ(Pragma(**db, "query_only"), "0");
}

// Read connections are opened lazily, up to sqlite_read_connections, and reused.
TEST_F(StorageSqliteTest, ReadConnectionsAreBoundedAndSeeNewCommits) {
  auto db = OpenOrDie({.sqlite_read_connections = 1});
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->InTransaction(
      [](Transaction& tx) { return tx.ExecuteScript("CREATE TABLE t (n INTEGER)"); }));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(db->InTransaction(
        [&](Transaction& tx) { return tx.Execute("INSERT INTO t VALUES ($1)", {i}).status(); }));
    ASSERT_OK(db->InReadTransaction([&](Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM t"));
      EXPECT_EQ(*row.GetInt64(0), i);  // a reused reader starts a fresh snapshot
      return absl::OkStatus();
    }));
  }
}

}  // namespace
}  // namespace pc::storage::test_util
