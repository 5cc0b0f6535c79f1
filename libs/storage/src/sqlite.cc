#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
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

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

absl::Status Exec(sqlite3* db, const std::string& sql, std::string_view what) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : Error(db, rc, what);
}

absl::Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params) {
  PC_RETURN_IF_ERROR(CheckParams(params));
  int count = sqlite3_bind_parameter_count(stmt);
  if (count != static_cast<int>(params.size())) {
    return absl::InternalError(absl::StrCat("statement has ", count, " parameters, ",
                                            params.size(), " given"));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    std::string name = absl::StrCat("$", i + 1);
    int index = sqlite3_bind_parameter_index(stmt, name.c_str());
    if (index == 0) {
      return absl::InternalError(absl::StrCat("statement does not use ", name,
                                              " (placeholders are $1, $2, …)"));
    }
    const Value& value = params[i];
    int rc = SQLITE_OK;
    switch (value.kind()) {
      case ValueKind::kNull: rc = sqlite3_bind_null(stmt, index); break;
      case ValueKind::kInt64: rc = sqlite3_bind_int64(stmt, index, *value.AsInt64()); break;
      case ValueKind::kDouble: rc = sqlite3_bind_double(stmt, index, *value.AsDouble()); break;
      case ValueKind::kText: {
        std::string text = *value.AsText();
        rc = sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
        break;
      }
      case ValueKind::kBytes: {
        std::string bytes = *value.AsBytes();
        rc = sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
        break;
      }
    }
    if (rc != SQLITE_OK) {
      return Error(sqlite3_db_handle(stmt), rc, absl::StrCat("binding ", name));
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
  explicit SqliteTransaction(sqlite3* db) : db_(db) {}
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
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    Stmt stmt(raw);
    if (rc != SQLITE_OK) return Fail(Error(db_, rc, "prepare"));
    if (stmt == nullptr) return Fail(absl::InternalError("empty SQL statement"));
    std::string_view rest(tail, sql.data() + sql.size() - tail);
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      return Fail(absl::InternalError("several SQL statements; use ExecuteScript"));
    }
    PC_RETURN_IF_ERROR(Fail(Bind(stmt.get(), params)));
    std::shared_ptr<std::vector<std::string>> columns;
    if (rows != nullptr) {
      columns = std::make_shared<std::vector<std::string>>();
      for (int i = 0; i < sqlite3_column_count(stmt.get()); ++i) {
        columns->push_back(sqlite3_column_name(stmt.get(), i));
      }
    }
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      std::vector<Value> values;
      values.reserve(columns->size());
      for (size_t i = 0; i < columns->size(); ++i) {
        values.push_back(ColumnValue(stmt.get(), static_cast<int>(i)));
      }
      rows->emplace_back(columns, std::move(values));
    }
    if (rc != SQLITE_DONE) return Fail(Error(db_, rc, "step"));
    return absl::OkStatus();
  }

  sqlite3* db_;
  absl::Status first_error_;
};

class AlwaysHeldLock final : public SessionLock {
 public:
  absl::Status Check() override { return absl::OkStatus(); }
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::StatusOr<std::unique_ptr<SessionLock>> TryLock(std::string_view) override {
    return std::make_unique<AlwaysHeldLock>();
  }

 protected:
  absl::Status RunTransaction(const TransactionFn& fn) override {
    absl::MutexLock lock(&mu_);
    PC_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", "begin"));
    struct RollbackUnlessCommitted {
      sqlite3* db;
      ~RollbackUnlessCommitted() {
        if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
    } guard{db_};
    SqliteTransaction tx(db_);
    absl::Status status = fn(tx);
    if (status.ok()) status = tx.first_error();
    if (!status.ok()) return status;
    return Exec(db_, "COMMIT", "commit");
  }

 private:
  absl::Mutex mu_;
  sqlite3* db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path,
                                                     const DatabaseOptions& options) {
  std::string synchronous = absl::AsciiStrToUpper(options.sqlite_synchronous);
  if (synchronous != "FULL" && synchronous != "NORMAL" && synchronous != "OFF" &&
      synchronous != "EXTRA") {
    return absl::InvalidArgumentError("sqlite_synchronous must be FULL, NORMAL, OFF or EXTRA");
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  auto db = std::make_unique<SqliteDatabase>(raw);  // closes `raw` on every error below
  if (rc != SQLITE_OK) return Error(raw, rc, "open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw,
                       static_cast<int>(absl::ToInt64Milliseconds(options.sqlite_busy_timeout)));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA journal_mode=WAL", "enable WAL"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA synchronous=" + synchronous, "set synchronous"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA foreign_keys=ON", "enable foreign keys"));
  // The default page cache (2 MB) is smaller than the indexes of a busy read model, so every
  // write became page reads through the kernel; 64 MB holds the hot pages of 100 000 rows.
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA cache_size=-65536", "set cache size"));
  PC_RETURN_IF_ERROR(Exec(raw, "PRAGMA temp_store=MEMORY", "set temp store"));
  return db;
}

}  // namespace pc::storage::internal
