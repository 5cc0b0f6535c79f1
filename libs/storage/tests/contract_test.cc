// The storage contract: every test runs against SQLite (storage_sqlite_test, label unit) and
// PostgreSQL (storage_postgres_test, label integration).
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/status_macros.h"
#include "pc/storage/database.h"
#include "pc/storage/inbox.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"
#include "storage_test_util.h"

namespace pc::storage::test_util {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBinary("\0\x01\x02\xff\xfe\x80 'quote' \"dq\" \\x00 \0end", 30);
const std::string kUnicode = "Olá, ções — ✓ 日本語 🙂 Ñandú";

TEST_P(StorageContractTest, EveryValueKindRoundTrips) {
  ASSERT_OK(Script(Ddl(
      "CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, d REAL, t TEXT, b BLOB, n TEXT)",
      "CREATE TABLE kinds (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, "
      "b BYTEA, n TEXT)")));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    const std::string insert =
        "INSERT INTO kinds (id, i, d, t, b, n) VALUES ($1, $2, $3, $4, $5, $6)";
    PC_RETURN_IF_ERROR(tx.Execute(insert, {1, std::numeric_limits<int64_t>::max(),
                                           3.141592653589793, kUnicode, Bytes{kBinary}, nullptr})
                           .status());
    PC_RETURN_IF_ERROR(tx.Execute(insert, {2, std::numeric_limits<int64_t>::min(), -0.1, "",
                                           Bytes{""}, std::optional<std::string>("set")})
                           .status());
    return tx.Execute(insert, {3, true, 1e300, "x", Bytes{"\xff"}, std::optional<std::string>()})
        .status();
  }));

  std::vector<Row> rows;
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT id, i, d, t, b, n FROM kinds ORDER BY id"));
    return absl::OkStatus();
  }));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0].columns(), ElementsAre("id", "i", "d", "t", "b", "n"));

  const Row& first = rows[0];
  EXPECT_EQ(first.values()[1].kind(), ValueKind::kInt64);
  EXPECT_EQ(first.values()[2].kind(), ValueKind::kDouble);
  EXPECT_EQ(first.values()[3].kind(), ValueKind::kText);
  EXPECT_EQ(first.values()[4].kind(), ValueKind::kBytes);
  EXPECT_EQ(first.values()[5].kind(), ValueKind::kNull);
  EXPECT_EQ(*first.GetInt64("i"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*first.GetInt64(1), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*first.GetDouble("d"), 3.141592653589793);
  EXPECT_EQ(*first.GetText("t"), kUnicode);
  EXPECT_EQ(*first.GetText(3), kUnicode);
  EXPECT_EQ(*first.GetBytes("b"), kBinary);
  EXPECT_EQ(first.GetBytes("b")->size(), 30u);
  EXPECT_TRUE(*first.IsNull("n"));
  EXPECT_EQ(*first.GetOptionalText("n"), std::nullopt);

  const Row& second = rows[1];
  EXPECT_EQ(*second.GetInt64("i"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*second.GetDouble("d"), -0.1);
  EXPECT_EQ(*second.GetText("t"), "");
  EXPECT_EQ(second.values()[4], Value(Bytes{""}));
  EXPECT_EQ(*second.GetOptionalText("n"), std::optional<std::string>("set"));

  const Row& third = rows[2];
  EXPECT_EQ(*third.GetInt64("i"), 1);  // bool binds as 0/1
  EXPECT_EQ(*third.GetDouble("d"), 1e300);
  EXPECT_EQ(*third.GetBytes("b"), "\xff");
  EXPECT_TRUE(*third.IsNull("n"));

  // Binary bytes work as a lookup key too.
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row,
                        tx.QueryOne("SELECT id FROM kinds WHERE b = $1", {Bytes{kBinary}}));
    EXPECT_EQ(*row.GetInt64("id"), 1);
    PC_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT id FROM kinds WHERE t = $1", {kUnicode}));
    EXPECT_EQ(*row.GetInt64("id"), 1);
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, TypedGettersReportMismatchesAsInternal) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY, n TEXT)"));
  std::vector<Row> rows;
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO t (id, n) VALUES ($1, $2)", {"a", nullptr}).status());
    PC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT id, n FROM t"));
    return absl::OkStatus();
  }));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].GetInt64("id").status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(rows[0].GetInt64("id").status().message(), HasSubstr("column 'id'"));
  EXPECT_EQ(rows[0].GetText("n").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(rows[0].GetText("missing").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(rows[0].GetText(7).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(*rows[0].GetText(0), "a");
}

TEST_P(StorageContractTest, TextWithNulIsInvalidArgument) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  absl::Status status = db_->InTransaction([&](Transaction& tx) {
    return tx.Execute("INSERT INTO t (id) VALUES ($1)", {std::string("a\0b", 3)}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Count("t"), 0);
}

TEST_P(StorageContractTest, ExecuteReturnsAffectedRowsForOptimisticUpdates) {
  ASSERT_OK(Script("CREATE TABLE inv (id TEXT PRIMARY KEY, state TEXT NOT NULL, "
                      "version BIGINT NOT NULL)"));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    for (const char* id : {"a", "b", "c"}) {
      PC_ASSIGN_OR_RETURN(
          int64_t inserted,
          tx.Execute("INSERT INTO inv (id, state, version) VALUES ($1, 'PENDING', 1)", {id}));
      EXPECT_EQ(inserted, 1);
    }
    const std::string update =
        "UPDATE inv SET state = $1, version = version + 1 WHERE id = $2 AND version = $3";
    EXPECT_EQ(*tx.Execute(update, {"ACCEPTED", "a", 1}), 1);
    EXPECT_EQ(*tx.Execute(update, {"DECLINED", "a", 1}), 0);  // stale version
    EXPECT_EQ(*tx.Execute("UPDATE inv SET state = $1", {"EXPIRED"}), 3);
    EXPECT_EQ(*tx.Execute("DELETE FROM inv WHERE id <> $1", {"a"}), 2);
    PC_ASSIGN_OR_RETURN(Row row,
                        tx.QueryOne("SELECT state, version FROM inv WHERE id = $1", {"a"}));
    EXPECT_EQ(*row.GetText("state"), "EXPIRED");
    EXPECT_EQ(*row.GetInt64("version"), 2);
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, InsertReturningGivesGeneratedIds) {
  ASSERT_OK(Script(Ddl("CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
                          "CREATE TABLE seq (id BIGSERIAL PRIMARY KEY, v TEXT)")));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row a, tx.QueryOne("INSERT INTO seq (v) VALUES ($1) RETURNING id", {"a"}));
    PC_ASSIGN_OR_RETURN(Row b, tx.QueryOne("INSERT INTO seq (v) VALUES ($1) RETURNING id", {"b"}));
    EXPECT_LT(*a.GetInt64("id"), *b.GetInt64("id"));
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, CallbackErrorRollsBackEverything) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  absl::Status status = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.Execute("INSERT INTO t (id) VALUES ($1)", {"a"}).status());
    PC_RETURN_IF_ERROR(tx.Execute("INSERT INTO t (id) VALUES ($1)", {"b"}).status());
    PC_RETURN_IF_ERROR(Outbox::Append(tx, MakeRecord("e1")));
    return absl::AbortedError("version conflict");
  });
  EXPECT_EQ(status, absl::AbortedError("version conflict"));
  EXPECT_EQ(Count("t"), 0);
  EXPECT_EQ(Count("outbox"), 0);
}

TEST_P(StorageContractTest, UniqueViolationIsAlreadyExistsAndHidesValues) {
  ASSERT_OK(Script("CREATE TABLE tokens (hash TEXT PRIMARY KEY, email TEXT UNIQUE)"));
  const std::string insert = "INSERT INTO tokens (hash, email) VALUES ($1, $2)";
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) {
    return tx.Execute(insert, {"secret-hash-4711", "someone@example.com"}).status();
  }));
  absl::Status pk = db_->InTransaction([&](Transaction& tx) {
    return tx.Execute(insert, {"secret-hash-4711", "other@example.com"}).status();
  });
  EXPECT_EQ(pk.code(), absl::StatusCode::kAlreadyExists) << pk;
  EXPECT_THAT(std::string(pk.message()), Not(HasSubstr("secret-hash-4711")));
  absl::Status unique = db_->InTransaction([&](Transaction& tx) {
    return tx.Execute(insert, {"another-hash", "someone@example.com"}).status();
  });
  EXPECT_EQ(unique.code(), absl::StatusCode::kAlreadyExists) << unique;
  EXPECT_THAT(std::string(unique.message()), Not(HasSubstr("someone@example.com")));
  EXPECT_EQ(Count("tokens"), 1);
}

TEST_P(StorageContractTest, FailedStatementPoisonsTheTransaction) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) {
    return tx.Execute("INSERT INTO t (id) VALUES ('existing')").status();
  }));
  absl::Status status = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    EXPECT_TRUE(tx.Execute("INSERT INTO t (id) VALUES ($1)", {"new"}).ok());
    EXPECT_EQ(tx.Execute("INSERT INTO t (id) VALUES ($1)", {"existing"}).status().code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(tx.Query("SELECT id FROM t").status().code(),
              absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();  // swallowing the error does not commit
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_EQ(Count("t"), 1);
}

TEST_P(StorageContractTest, ForeignKeyViolationIsFailedPrecondition) {
  ASSERT_OK(Script("CREATE TABLE parent (id TEXT PRIMARY KEY);"
                      "CREATE TABLE child (id TEXT PRIMARY KEY, "
                      "parent_id TEXT NOT NULL REFERENCES parent (id))"));
  absl::Status status = db_->InTransaction([&](Transaction& tx) {
    return tx.Execute("INSERT INTO child (id, parent_id) VALUES ($1, $2)", {"c", "nope"}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  status = db_->InTransaction([&](Transaction& tx) {
    return tx.Execute("INSERT INTO child (id, parent_id) VALUES ($1, $2)", {"c", nullptr}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;  // NOT NULL
}

TEST_P(StorageContractTest, QueryOneWantsExactlyOneRow) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a'), ('b')"));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(tx.QueryOne("SELECT id FROM t WHERE id = $1", {"zzz"}).status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  }));
  absl::Status status = db_->InTransaction(
      [&](Transaction& tx) { return tx.QueryOne("SELECT id FROM t").status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
}

TEST_P(StorageContractTest, BadSqlAndWrongParameterCountAreInternal) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  auto run = [&](const std::string& sql, std::vector<Value> params) {
    return db_->InTransaction([&](Transaction& tx) { return tx.Execute(sql, params).status(); });
  };
  EXPECT_EQ(run("SELEKT 1", {}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(run("SELECT id FROM no_such_table", {}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(run("SELECT id FROM t WHERE id = $1", {"a", "b"}).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(run("SELECT id FROM t WHERE id = $1 OR id = $2", {"a"}).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(run("INSERT INTO t VALUES ('a'); INSERT INTO t VALUES ('b')", {}).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(Count("t"), 0);
}

TEST_P(StorageContractTest, PlaceholdersMayRepeatAndComeInAnyOrder) {
  ASSERT_OK(Script("CREATE TABLE t (a TEXT, b TEXT, c TEXT)"));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO t (c, a, b) VALUES ($2, $1, $1)", {"first", "second"}).status());
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT a, b, c FROM t"));
    EXPECT_EQ(*row.GetText("a"), "first");
    EXPECT_EQ(*row.GetText("b"), "first");
    EXPECT_EQ(*row.GetText("c"), "second");
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, NestedTransactionIsRejected) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY)"));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    absl::Status nested = db_->InTransaction([](Transaction&) { return absl::OkStatus(); });
    EXPECT_EQ(nested.code(), absl::StatusCode::kFailedPrecondition) << nested;
    return tx.Execute("INSERT INTO t (id) VALUES ('outer')").status();
  }));
  EXPECT_EQ(Count("t"), 1);
}

// --- Prepared statements, deferred statements, read transactions -------------------------

TEST_P(StorageContractTest, CachedStatementsStayCorrectAfterAFailureMidTransaction) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL)"));
  const std::string insert = "INSERT INTO t (id, n) VALUES ($1, $2)";
  const std::string select = "SELECT id, n FROM t WHERE n >= $1 ORDER BY id";
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.Execute(insert, {"a", 1}).status());
    return tx.Execute(insert, {"b", 2}).status();
  }));
  // The same statements fail half-way through a transaction (it is poisoned, rolls back)...
  absl::Status failed = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(select, {0}));
    EXPECT_EQ(rows.size(), 2u);
    PC_RETURN_IF_ERROR(tx.Execute(insert, {"c", 3}).status());
    EXPECT_EQ(tx.Execute(insert, {"a", 9}).status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(tx.Query(select, {0}).status().code(), absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAlreadyExists) << failed;
  // ...and are reused by the next transactions with fresh bindings and a fresh cursor.
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.Execute(insert, {"c", 30}).status());
    PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(select, {2}));
    EXPECT_EQ(rows.size(), 2u);
    if (rows.size() == 2u) {
      EXPECT_EQ(*rows[0].GetText("id"), "b");
      EXPECT_EQ(*rows[1].GetInt64("n"), 30);
    }
    // A statement left half-read by an earlier call does not leak into this one.
    PC_ASSIGN_OR_RETURN(Row first, tx.QueryOne("SELECT id FROM t WHERE id = $1", {"a"}));
    EXPECT_EQ(*first.GetText(0), "a");
    return absl::OkStatus();
  }));
  EXPECT_EQ(Count("t"), 3);
}

TEST_P(StorageContractTest, SmallStatementCacheEvictsAndStaysCorrect) {
  auto small = test_db_->Open({.statement_cache_size = 2});
  ASSERT_OK(small.status());
  Database& db = **small;
  ASSERT_OK(db.InTransaction(
      [](Transaction& tx) { return tx.ExecuteScript("CREATE TABLE t (k BIGINT PRIMARY KEY)"); }));
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK(db.InTransaction([&](Transaction& tx) -> absl::Status {
      for (int i = 0; i < 6; ++i) {  // six texts through a cache of two
        const int64_t k = round * 10 + i;
        PC_RETURN_IF_ERROR(
            tx.Execute(absl::StrCat("INSERT INTO t (k) VALUES ($1 + ", i, " - ", i, ")"), {k})
                .status());
        PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne(absl::StrCat("SELECT k + ", i,
                                                              " FROM t WHERE k = $1"), {k}));
        EXPECT_EQ(*row.GetInt64(0), k + i);
      }
      return absl::OkStatus();
    }));
  }
  auto none = test_db_->Open({.statement_cache_size = 0});
  ASSERT_OK(none.status());
  ASSERT_OK((*none)->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM t WHERE k >= $1", {0}));
    EXPECT_EQ(*row.GetInt64(0), 18);
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, DeferredWritesAreVisibleToLaterStatementsAndCommit) {
  ASSERT_OK(Script(Ddl("CREATE TABLE t (id TEXT PRIMARY KEY, data BLOB NOT NULL)",
                       "CREATE TABLE t (id TEXT PRIMARY KEY, data BYTEA NOT NULL)")));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.ExecuteDeferred("INSERT INTO t (id, data) VALUES ($1, $2)",
                                          {"a", Bytes{kBinary}}));
    PC_RETURN_IF_ERROR(tx.ExecuteDeferred("INSERT INTO t (id, data) VALUES ($1, $2)",
                                          {"b", Bytes{""}}));
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM t"));
    EXPECT_EQ(*row.GetInt64(0), 2);  // sent ahead of the query, in its pipeline
    return tx.ExecuteDeferred("INSERT INTO t (id, data) VALUES ($1, $2)", {"c", Bytes{"x"}});
  }));
  EXPECT_EQ(Count("t"), 3);
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT data FROM t WHERE id = $1", {"a"}));
    EXPECT_EQ(*row.GetBytes(0), kBinary);
    return absl::OkStatus();
  }));
  // A transaction of deferred writes only (one round trip on PostgreSQL), and an empty one.
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) {
    return tx.ExecuteDeferred("INSERT INTO t (id, data) VALUES ($1, $2)", {"d", Bytes{"y"}});
  }));
  ASSERT_OK(db_->InTransaction([](Transaction&) { return absl::OkStatus(); }));
  EXPECT_EQ(Count("t"), 4);
}

TEST_P(StorageContractTest, DeferredErrorsKeepTheirCodesAndRollBack) {
  ASSERT_OK(Script("CREATE TABLE parent (id TEXT PRIMARY KEY);"
                   "CREATE TABLE child (id TEXT PRIMARY KEY, "
                   "parent_id TEXT NOT NULL REFERENCES parent (id));"
                   "INSERT INTO parent (id) VALUES ('p');"
                   "INSERT INTO child (id, parent_id) VALUES ('secret-4711', 'p')"));
  const std::string insert = "INSERT INTO child (id, parent_id) VALUES ($1, $2)";
  // A duplicate in the trailing writes fails the commit with ALREADY_EXISTS, value hidden.
  absl::Status duplicate = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(tx.ExecuteDeferred(insert, {"fresh", "p"}));
    return tx.ExecuteDeferred(insert, {"secret-4711", "p"});
  });
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  EXPECT_THAT(std::string(duplicate.message()), Not(HasSubstr("secret-4711")));
  EXPECT_EQ(Count("child"), 1);  // "fresh" rolled back too
  // Foreign key → FAILED_PRECONDITION; bad SQL → INTERNAL; both also at commit.
  absl::Status fk = db_->InTransaction(
      [&](Transaction& tx) { return tx.ExecuteDeferred(insert, {"orphan", "nope"}); });
  EXPECT_EQ(fk.code(), absl::StatusCode::kFailedPrecondition) << fk;
  absl::Status bad = db_->InTransaction(
      [&](Transaction& tx) { return tx.ExecuteDeferred("INSERT INTO nowhere VALUES ($1)", {1}); });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal) << bad;
  // A deferred failure surfaces at the next statement (PostgreSQL) or at once (SQLite), and
  // poisons the transaction either way.
  absl::Status later = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    absl::Status deferred = tx.ExecuteDeferred(insert, {"secret-4711", "p"});
    absl::Status next = tx.Query("SELECT COUNT(*) FROM child").status();
    EXPECT_EQ((deferred.ok() ? next : deferred).code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(tx.Query("SELECT 1").status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(tx.ExecuteDeferred(insert, {"x", "p"}).code(),
              absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();
  });
  EXPECT_EQ(later.code(), absl::StatusCode::kAlreadyExists) << later;
  EXPECT_EQ(Count("child"), 1);
  // Text with NUL is refused when queued, before anything is sent.
  absl::Status nul = db_->InTransaction([&](Transaction& tx) {
    return tx.ExecuteDeferred(insert, {std::string("a\0b", 3), "p"});
  });
  EXPECT_EQ(nul.code(), absl::StatusCode::kInvalidArgument) << nul;
}

TEST_P(StorageContractTest, ReadTransactionReadsAndRefusesWrites) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t (id) VALUES ('a')"));
  ASSERT_OK(db_->InReadTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT id FROM t WHERE id = $1", {"a"}));
    EXPECT_EQ(*row.GetText(0), "a");
    return absl::OkStatus();
  }));
  absl::Status write = db_->InReadTransaction(
      [&](Transaction& tx) { return tx.Execute("INSERT INTO t (id) VALUES ('b')").status(); });
  EXPECT_FALSE(write.ok());
  EXPECT_EQ(Count("t"), 1);
  // Writes still work afterwards (the write connection is not left read-only).
  ASSERT_OK(db_->InTransaction(
      [&](Transaction& tx) { return tx.Execute("INSERT INTO t (id) VALUES ('c')").status(); }));
  EXPECT_EQ(Count("t"), 2);
  // Nesting either way is refused.
  ASSERT_OK(db_->InTransaction([&](Transaction&) -> absl::Status {
    EXPECT_EQ(db_->InReadTransaction([](Transaction&) { return absl::OkStatus(); }).code(),
              absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();
  }));
  ASSERT_OK(db_->InReadTransaction([&](Transaction&) -> absl::Status {
    EXPECT_EQ(db_->InTransaction([](Transaction&) { return absl::OkStatus(); }).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(db_->InReadTransaction([](Transaction&) { return absl::OkStatus(); }).code(),
              absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();
  }));
  // An error in the callback is returned as is.
  EXPECT_EQ(db_->InReadTransaction([](Transaction&) { return absl::NotFoundError("x"); }),
            absl::NotFoundError("x"));
}

// A latch another thread opens once.
class Latch {
 public:
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // False if it was not opened within the deadline (the test then fails instead of hanging).
  bool Wait() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&open_), kDeadline);
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

TEST_P(StorageContractTest, ReadersDoNotWaitForAnOpenWriteTransaction) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t (id) VALUES ('a')"));
  Latch written, read_done;
  absl::Status writer_status;
  std::thread writer([&] {
    writer_status = db_->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_RETURN_IF_ERROR(tx.Execute("INSERT INTO t (id) VALUES ('uncommitted')").status());
      written.Open();
      // Holds the write transaction (and SQLite's write lock) open until the reader is done.
      EXPECT_TRUE(read_done.Wait()) << "the reader did not finish while the writer was open";
      return absl::OkStatus();
    });
  });
  ASSERT_TRUE(written.Wait());
  int64_t seen = -1;
  absl::Status read = db_->InReadTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM t"));
    PC_ASSIGN_OR_RETURN(seen, row.GetInt64(0));
    return absl::OkStatus();
  });
  read_done.Open();
  writer.join();
  EXPECT_OK(read);
  EXPECT_EQ(seen, 1);  // the committed snapshot, not the open write
  EXPECT_OK(writer_status);
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(StorageContractTest, ReadersRunConcurrentlyWithEachOther) {
  ASSERT_OK(Script("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t (id) VALUES ('a')"));
  Latch first_in, second_done;
  absl::Status first_status;
  std::thread first([&] {
    first_status = db_->InReadTransaction([&](Transaction& tx) -> absl::Status {
      PC_RETURN_IF_ERROR(tx.QueryOne("SELECT id FROM t").status());
      first_in.Open();
      EXPECT_TRUE(second_done.Wait()) << "the second reader waited for the first";
      return absl::OkStatus();
    });
  });
  ASSERT_TRUE(first_in.Wait());
  absl::Status second = db_->InReadTransaction(
      [&](Transaction& tx) { return tx.QueryOne("SELECT id FROM t").status(); });
  second_done.Open();
  first.join();
  EXPECT_OK(second);
  EXPECT_OK(first_status);
}

// --- Migrations -------------------------------------------------------------------------

std::vector<Migration> AlphaMigrations() {
  return {{1, "create alpha", "CREATE TABLE alpha (id TEXT PRIMARY KEY)"},
          {2, "seed alpha", "INSERT INTO alpha (id) VALUES ('seed')"}};
}

TEST_P(StorageContractTest, MigrationsRunOnceAndComponentsAreIndependent) {
  const std::vector<Migration> beta = {
      {1, "create beta", "CREATE TABLE beta (id TEXT PRIMARY KEY)"}};
  ASSERT_OK(Migrate(*db_, "alpha", AlphaMigrations()));
  ASSERT_OK(Migrate(*db_, "beta", beta));
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"alpha"}), 2);
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"beta"}), 1);
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"pc.storage"}), 1);
  const int64_t total = Count("schema_migrations");

  ASSERT_OK(Migrate(*db_, "alpha", AlphaMigrations()));  // a second run is a no-op
  ASSERT_OK(Migrate(*db_, "beta", beta));
  ASSERT_OK(MigrateOutboxAndInbox(*db_));
  EXPECT_EQ(Count("schema_migrations"), total);
  EXPECT_EQ(Count("alpha"), 1);  // the seed ran once

  std::vector<Migration> more = AlphaMigrations();
  more.push_back({3, "seed more", "INSERT INTO alpha (id) VALUES ('more')"});
  ASSERT_OK(Migrate(*db_, "alpha", more));
  EXPECT_EQ(Count("alpha"), 2);
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"alpha"}), 3);

  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT name, applied_at FROM schema_migrations "
                                             "WHERE component = $1 AND version = $2",
                                             {"alpha", 3}));
    EXPECT_EQ(*row.GetText("name"), "seed more");
    EXPECT_GT(*row.GetInt64("applied_at"), 0);
    return absl::OkStatus();
  }));
}

TEST_P(StorageContractTest, FailedMigrationLeavesNothingBehind) {
  std::vector<Migration> migrations = {
      {1, "create a", "CREATE TABLE a (id TEXT PRIMARY KEY)"},
      {2, "broken", "CREATE TABLE b (id TEXT PRIMARY KEY); INSERT INTO no_such_table VALUES (1)"}};
  absl::Status status = Migrate(*db_, "broken", migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("broken v2"));
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"broken"}), 1);
  EXPECT_EQ(Count("a"), 0);
  absl::Status b_exists =
      db_->InTransaction([](Transaction& tx) { return tx.Query("SELECT id FROM b").status(); });
  EXPECT_EQ(b_exists.code(), absl::StatusCode::kInternal) << "table b should not exist";

  migrations[1].sql = "CREATE TABLE b (id TEXT PRIMARY KEY)";  // fixed: applies now
  EXPECT_OK(Migrate(*db_, "broken", migrations));
  EXPECT_EQ(Count("b"), 0);
}

TEST_P(StorageContractTest, MalformedMigrationListIsInvalidArgument) {
  EXPECT_EQ(Migrate(*db_, "x", {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Migrate(*db_, "x", {{2, "a", "SELECT 1"}, {1, "b", "SELECT 1"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Migrate(*db_, "x", {{0, "a", "SELECT 1"}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Migrate(*db_, "x", {{1, "", "SELECT 1"}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Migrate(*db_, "", {{1, "a", "SELECT 1"}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("schema_migrations WHERE component = $1", {"x"}), 0);
}

TEST_P(StorageContractTest, PostgresSqlIsUsedWhenGiven) {
  // BLOB is not a PostgreSQL type: this only succeeds if PostgreSQL runs postgres_sql.
  ASSERT_OK(Migrate(*db_, "d", {{1, "create d", "CREATE TABLE d (v BLOB)",
                                    "CREATE TABLE d (v BYTEA)"}}));
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) {
    return tx.Execute("INSERT INTO d (v) VALUES ($1)", {Bytes{kBinary}}).status();
  }));
  EXPECT_EQ(Count("d WHERE v = $1", {Bytes{kBinary}}), 1);
}

// --- Outbox -----------------------------------------------------------------------------

TEST_P(StorageContractTest, CommittedRecordIsPublishedThenMarkedSent) {
  FakePublisher publisher;
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
  observer.Attach(options);
  int64_t backlog_while_published = -1;
  std::vector<int64_t> published_ids;
  options.on_published = [&](const std::vector<OutboxEntry>& delivered) {
    for (const auto& entry : delivered) published_ids.push_back(entry.id);
    backlog_while_published = *Outbox::Backlog(*db_);  // published, not yet marked sent
  };
  OutboxRelay relay(*db_, publisher, options);

  OutboxRecord record = MakeRecord("e1", "partner-1:customer-1");
  record.payload = kBinary;
  EXPECT_EQ(*Outbox::OldestUnsent(*db_), std::nullopt);
  const absl::Time before_append = absl::Now();
  ASSERT_OK(AppendCommitted(record));
  EXPECT_EQ(*relay.Backlog(), 1);
  ASSERT_OK_AND_ASSIGN(std::optional<absl::Time> oldest, Outbox::OldestUnsent(*db_));
  ASSERT_TRUE(oldest.has_value());
  EXPECT_GE(*oldest, absl::FromUnixMicros(absl::ToUnixMicros(before_append)));
  EXPECT_LE(*oldest, absl::Now());
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(1));

  EXPECT_EQ(backlog_while_published, 1);
  EXPECT_EQ(observer.sent(), published_ids);
  std::vector<pc::kafka::OutboundMessage> delivered = publisher.delivered();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].topic, record.topic);
  EXPECT_EQ(delivered[0].key, "partner-1:customer-1");
  EXPECT_EQ(delivered[0].payload, kBinary);
  EXPECT_EQ(HeaderOf(delivered[0], "correlation-id"), "corr-e1");
  EXPECT_EQ(HeaderOf(delivered[0], "event-id"), "e1");
  EXPECT_EQ(HeaderOf(delivered[0], "event-type"), "TestHappened");
  EXPECT_EQ(*relay.Backlog(), 0);
  EXPECT_EQ(*Outbox::OldestUnsent(*db_), std::nullopt);
  EXPECT_EQ(relay.published_total(), 1);
  EXPECT_EQ(relay.failed_total(), 0);
  EXPECT_TRUE(relay.is_leader());
  EXPECT_EQ(Count("outbox WHERE sent_at IS NOT NULL AND event_id = $1", {"e1"}), 1);
  EXPECT_OK(relay.Stop(kDeadline));
  EXPECT_FALSE(relay.is_leader());
}

TEST_P(StorageContractTest, RolledBackRecordIsNeverPublished) {
  FakePublisher publisher;
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  relay.Start();

  absl::Status rolled_back = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(Outbox::Append(tx, MakeRecord("rolled-back")));
    return absl::FailedPreconditionError("state check failed");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kFailedPrecondition);
  relay.Notify();
  ASSERT_OK(AppendCommitted(MakeRecord("committed")));
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(1));

  std::vector<pc::kafka::OutboundMessage> attempts = publisher.attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(HeaderOf(attempts[0], "event-id"), "committed");
  EXPECT_EQ(Count("outbox"), 1);
}

TEST_P(StorageContractTest, FailedDeliveryIsRetriedThenMarkedSent) {
  FakePublisher publisher;
  publisher.FailOnce("e1");
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1),
                             .initial_backoff = absl::Milliseconds(10)};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  ASSERT_OK(AppendCommitted(MakeRecord("e1")));
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(1));

  std::vector<pc::kafka::OutboundMessage> attempts = publisher.attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(HeaderOf(attempts[0], "event-id"), "e1");
  EXPECT_EQ(HeaderOf(attempts[1], "event-id"), "e1");
  EXPECT_EQ(relay.failed_total(), 1);
  EXPECT_EQ(relay.published_total(), 1);
  EXPECT_EQ(*relay.Backlog(), 0);
}

TEST_P(StorageContractTest, PublishesInIdOrderAcrossBatches) {
  FakePublisher publisher;
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1), .batch_size = 3};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    expected.push_back("e" + std::to_string(i));
    ASSERT_OK(AppendCommitted(MakeRecord(expected.back(), "agg" + std::to_string(i % 3))));
  }
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(10));

  std::vector<std::string> delivered;
  for (const auto& message : publisher.delivered()) {
    delivered.push_back(HeaderOf(message, "event-id"));
  }
  EXPECT_EQ(delivered, expected);
  std::vector<int64_t> sent = observer.sent();
  EXPECT_TRUE(std::is_sorted(sent.begin(), sent.end()));
}

TEST_P(StorageContractTest, FailureInABatchKeepsLaterRowsUnsentSoOrderHolds) {
  FakePublisher publisher;
  publisher.FailOnce("e5");
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1), .batch_size = 4,
                             .initial_backoff = absl::Milliseconds(10)};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  std::vector<std::string> expected;
  for (int i = 0; i < 12; ++i) {
    expected.push_back("e" + std::to_string(i));
    ASSERT_OK(AppendCommitted(MakeRecord(expected.back(), "agg" + std::to_string(i % 2))));
  }
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(12));

  // Rows after the failed one were delivered in the failed batch but not marked sent, so they
  // are delivered again after e5's retry: the last copy of every event is in id order.
  std::vector<std::string> last_copies;
  std::vector<pc::kafka::OutboundMessage> delivered = publisher.delivered();
  for (auto it = delivered.rbegin(); it != delivered.rend(); ++it) {
    std::string id = HeaderOf(*it, "event-id");
    if (std::find(last_copies.begin(), last_copies.end(), id) == last_copies.end()) {
      last_copies.insert(last_copies.begin(), id);
    }
  }
  EXPECT_EQ(last_copies, expected);
  EXPECT_EQ(relay.failed_total(), 1);
  EXPECT_EQ(relay.published_total(), 12);
  std::vector<int64_t> sent = observer.sent();
  EXPECT_EQ(sent.size(), 12u);
  EXPECT_TRUE(std::is_sorted(sent.begin(), sent.end()));
}

TEST_P(StorageContractTest, NotifyWakesTheRelayWithoutWaitingForThePoll) {
  FakePublisher publisher;
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  relay.Start();
  ASSERT_TRUE(observer.WaitForIdle());  // the relay now sleeps for an hour unless notified

  ASSERT_OK(AppendCommitted(MakeRecord("e1")));
  relay.Notify();
  ASSERT_TRUE(observer.WaitForSent(1));
  EXPECT_EQ(publisher.delivered().size(), 1u);
}

TEST_P(StorageContractTest, StopFinishesTheInFlightBatch) {
  FakePublisher publisher;
  publisher.Hold();
  RelayObserver observer;
  OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
  observer.Attach(options);
  OutboxRelay relay(*db_, publisher, options);
  ASSERT_OK(AppendCommitted(MakeRecord("e1")));
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(publisher.WaitForPending(1));

  absl::Status stopped;
  std::thread stopper([&] { stopped = relay.Stop(kDeadline); });
  publisher.Release();
  stopper.join();
  EXPECT_OK(stopped);
  EXPECT_EQ(relay.published_total(), 1);
  EXPECT_EQ(*Outbox::Backlog(*db_), 0);
}

TEST_P(StorageContractTest, StopGivesUpOnAHangingBatchAndKeepsItUnsent) {
  FakePublisher publisher;
  publisher.Hold();
  OutboxRelay relay(*db_, publisher, {.poll_interval = absl::Hours(1)});
  ASSERT_OK(AppendCommitted(MakeRecord("e1")));
  relay.Start();
  relay.Notify();
  ASSERT_TRUE(publisher.WaitForPending(1));

  EXPECT_EQ(relay.Stop(absl::Milliseconds(50)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(*Outbox::Backlog(*db_), 1);
  publisher.Release();  // the late report reaches an abandoned batch harmlessly
  EXPECT_OK(publisher.Flush(kDeadline));
  EXPECT_EQ(*Outbox::Backlog(*db_), 1);
}

TEST_P(StorageContractTest, DeleteSentBeforeRemovesOnlyOldSentRows) {
  {
    FakePublisher publisher;
    RelayObserver observer;
    OutboxRelayOptions options{.poll_interval = absl::Hours(1)};
    observer.Attach(options);
    OutboxRelay relay(*db_, publisher, options);
    ASSERT_OK(AppendCommitted(MakeRecord("e1")));
    ASSERT_OK(AppendCommitted(MakeRecord("e2")));
    relay.Start();
    relay.Notify();
    ASSERT_TRUE(observer.WaitForSent(2));
    ASSERT_OK(relay.Stop(kDeadline));
  }
  ASSERT_OK(AppendCommitted(MakeRecord("unsent")));
  EXPECT_EQ(*Outbox::DeleteSentBefore(*db_, absl::Now() - absl::Hours(1)), 0);
  EXPECT_EQ(*Outbox::DeleteSentBefore(*db_, absl::Now() + absl::Hours(1)), 2);
  EXPECT_EQ(Count("outbox"), 1);
  EXPECT_EQ(*Outbox::Backlog(*db_), 1);
}

TEST_P(StorageContractTest, AppendValidatesTheRecord) {
  absl::Status status = db_->InTransaction([&](Transaction& tx) {
    OutboxRecord record = MakeRecord("e1");
    record.topic.clear();
    return Outbox::Append(tx, record);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  status = db_->InTransaction([&](Transaction& tx) {
    OutboxRecord record = MakeRecord("e1");
    record.headers.push_back({"bad", "\xff\xfe"});
    return Outbox::Append(tx, record);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("outbox"), 0);
}

// --- Inbox ------------------------------------------------------------------------------

TEST_P(StorageContractTest, InboxAppliesAnEventOncePerConsumerGroup) {
  ASSERT_OK(Script("CREATE TABLE counter (name TEXT PRIMARY KEY, n BIGINT NOT NULL);"
                      "INSERT INTO counter VALUES ('applied', 0)"));
  auto consume = [&](const std::string& group,
                     const std::string& event_id) -> absl::StatusOr<bool> {
    bool first = false;
    PC_RETURN_IF_ERROR(db_->InTransaction([&](Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(first, Inbox::TryInsert(tx, group, event_id));
      if (!first) return absl::OkStatus();
      return tx.Execute("UPDATE counter SET n = n + 1 WHERE name = 'applied'").status();
    }));
    return first;
  };
  EXPECT_EQ(consume("relationship", "ev-1").value(), true);
  EXPECT_EQ(consume("relationship", "ev-1").value(), false);
  EXPECT_EQ(consume("relationship", "ev-1").value(), false);
  EXPECT_EQ(Count("counter WHERE n = 1"), 1);
  EXPECT_EQ(consume("notification", "ev-1").value(), true);  // another group is independent
  EXPECT_EQ(consume("relationship", "ev-2").value(), true);
  EXPECT_EQ(Count("counter WHERE n = 3"), 1);
  EXPECT_EQ(Count("inbox"), 3);
}

TEST_P(StorageContractTest, InboxRowRollsBackWithTheEffect) {
  absl::Status failed = db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(bool first, Inbox::TryInsert(tx, "g", "ev-1"));
    EXPECT_TRUE(first);
    return absl::UnavailableError("apply failed");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  bool first = false;
  ASSERT_OK(db_->InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(first, Inbox::TryInsert(tx, "g", "ev-1"));
    return absl::OkStatus();
  }));
  EXPECT_TRUE(first);  // the redelivery is applied: the failed attempt left no inbox row
  EXPECT_EQ(*Inbox::DeleteProcessedBefore(*db_, absl::Now() - absl::Hours(1)), 0);
  EXPECT_EQ(*Inbox::DeleteProcessedBefore(*db_, absl::Now() + absl::Hours(1)), 1);
}

}  // namespace
}  // namespace pc::storage::test_util
