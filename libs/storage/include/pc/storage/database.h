// One small database abstraction with two implementations: SQLite (the embedded default,
// one process) and PostgreSQL 15 (several replicas). Services write SQL with `$1, $2, …`
// placeholders in both dialects and run it inside InTransaction.
//
//   PC_ASSIGN_OR_RETURN(std::unique_ptr<pc::storage::Database> db,
//                       pc::storage::Open("sqlite:///var/lib/pc/invitation.db"));
//   PC_RETURN_IF_ERROR(db->InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
//     PC_ASSIGN_OR_RETURN(int64_t changed,
//                         tx.Execute("UPDATE invitations SET state = $1, version = version + 1 "
//                                    "WHERE id = $2 AND version = $3", {state, id, version}));
//     if (changed == 0) return absl::AbortedError("version conflict");
//     return pc::storage::Outbox::Append(tx, record);   // same transaction
//   }));   // OK → COMMIT; any error → ROLLBACK and that error is returned
//
// Errors use the most specific canonical code and never contain parameter values:
//   unique / primary key violation            → ALREADY_EXISTS
//   other constraint (foreign key, not null…) → FAILED_PRECONDITION
//   serialization failure, deadlock           → ABORTED (retry the whole transaction)
//   cannot connect, connection lost, busy     → UNAVAILABLE
//   bad value (e.g. text with NUL, bad input) → INVALID_ARGUMENT
//   SQL error, wrong parameter count          → INTERNAL (a bug in the calling code)
// After a statement fails, the transaction is poisoned in both dialects: further statements
// return FAILED_PRECONDITION and the transaction rolls back even if the callback returns OK
// (InTransaction then returns the first statement error). Use `ON CONFLICT DO NOTHING` for
// expected duplicates. Transactions are not retried automatically.
//
// SQLite: one write connection per Database, WAL, `synchronous=FULL` (configurable),
// busy_timeout, foreign_keys=ON, every write transaction `BEGIN IMMEDIATE` (so writers in this
// or another process wait for the write lock instead of deadlocking); a mutex serialises write
// transactions on it. Read transactions (InReadTransaction) run on a small pool of read-only
// connections (`BEGIN` deferred, `query_only`): WAL lets them read their snapshot while a write
// transaction is open, so readers never wait for the writer nor for each other. ":memory:" has
// no file to share: there reads run on the write connection (with query_only set), serialised.
// Every connection caches its prepared statements by SQL text.
// PostgreSQL (libpq): a pool of up to `pool_size` connections, READ COMMITTED, a broken idle
// connection is reconnected before use; statements are prepared once per connection (cached by
// SQL text and parameter types) and BEGIN goes out in one pipeline with the first statement.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/storage/value.h"

namespace pc::storage {

enum class Dialect { kSqlite, kPostgres };

// "sqlite" or "postgres".
std::string_view DialectName(Dialect dialect);

// The statements of one transaction. Only valid inside the InTransaction callback.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement and returns its rows (SELECT, or any statement with RETURNING).
  virtual absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                                 const std::vector<Value>& params = {}) = 0;
  // Runs one statement and returns the number of rows it inserted, updated or deleted.
  virtual absl::StatusOr<int64_t> Execute(std::string_view sql,
                                          const std::vector<Value>& params = {}) = 0;
  // Runs one or more `;`-separated statements without parameters (schema changes).
  virtual absl::Status ExecuteScript(std::string_view sql) = 0;
  // Like Execute, for a write whose row count the caller does not need and whose error may
  // come later. PostgreSQL: queued, and sent in one pipeline (one round trip) with the next
  // statement of the transaction or with its COMMIT; if it fails, that next statement (or
  // InTransaction) returns its error, with the same codes as Execute, and the transaction rolls
  // back. SQLite: runs at once. Use it for a transaction's trailing writes.
  virtual absl::Status ExecuteDeferred(std::string_view sql,
                                       const std::vector<Value>& params = {}) {
    return Execute(sql, params).status();
  }
  // Exactly one row: NOT_FOUND if there is none, INTERNAL if there are several.
  absl::StatusOr<Row> QueryOne(std::string_view sql, const std::vector<Value>& params = {});
};

// A named lock held by this process until the object is destroyed (PostgreSQL: a session-level
// advisory lock on a dedicated connection, lost after DatabaseOptions::lock_lease without a
// Check(); SQLite: always granted, one process owns the file).
class SessionLock {
 public:
  virtual ~SessionLock() = default;
  // OK while the lock is still held; UNAVAILABLE once its connection was lost.
  virtual absl::Status Check() = 0;
};

// Delivers cross-process wake-ups while it lives (see Database::Listen).
class Listener {
 public:
  virtual ~Listener() = default;
};

class Database {
 public:
  using TransactionFn = std::function<absl::Status(Transaction&)>;

  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs `fn` in a transaction: commits if it returns OK (and no statement failed), otherwise
  // rolls back and returns the error. Calling InTransaction from inside `fn` on the same
  // Database is FAILED_PRECONDITION (a nested call would deadlock or silently not be atomic).
  absl::Status InTransaction(const TransactionFn& fn);

  // Runs `fn` in a read-only transaction: one consistent snapshot; writes fail (SQLite
  // `query_only`: UNAVAILABLE; PostgreSQL READ ONLY: INTERNAL). SQLite: on a pooled read
  // connection, concurrently with other readers and with an open write transaction (on
  // ":memory:" on the write connection, serialised). PostgreSQL: `BEGIN READ ONLY` on a pooled
  // connection. Nesting it in InTransaction or itself on the same Database is
  // FAILED_PRECONDITION, as for InTransaction.
  absl::Status InReadTransaction(const TransactionFn& fn);

  // Takes the lock `name` if no other session holds it; nullptr if another one does.
  virtual absl::StatusOr<std::unique_ptr<SessionLock>> TryLock(std::string_view name) = 0;

  // Calls `wake` (on a thread of its own) soon after any session, in any process, commits a
  // transaction that ran NotifyOnCommit(tx, channel); also once after a lost listening
  // connection is back, since commits in between went unheard. It listens before it returns,
  // so a commit after that is heard. PostgreSQL: LISTEN on a dedicated connection. SQLite: nullptr (one process owns the file; wake it in-process).
  virtual absl::StatusOr<std::unique_ptr<Listener>> Listen(std::string_view channel,
                                                           std::function<void()> wake) {
    return nullptr;
  }

 protected:
  virtual absl::Status RunTransaction(const TransactionFn& fn) = 0;
  virtual absl::Status RunReadTransaction(const TransactionFn& fn) { return RunTransaction(fn); }

 private:
  absl::Status Guarded(const TransactionFn& fn, bool read_only);
};

// Makes the commit of `tx` wake the Listen(channel) callbacks (PostgreSQL NOTIFY: one per
// channel per transaction, however often it is called; SQLite: nothing).
absl::Status NotifyOnCommit(Transaction& tx, std::string_view channel);

struct DatabaseOptions {
  // SQLite: PRAGMA synchronous — "FULL" (default: a commit survives power loss), "NORMAL", "OFF".
  std::string sqlite_synchronous = "FULL";
  // SQLite: how long a transaction waits for another connection's write lock (UNAVAILABLE after).
  absl::Duration sqlite_busy_timeout = absl::Seconds(5);
  // SQLite: the most read-only connections InReadTransaction opens (lazily); at least 1.
  int sqlite_read_connections = 4;
  // Both: prepared statements kept per connection (least recently used evicted); 0 disables.
  int statement_cache_size = 256;
  // PostgreSQL: the most connections the pool opens.
  int pool_size = 4;
  // PostgreSQL: connect timeout (the URL's `connect_timeout` wins), and how long
  // InTransaction waits for a free pooled connection before UNAVAILABLE.
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration acquire_timeout = absl::Seconds(10);
  // PostgreSQL: a SessionLock's session is ended by the server (releasing the lock) once it
  // has been idle this long (`idle_session_timeout`): a holder that froze (SIGSTOP, a stuck
  // VM) or vanished without closing its connection loses the lock within this bound. The
  // holder must Check() more often than this. 0 disables it.
  absl::Duration lock_lease = absl::Seconds(10);
  // PostgreSQL: `application_name` shown in pg_stat_activity.
  std::string application_name = "partnercenter";
};

// Opens a database:
//   SQLite:     "sqlite:///abs/path.db", "sqlite://rel/path.db", "/abs/path.db", ":memory:"
//   PostgreSQL: "postgresql://user@host:port/db?…" or "postgres://…" (any libpq URI)
// INVALID_ARGUMENT for a bad URL or option, UNAVAILABLE if the database cannot be reached.
// PostgreSQL connects once here so bad configuration fails at start.
absl::StatusOr<std::unique_ptr<Database>> Open(std::string_view url,
                                               const DatabaseOptions& options = {});

}  // namespace pc::storage
