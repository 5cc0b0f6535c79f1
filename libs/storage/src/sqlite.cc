#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "internal.h"
#include "pc/common/status_macros.h"

namespace pc::storage::internal {
namespace {

absl::StatusCode CodeFor(int rc) {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::StatusCode::kAlreadyExists;
  }
  if (rc == SQLITE_BUSY_SNAPSHOT) return absl::StatusCode::kAborted;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return absl::StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY: return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM: return absl::StatusCode::kResourceExhausted;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH: return absl::StatusCode::kInvalidArgument;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return absl::StatusCode::kDataLoss;
    case SQLITE_INTERRUPT: return absl::StatusCode::kCancelled;
    default: return absl::StatusCode::kInternal;
  }
}

// sqlite3_errmsg names tables, columns and constraints, never bound values.
absl::Status Error(sqlite3* db, int rc, std::string_view what) {
  return absl::Status(CodeFor(rc), absl::StrCat("sqlite ", std::string(what), ": ",
                                                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

absl::Status Exec(sqlite3* db, const std::string& sql, std::string_view what) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : Error(db, rc, what);
}

// One prepared statement and what is derived from it once: where each `$N` binds and the
// result's column names (shared by every Row it returns).
struct Prepared {
  sqlite3_stmt* stmt = nullptr;
  absl::Status usable;      // not OK: the SQL cannot be run with `$N` parameters
  std::vector<int> index;   // index[N - 1]: SQLite's parameter index of `$N` (0: unused)
  std::shared_ptr<const std::vector<std::string>> columns;
  uint64_t last_used = 0;
};

// A connection and its prepared statements, cached by SQL text (SQLITE_PREPARE_PERSISTENT),
// at most `capacity` of them (the least recently used is finalized when a new one needs room).
// Statements are reset and their bindings cleared after every use, whatever the outcome, so a
// failed statement leaves no open cursor. Not thread-safe: one transaction at a time uses it.
class Connection {
 public:
  Connection(sqlite3* db, int capacity) : db_(db), capacity_(capacity) {}
  ~Connection() {
    for (auto& [sql, p] : cache_) sqlite3_finalize(p->stmt);
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  size_t cached() const { return cache_.size(); }

  // The statement for `sql`, prepared now or found in the cache. `owned` receives a statement
  // that is not cached (cache disabled) and must be finalized by the caller after use.
  absl::StatusOr<Prepared*> Prepare(std::string_view sql, std::unique_ptr<Prepared>* owned) {
    if (auto it = cache_.find(absl::string_view(sql.data(), sql.size())); it != cache_.end()) {
      it->second->last_used = ++clock_;
      return it->second.get();
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const unsigned flags = capacity_ > 0 ? SQLITE_PREPARE_PERSISTENT : 0;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt,
                                &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(db_, rc, "prepare");
    }
    if (stmt == nullptr) return absl::InternalError("empty SQL statement");
    std::string_view rest(tail, sql.data() + sql.size() - tail);
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return absl::InternalError("several SQL statements; use ExecuteScript");
    }
    auto p = std::make_unique<Prepared>();
    p->stmt = stmt;
    const int count = sqlite3_bind_parameter_count(stmt);
    p->index.assign(count, 0);
    for (int i = 1; i <= count && p->usable.ok(); ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      int n = 0;
      if (name == nullptr || name[0] != '$' || !absl::SimpleAtoi(name + 1, &n) || n < 1 ||
          n > count) {
        p->usable = absl::InternalError("placeholders must be $1, $2, … without gaps");
      } else {
        p->index[n - 1] = i;
      }
    }
    Columns(*p);
    if (capacity_ <= 0) {
      *owned = std::move(p);
      return owned->get();
    }
    if (cache_.size() >= static_cast<size_t>(capacity_)) Evict();
    p->last_used = ++clock_;
    Prepared* out = p.get();
    cache_.emplace(std::string(sql), std::move(p));
    return out;
  }

  // The result's column names; recomputed if a schema change re-prepared the statement.
  static const std::shared_ptr<const std::vector<std::string>>& Columns(Prepared& p) {
    const int count = sqlite3_column_count(p.stmt);
    if (p.columns == nullptr || static_cast<int>(p.columns->size()) != count) {
      auto columns = std::make_shared<std::vector<std::string>>();
      columns->reserve(count);
      for (int i = 0; i < count; ++i) columns->push_back(sqlite3_column_name(p.stmt, i));
      p.columns = std::move(columns);
    }
    return p.columns;
  }

  // Runs a statement without parameters or rows (BEGIN, COMMIT, a PRAGMA that sets).
  absl::Status Run(std::string_view sql, std::string_view what) {
    std::unique_ptr<Prepared> owned;
    absl::StatusOr<Prepared*> p = Prepare(sql, &owned);
    if (!p.ok()) return p.status();
    int rc;
    while ((rc = sqlite3_step((*p)->stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset((*p)->stmt);
    if (owned != nullptr) sqlite3_finalize(owned->stmt);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error(db_, rc, what);
  }

 private:
  void Evict() {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second->last_used < oldest->second->last_used) oldest = it;
    }
    sqlite3_finalize(oldest->second->stmt);
    cache_.erase(oldest);
  }

  sqlite3* const db_;
  const int capacity_;
  uint64_t clock_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<Prepared>> cache_;
};

absl::Status Bind(const Prepared& p, const std::vector<Value>& params) {
  PC_RETURN_IF_ERROR(CheckParams(params));
  PC_RETURN_IF_ERROR(p.usable);
  if (p.index.size() != params.size()) {
    return absl::InternalError(absl::StrCat("statement has ", p.index.size(), " parameters, ",
                                            params.size(), " given"));
  }
  sqlite3_stmt* stmt = p.stmt;
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = p.index[i];
    if (index == 0) {
      return absl::InternalError(absl::StrCat("statement does not use $", i + 1,
                                              " (placeholders are $1, $2, …)"));
    }
    const Value& value = params[i];
    int rc = SQLITE_OK;
    // Text and bytes are bound without a copy: `params` outlives the statement's run, and the
    // bindings are cleared right after it.
    switch (value.kind()) {
      case ValueKind::kNull: rc = sqlite3_bind_null(stmt, index); break;
      case ValueKind::kInt64: rc = sqlite3_bind_int64(stmt, index, *value.AsInt64()); break;
      case ValueKind::kDouble: rc = sqlite3_bind_double(stmt, index, *value.AsDouble()); break;
      case ValueKind::kText: {
        std::string_view text = value.view();
        rc = sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
        break;
      }
      case ValueKind::kBytes: {
        std::string_view bytes = value.view();
        // A zero-length blob needs a non-null pointer, or SQLite binds NULL.
        rc = sqlite3_bind_blob64(stmt, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                                 SQLITE_STATIC);
        break;
      }
    }
    if (rc != SQLITE_OK) {
      return Error(sqlite3_db_handle(stmt), rc, absl::StrCat("binding $", i + 1));
    }
  }
  return absl::OkStatus();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER: return Value(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return Value(std::string(text, sqlite3_column_bytes(stmt, i)));
    }
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      int size = sqlite3_column_bytes(stmt, i);
      return Value(Bytes{blob == nullptr ? std::string() : std::string(blob, size)});
    }
    default: return Value();
  }
}

class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(Connection& conn) : conn_(conn), db_(conn.db()) {}
  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params) override {
    std::vector<Row> rows;
    PC_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  const std::vector<Value>& params) override {
    int64_t before = sqlite3_total_changes64(db_);
    PC_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return sqlite3_total_changes64(db_) == before ? 0 : sqlite3_changes64(db_);
  }

  absl::Status ExecuteDeferred(std::string_view sql, const std::vector<Value>& params) override {
    return Run(sql, params, nullptr);
  }

  absl::Status ExecuteScript(std::string_view sql) override {
    if (!first_error_.ok()) return PoisonedError(first_error_);
    return Fail(Exec(db_, std::string(sql), "script"));
  }

  const absl::Status& first_error() const { return first_error_; }

 private:
  absl::Status Fail(absl::Status status) {
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    return status;
  }

  absl::Status Run(std::string_view sql, const std::vector<Value>& params, std::vector<Row>* rows) {
    if (!first_error_.ok()) return PoisonedError(first_error_);
    std::unique_ptr<Prepared> owned;
    absl::StatusOr<Prepared*> prepared = conn_.Prepare(sql, &owned);
    if (!prepared.ok()) return Fail(prepared.status());
    Prepared& p = **prepared;
    // Reset and unbind on every path, so the cached statement is clean for its next use.
    struct Cleanup {
      sqlite3_stmt* stmt;
      Prepared* owned;
      ~Cleanup() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (owned != nullptr) sqlite3_finalize(owned->stmt);
      }
    } cleanup{p.stmt, owned.get()};
    PC_RETURN_IF_ERROR(Fail(Bind(p, params)));
    int rc;
    if (rows == nullptr) {
      while ((rc = sqlite3_step(p.stmt)) == SQLITE_ROW) {
      }
    } else {
      const std::shared_ptr<const std::vector<std::string>>& columns = Connection::Columns(p);
      const int n = static_cast<int>(columns->size());
      while ((rc = sqlite3_step(p.stmt)) == SQLITE_ROW) {
        std::vector<Value> values;
        values.reserve(n);
        for (int i = 0; i < n; ++i) values.push_back(ColumnValue(p.stmt, i));
        rows->emplace_back(columns, std::move(values));
      }
    }
    if (rc != SQLITE_DONE) return Fail(Error(db_, rc, "step"));
    return absl::OkStatus();
  }

  Connection& conn_;
  sqlite3* db_;
  absl::Status first_error_;
};

class AlwaysHeldLock final : public SessionLock {
 public:
  absl::Status Check() override { return absl::OkStatus(); }
};

// Runs `fn` between `begin` and COMMIT on `conn` (ROLLBACK on any error).
absl::Status RunOn(Connection& conn, const char* begin, const Database::TransactionFn& fn) {
  PC_RETURN_IF_ERROR(conn.Run(begin, "begin"));
  struct RollbackUnlessCommitted {
    Connection& conn;
    ~RollbackUnlessCommitted() {
      if (!sqlite3_get_autocommit(conn.db())) (void)conn.Run("ROLLBACK", "rollback");
    }
  } guard{conn};
  SqliteTransaction tx(conn);
  absl::Status status = fn(tx);
  if (status.ok()) status = tx.first_error();
  if (!status.ok()) return status;
  return conn.Run("COMMIT", "commit");
}

absl::StatusOr<std::unique_ptr<Connection>> OpenConnection(const std::string& path, int flags,
                                                           const DatabaseOptions& options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  auto conn = std::make_unique<Connection>(raw, options.statement_cache_size);  // closes `raw`
  if (rc != SQLITE_OK) return Error(raw, rc, "open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw,
                       static_cast<int>(absl::ToInt64Milliseconds(options.sqlite_busy_timeout)));
  return conn;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options, std::unique_ptr<Connection> writer)
      : path_(std::move(path)), options_(std::move(options)), memory_(path_ == ":memory:"),
        writer_(std::move(writer)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::StatusOr<std::unique_ptr<SessionLock>> TryLock(std::string_view) override {
    return std::make_unique<AlwaysHeldLock>();
  }

 protected:
  absl::Status RunTransaction(const TransactionFn& fn) override {
    absl::MutexLock lock(&mu_);
    return RunOn(*writer_, "BEGIN IMMEDIATE", fn);
  }

  absl::Status RunReadTransaction(const TransactionFn& fn) override {
    if (memory_) {  // one connection is the whole database: read on it, read-only meanwhile
      absl::MutexLock lock(&mu_);
      PC_RETURN_IF_ERROR(writer_->Run("PRAGMA query_only = 1", "query_only"));
      absl::Status status = RunOn(*writer_, "BEGIN", fn);
      absl::Status restored = writer_->Run("PRAGMA query_only = 0", "query_only");
      return status.ok() ? restored : status;
    }
    PC_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, AcquireReader());
    absl::Status status = RunOn(*reader, "BEGIN", fn);
    ReleaseReader(std::move(reader));
    return status;
  }

 private:
  absl::StatusOr<std::unique_ptr<Connection>> AcquireReader() {
    {
      absl::MutexLock lock(&readers_mu_);
      const int limit = std::max(1, options_.sqlite_read_connections);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(readers_mu_) {
        return !idle_readers_.empty() || open_readers_ < limit;
      };
      readers_mu_.Await(absl::Condition(&ready));
      if (!idle_readers_.empty()) {
        std::unique_ptr<Connection> reader = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return reader;
      }
      ++open_readers_;
    }
    absl::StatusOr<std::unique_ptr<Connection>> reader =
        OpenConnection(path_, SQLITE_OPEN_READWRITE, options_);
    if (reader.ok()) {
      absl::Status set = (*reader)->Run("PRAGMA query_only = 1", "query_only");
      if (!set.ok()) reader = set;
    }
    if (!reader.ok()) {
      absl::MutexLock lock(&readers_mu_);
      --open_readers_;
    }
    return reader;
  }

  void ReleaseReader(std::unique_ptr<Connection> reader) {
    absl::MutexLock lock(&readers_mu_);
    if (sqlite3_get_autocommit(reader->db())) {
      idle_readers_.push_back(std::move(reader));
    } else {  // a transaction it could not end: do not reuse it
      --open_readers_;
    }
  }

  const std::string path_;
  const DatabaseOptions options_;
  const bool memory_;
  absl::Mutex mu_;
  std::unique_ptr<Connection> writer_ ABSL_GUARDED_BY(mu_);
  absl::Mutex readers_mu_;
  int open_readers_ ABSL_GUARDED_BY(readers_mu_) = 0;
  std::vector<std::unique_ptr<Connection>> idle_readers_ ABSL_GUARDED_BY(readers_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path,
                                                     const DatabaseOptions& options) {
  std::string synchronous = absl::AsciiStrToUpper(options.sqlite_synchronous);
  if (synchronous != "FULL" && synchronous != "NORMAL" && synchronous != "OFF" &&
      synchronous != "EXTRA") {
    return absl::InvalidArgumentError("sqlite_synchronous must be FULL, NORMAL, OFF or EXTRA");
  }
  PC_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options));
  sqlite3* raw = writer->db();
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA journal_mode=WAL", "enable WAL"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA synchronous=" + synchronous, "set synchronous"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA foreign_keys=ON", "enable foreign keys"));
  // The default page cache (2 MB) is smaller than the indexes of a busy read model, so every
  // write became page reads through the kernel; 64 MB holds the hot pages of 100 000 rows
  // (the writer only; readers keep the default).
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA cache_size=-65536", "set cache size"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA temp_store=MEMORY", "set temp store"));
  return std::make_unique<SqliteDatabase>(path, options, std::move(writer));
}

}  // namespace pc::storage::internal
