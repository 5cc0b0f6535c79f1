#include "pc/storage/test_database.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
#include "pc/testing/infra.h"

namespace pc::storage {

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create(Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    const char* tmp = getenv("TMPDIR");
    std::string dir = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/pc_storage_XXXXXX");
    if (mkdtemp(dir.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("mkdtemp failed for ", dir));
    }
    return std::unique_ptr<TestDatabase>(
        new TestDatabase(dialect, absl::StrCat("sqlite://", dir, "/test.db"), dir, nullptr));
  }
  const char* admin_url = getenv("PC_TEST_DATABASE_URL");
  if (admin_url == nullptr || *admin_url == '\0') {
    return absl::FailedPreconditionError(
        "PC_TEST_DATABASE_URL is not set: PostgreSQL tests need the server started by the CTest "
        "fixture infra.postgres.start (run them through `ctest -L integration`)");
  }
  absl::StatusOr<std::unique_ptr<pc::testing::TempPostgresDatabase>> postgres =
      pc::testing::TempPostgresDatabase::Create();
  if (!postgres.ok()) return postgres.status();
  std::string url = (*postgres)->url();
  return std::unique_ptr<TestDatabase>(
      new TestDatabase(dialect, std::move(url), "", *std::move(postgres)));
}

TestDatabase::TestDatabase(Dialect dialect, std::string url, std::string dir,
                           std::unique_ptr<pc::testing::TempPostgresDatabase> postgres)
    : dialect_(dialect), url_(std::move(url)), dir_(std::move(dir)),
      postgres_(std::move(postgres)) {}

TestDatabase::~TestDatabase() {
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::StatusOr<std::unique_ptr<Database>> TestDatabase::Open(const DatabaseOptions& options) const {
  return pc::storage::Open(url_, options);
}

absl::StatusOr<int64_t> QueryInt64(Database& db, const std::string& sql) {
  int64_t n = 0;
  absl::Status s = db.InTransaction([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<Row> row = tx.QueryOne(sql);
    if (!row.ok()) return row.status();
    absl::StatusOr<int64_t> v = row->GetInt64(0);
    if (!v.ok()) return v.status();
    n = *v;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<std::vector<std::string>> OutboxPayloads(Database& db) {
  std::vector<std::string> out;
  absl::Status s = db.InTransaction([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<Row>> rows = tx.Query("SELECT payload FROM outbox ORDER BY id");
    if (!rows.ok()) return rows.status();
    for (const Row& row : *rows) {
      absl::StatusOr<std::string> bytes = row.GetBytes(0);
      if (!bytes.ok()) return bytes.status();
      out.push_back(*std::move(bytes));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<partnercenter::events::v1::EventEnvelope>> OutboxEvents(Database& db) {
  absl::StatusOr<std::vector<std::string>> payloads = OutboxPayloads(db);
  if (!payloads.ok()) return payloads.status();
  std::vector<partnercenter::events::v1::EventEnvelope> out;
  for (const std::string& bytes : *payloads) {
    absl::StatusOr<partnercenter::events::v1::EventEnvelope> e = pc::events::Decode(bytes);
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

absl::Status DatabaseFixture::OpenDatabase(Dialect dialect) {
  PC_ASSIGN_OR_RETURN(test_db_, TestDatabase::Create(dialect));
  PC_ASSIGN_OR_RETURN(db_, test_db_->Open());
  return absl::OkStatus();
}

std::vector<partnercenter::events::v1::EventEnvelope> DatabaseFixture::Events() {
  auto events = OutboxEvents(*db_);
  if (!events.ok()) ADD_FAILURE() << "reading the outbox: " << events.status();
  return events.value_or(std::vector<partnercenter::events::v1::EventEnvelope>{});
}

std::vector<std::string> DatabaseFixture::EventTypes() {
  std::vector<std::string> types;
  for (const auto& e : Events()) types.push_back(e.type());
  return types;
}

int64_t DatabaseFixture::Count(const std::string& table) {
  auto n = QueryInt64(*db_, "SELECT count(*) FROM " + table);
  if (!n.ok()) ADD_FAILURE() << "counting " << table << ": " << n.status();
  return n.value_or(-1);
}

absl::Status RunWritesTogether(const TestDatabase& db, const std::string& table,
                               const std::string& waiting_on,
                               const std::vector<std::function<void()>>& calls) {
  if (db.dialect() != Dialect::kPostgres) {
    std::vector<std::thread> threads;
    for (const auto& call : calls) threads.emplace_back(call);
    for (std::thread& t : threads) t.join();
    return absl::OkStatus();
  }
  PC_ASSIGN_OR_RETURN(std::unique_ptr<Database> holder_db, db.Open());
  PC_ASSIGN_OR_RETURN(std::unique_ptr<Database> observer, db.Open());
  std::promise<void> locked, release;
  absl::Status held;
  std::thread holder([&] {
    held = holder_db->InTransaction([&](Transaction& tx) -> absl::Status {
      absl::Status s = tx.ExecuteScript("LOCK TABLE " + table + " IN SHARE MODE");
      locked.set_value();
      if (!s.ok()) return s;
      release.get_future().wait();
      return absl::OkStatus();
    });
  });
  locked.get_future().wait();
  std::vector<std::thread> threads;
  for (const auto& call : calls) threads.emplace_back(call);
  // Poll the server's own view until every call waits on its write (a condition, not a delay).
  const std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
      "AND wait_event_type = 'Lock' AND query LIKE '" + waiting_on + "%'";
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::StatusOr<int64_t> waiting = 0;
  while (absl::Now() < deadline) {
    waiting = QueryInt64(*observer, sql);
    if (!waiting.ok() || *waiting >= static_cast<int64_t>(calls.size())) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  release.set_value();
  holder.join();
  for (std::thread& t : threads) t.join();
  PC_RETURN_IF_ERROR(held);
  PC_RETURN_IF_ERROR(waiting.status());
  if (*waiting < static_cast<int64_t>(calls.size())) {
    return absl::DeadlineExceededError(absl::StrCat(
        *waiting, " of ", calls.size(), " calls reached '", waiting_on, "' within 30 s"));
  }
  return absl::OkStatus();
}

}  // namespace pc::storage
