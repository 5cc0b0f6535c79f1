// Throwaway databases for tests (target pc::storage_testing): a SQLite file in a fresh
// temporary directory, or a fresh PostgreSQL database on the server named by
// PC_TEST_DATABASE_URL (pc::testing::TempPostgresDatabase). Both are removed when the object is
// destroyed. Use it to run one
// repository contract suite against both stores:
//
//   class RepoTest : public ::testing::TestWithParam<pc::storage::Dialect> {
//     void SetUp() override {
//       auto test_db = pc::storage::TestDatabase::Create(GetParam());
//       ASSERT_TRUE(test_db.ok()) << test_db.status();   // fails if PC_TEST_DATABASE_URL unset
//       test_db_ = *std::move(test_db);
//       auto db = test_db_->Open();
//       ...
//     }
//   };
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/storage/database.h"

namespace pc::testing {
class TempPostgresDatabase;
}  // namespace pc::testing

namespace pc::storage {

class TestDatabase {
 public:
  // A new empty database. For PostgreSQL, FAILED_PRECONDITION if PC_TEST_DATABASE_URL is
  // unset (integration tests must fail, not skip, without their database).
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create(Dialect dialect);
  ~TestDatabase();  // Removes the file / drops the database (closing other sessions).
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Dialect dialect() const { return dialect_; }
  // The URL to pass to Open() (or to a service's --database_url).
  const std::string& url() const { return url_; }
  // Opens a new handle on this database (call it twice for two "replicas").
  absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {}) const;

 private:
  TestDatabase(Dialect dialect, std::string url, std::string dir,
               std::unique_ptr<pc::testing::TempPostgresDatabase> postgres);
  Dialect dialect_;
  std::string url_;
  std::string dir_;                                                 // SQLite
  std::unique_ptr<pc::testing::TempPostgresDatabase> postgres_;    // PostgreSQL
};

// Test helpers over any Database.
// The single integer a query returns (e.g. "SELECT count(*) FROM outbox").
absl::StatusOr<int64_t> QueryInt64(Database& db, const std::string& sql);
// The outbox's payloads (serialized EventEnvelopes), in publication order.
absl::StatusOr<std::vector<std::string>> OutboxPayloads(Database& db);
// The same, decoded (pc::events::Decode); the first undecodable payload is an error.
absl::StatusOr<std::vector<partnercenter::events::v1::EventEnvelope>> OutboxEvents(Database& db);

// Runs `calls` at once, each on its own thread, so that on PostgreSQL every one of them has
// read before any of them writes: `table` is held in SHARE mode (reads pass, writes wait)
// until `calls.size()` sessions wait on a statement starting with `waiting_on`, then let go.
// On SQLite the calls simply run at once (its writers serialise by design). For tests of
// write races between replicas (each call on its own Database handle).
absl::Status RunWritesTogether(const TestDatabase& db, const std::string& table,
                               const std::string& waiting_on,
                               const std::vector<std::function<void()>>& calls);

// What a service's domain tests need of their database, to mix into a gtest fixture: a fresh
// one of a dialect, the outbox decoded, row counts. A failing helper records a test failure
// (ADD_FAILURE) and returns an empty or -1 result.
//
//   class DomainTest : public ::testing::Test, protected pc::storage::DatabaseFixture {
//     void SetUp() override { ASSERT_OK(OpenDatabase(kDialect)); ... *db_ ... }
//   };
class DatabaseFixture {
 protected:
  // Creates and opens a new empty database into test_db_ / db_.
  absl::Status OpenDatabase(Dialect dialect);
  // The outbox, decoded, in publication order.
  std::vector<partnercenter::events::v1::EventEnvelope> Events();
  // Their types ("InvitationSent", …), in publication order.
  std::vector<std::string> EventTypes();
  // SELECT count(*) FROM `table`.
  int64_t Count(const std::string& table);

  std::unique_ptr<TestDatabase> test_db_;
  std::unique_ptr<Database> db_;
};

}  // namespace pc::storage
