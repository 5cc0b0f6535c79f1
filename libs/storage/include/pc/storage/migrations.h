// Versioned schema migrations, run at start (or by a Kubernetes Job).
//
//   const std::vector<pc::storage::Migration> kMigrations = {
//       {1, "create invitations",
//        "CREATE TABLE invitations (id TEXT PRIMARY KEY, data {{bytes}} NOT NULL)"},  // both
//       {2, "index partner", "CREATE INDEX invitations_partner ON invitations (partner_id)"},
//   };
//   PC_RETURN_IF_ERROR(pc::storage::MigrateOutboxAndInbox(*db));   // outbox + inbox tables
//   PC_RETURN_IF_ERROR(pc::storage::Migrate(*db, "invitation", kMigrations));
//
// Applied versions are recorded in `schema_migrations(component, version, name, applied_at)`
// (applied_at: Unix microseconds). Each migration runs in its own transaction together with
// its row, so a failed migration leaves nothing behind and a second run is a no-op. Components
// are independent (several services may share one database). On PostgreSQL every migration
// transaction first takes `pg_advisory_xact_lock`, so replicas starting at once do not collide;
// on SQLite `BEGIN IMMEDIATE` serialises them. Versions already applied but missing from the
// list (a newer binary ran first) are left alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pc/storage/database.h"

namespace pc::storage {

// Written in a migration's SQL, becomes the dialect's binary type: BLOB (SQLite) or BYTEA
// (PostgreSQL), so one statement serves both stores: "data {{bytes}} NOT NULL".
inline constexpr char kBytesType[] = "{{bytes}}";
// Written after a CREATE TABLE's closing parenthesis: SQLite's WITHOUT ROWID (the table is
// stored in its primary key's B-tree, one write instead of two for a composite text key);
// nothing on PostgreSQL. "CREATE TABLE t (…, PRIMARY KEY (a, b)){{without_rowid}};"
inline constexpr char kWithoutRowid[] = "{{without_rowid}}";

struct Migration {
  int64_t version = 0;  // > 0, strictly increasing within a component
  std::string name{};
  std::string sql{};           // one or more statements; used by both dialects unless…
  std::string postgres_sql{};  // …this is set, which PostgreSQL then uses instead
};

// Applies the migrations of `component` that are not applied yet, in version order.
// INVALID_ARGUMENT if the list is malformed; the failing migration's error otherwise.
absl::Status Migrate(Database& db, std::string_view component,
                     const std::vector<Migration>& migrations);

// The outbox and inbox tables (component "pc.storage"); call before the service's own Migrate.
absl::Status MigrateOutboxAndInbox(Database& db);

}  // namespace pc::storage
