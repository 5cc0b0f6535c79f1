#include "pc/storage/migrations.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "internal.h"
#include "pc/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace pc::storage {
namespace {

constexpr char kCreateMigrationsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  component  TEXT   NOT NULL,
  version    BIGINT NOT NULL,
  name       TEXT   NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (component, version)
))sql";

// Serialises concurrent migrators on PostgreSQL until the transaction ends (SQLite's
// BEGIN IMMEDIATE already does).
absl::Status LockMigrations(Transaction& tx) {
  if (tx.dialect() != Dialect::kPostgres) return absl::OkStatus();
  static const int64_t kKey = internal::LockKey("pc.storage.schema_migrations");
  return tx.Query("SELECT pg_advisory_xact_lock($1)", {kKey}).status();
}

absl::Status Validate(std::string_view component, const std::vector<Migration>& migrations) {
  if (component.empty()) return absl::InvalidArgumentError("migration component is empty");
  int64_t previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return absl::InvalidArgumentError(absl::StrCat(
          "migration versions of '", std::string(component),
          "' must be positive and strictly increasing; got ", m.version, " after ", previous));
    }
    if (m.name.empty() || m.sql.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("migration ", m.version, " of '",
                                                     std::string(component),
                                                     "' needs a name and SQL"));
    }
    previous = m.version;
  }
  return absl::OkStatus();
}

const std::vector<Migration>& StorageMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1, "create outbox and inbox",
       R"sql(
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  topic         TEXT    NOT NULL,
  key           TEXT    NOT NULL,
  event_id      TEXT    NOT NULL,
  event_type    TEXT    NOT NULL,
  payload       BLOB    NOT NULL,
  headers       TEXT    NOT NULL,
  aggregate_key TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  sent_at       INTEGER
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE TABLE inbox (
  consumer_group TEXT    NOT NULL,
  event_id       TEXT    NOT NULL,
  processed_at   INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, event_id)
);
CREATE INDEX inbox_processed_at ON inbox (processed_at);
)sql",
       R"sql(
CREATE TABLE outbox (
  id            BIGSERIAL PRIMARY KEY,
  topic         TEXT   NOT NULL,
  key           TEXT   NOT NULL,
  event_id      TEXT   NOT NULL,
  event_type    TEXT   NOT NULL,
  payload       BYTEA  NOT NULL,
  headers       TEXT   NOT NULL,
  aggregate_key TEXT   NOT NULL,
  created_at    BIGINT NOT NULL,
  sent_at       BIGINT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE TABLE inbox (
  consumer_group TEXT   NOT NULL,
  event_id       TEXT   NOT NULL,
  processed_at   BIGINT NOT NULL,
  PRIMARY KEY (consumer_group, event_id)
);
CREATE INDEX inbox_processed_at ON inbox (processed_at);
)sql"},
  };
  return *kMigrations;
}

}  // namespace

absl::Status Migrate(Database& db, std::string_view component_view,
                     const std::vector<Migration>& migrations) {
  PC_RETURN_IF_ERROR(Validate(component_view, migrations));
  const std::string component(component_view);
  std::set<int64_t> applied;
  PC_RETURN_IF_ERROR(db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_RETURN_IF_ERROR(LockMigrations(tx));
    PC_RETURN_IF_ERROR(tx.ExecuteScript(kCreateMigrationsTable));
    PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        tx.Query("SELECT version FROM schema_migrations WHERE component = $1",
                                 {component}));
    for (const Row& row : rows) {
      PC_ASSIGN_OR_RETURN(int64_t version, row.GetInt64(0));
      applied.insert(version);
    }
    return absl::OkStatus();
  }));

  for (const Migration& m : migrations) {
    if (applied.contains(m.version)) continue;
    bool ran = false;
    absl::Status status = db.InTransaction([&](Transaction& tx) -> absl::Status {
      PC_RETURN_IF_ERROR(LockMigrations(tx));
      PC_ASSIGN_OR_RETURN(
          std::vector<Row> rows,
          tx.Query("SELECT 1 FROM schema_migrations WHERE component = $1 AND version = $2",
                   {component, m.version}));
      if (!rows.empty()) return absl::OkStatus();  // another replica was faster
      bool postgres = tx.dialect() == Dialect::kPostgres && !m.postgres_sql.empty();
      PC_RETURN_IF_ERROR(tx.ExecuteScript(absl::StrReplaceAll(
          postgres ? m.postgres_sql : m.sql,
          {{kBytesType, tx.dialect() == Dialect::kPostgres ? "BYTEA" : "BLOB"},
           {kWithoutRowid, tx.dialect() == Dialect::kPostgres ? "" : " WITHOUT ROWID"}})));
      PC_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO schema_migrations (component, version, name, applied_at) "
                     "VALUES ($1, $2, $3, $4)",
                     {component, m.version, m.name, absl::ToUnixMicros(absl::Now())})
              .status());
      ran = true;
      return absl::OkStatus();
    });
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("migration ", component, " v", m.version,
                                                      " (", m.name, "): ", status.message()));
    }
    if (ran) spdlog::info("storage: applied migration {} v{} ({})", component, m.version, m.name);
  }
  return absl::OkStatus();
}

absl::Status MigrateOutboxAndInbox(Database& db) {
  return Migrate(db, "pc.storage", StorageMigrations());
}

}  // namespace pc::storage
