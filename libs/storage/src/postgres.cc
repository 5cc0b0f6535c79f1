#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "internal.h"
#include "pc/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace pc::storage::internal {
namespace {

// Type OIDs (pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trimmed(const char* message) {
  return std::string(absl::StripAsciiWhitespace(message == nullptr ? "" : message));
}

absl::StatusCode CodeForSqlState(const std::string& state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (state == "40001" || state == "40P01" || state == "55P03") return absl::StatusCode::kAborted;
  if (state == "08P01") return absl::StatusCode::kInternal;  // e.g. wrong parameter count
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    return absl::StatusCode::kUnavailable;
  }
  if (state == "57014") return absl::StatusCode::kDeadlineExceeded;
  if (absl::StartsWith(state, "23")) return absl::StatusCode::kFailedPrecondition;
  if (absl::StartsWith(state, "22")) return absl::StatusCode::kInvalidArgument;
  if (absl::StartsWith(state, "53")) return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kInternal;
}

// Built from the primary message and SQLSTATE only: DETAIL lines ("Key (email)=(…) already
// exists") and data-exception messages ("invalid input syntax for type uuid: \"…\"") can
// carry parameter values, so they are left out.
absl::Status Error(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string prefix = absl::StrCat("postgres ", std::string(what), ": ");
  if (PQstatus(conn) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "connection lost: ", Trimmed(PQerrorMessage(conn))));
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr) {  // a client-side failure: the connection is unusable
    return absl::UnavailableError(absl::StrCat(
        prefix, Trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn))));
  }
  std::string sqlstate = state;
  absl::StatusCode code = CodeForSqlState(sqlstate);
  std::string message;
  if (absl::StartsWith(sqlstate, "22")) {
    const char* type = PQresultErrorField(result, PG_DIAG_DATATYPE_NAME);
    message = absl::StrCat("invalid value", type ? absl::StrCat(" for type ", type) : "");
  } else {
    message = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  }
  return absl::Status(code, absl::StrCat(prefix, message, " (SQLSTATE ", sqlstate, ")"));
}

void LogNotice(void*, const char* message) {
  spdlog::debug("postgres: {}", Trimmed(message));
}

absl::StatusOr<PGconn*> Connect(const std::string& url, const DatabaseOptions& options) {
  std::string timeout =
      absl::StrCat(std::max<int64_t>(2, absl::ToInt64Seconds(options.connect_timeout)));
  // Options first, so that the URL (expanded from dbname) overrides them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), url.c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("postgres connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("postgres connect: ", Trimmed(PQerrorMessage(conn))));
    PQfinish(conn);
    return status;
  }
  PQsetNoticeProcessor(conn, &LogNotice, nullptr);
  return conn;
}

absl::Status Command(PGconn* conn, const char* sql, std::string_view what) {
  Result result(PQexec(conn, sql));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK &&
      PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Error(conn, result.get(), what);
  }
  return absl::OkStatus();
}

// Parameters in libpq's form: text for numbers and strings (strings typed `unknown`, so the
// server infers the column type), binary for bytes. Text and bytes point into `params`, which
// must outlive this object.
class Params {
 public:
  explicit Params(const std::vector<Value>& params) {
    size_t n = params.size();
    numbers_.resize(n);
    values_.resize(n, nullptr);
    lengths_.resize(n, 0);
    formats_.resize(n, 0);
    types_.resize(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Value& value = params[i];
      std::string_view data;
      switch (value.kind()) {
        case ValueKind::kNull: continue;
        case ValueKind::kInt64:
          numbers_[i] = absl::StrCat(*value.AsInt64());
          data = numbers_[i];
          types_[i] = kInt8Oid;
          break;
        case ValueKind::kDouble: {
          char buffer[64];
          auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), *value.AsDouble());
          numbers_[i] = std::string(buffer, end);
          data = numbers_[i];
          types_[i] = kFloat8Oid;
          break;
        }
        case ValueKind::kText: data = value.view(); break;
        case ValueKind::kBytes:
          data = value.view();
          types_[i] = kByteaOid;
          formats_[i] = 1;
          break;
      }
      values_[i] = data.empty() ? "" : data.data();  // NULL only for SQL NULL
      lengths_[i] = static_cast<int>(data.size());
    }
  }
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // What a prepared statement is keyed by besides its SQL: the parameter types.
  std::string_view type_key() const {
    return {reinterpret_cast<const char*>(types_.data()), types_.size() * sizeof(Oid)};
  }

 private:
  std::vector<std::string> numbers_;  // sized once: the strings never move
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

// A pooled connection and the statements prepared on it (by SQL text and parameter types).
// A full cache is emptied (DEALLOCATE ALL) before the next transaction starts.
class PgConnection {
 public:
  PgConnection(PGconn* conn, int capacity) : conn_(conn), capacity_(capacity) {}
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() const { return conn_; }
  bool caching() const { return capacity_ > 0; }
  bool full() const { return capacity_ > 0 && prepared_.size() >= static_cast<size_t>(capacity_); }
  void Forget() { prepared_.clear(); }
  void Reset() {
    PQreset(conn_);
    prepared_.clear();
  }
  // The name `key` is prepared under, or nullptr.
  const std::string* Find(const std::string& key) const {
    auto it = prepared_.find(key);
    return it == prepared_.end() ? nullptr : &it->second;
  }
  std::string NewName() { return absl::StrCat("pc_", ++counter_); }
  void Remember(std::string key, std::string name) {
    prepared_.emplace(std::move(key), std::move(name));
  }

 private:
  PGconn* const conn_;
  const int capacity_;
  uint64_t counter_ = 0;
  absl::flat_hash_map<std::string, std::string> prepared_;
};

// One command of a pipeline: BEGIN/COMMIT/DEALLOCATE (no parameters) or a statement.
struct Op {
  enum Kind { kControl, kStatement };
  Kind kind = kStatement;
  std::string sql;
  std::vector<Value> values;          // deferred statements own their parameters
  const std::vector<Value>* params = nullptr;  // where the parameters are (values or the caller's)
  bool is_commit = false;
};

struct PipelineOutcome {
  std::vector<Result> results;  // one per op, in order (null for ops that did not run)
  absl::Status status;          // the first failure, mapped as for any statement
  size_t failed = 0;            // the op that failed (if !status.ok())
  bool sent = false;            // something may have reached the server
};

// Sends `ops` in one pipeline (one round trip), preparing statements not yet prepared on the
// connection in the same pipeline, and reads one result per op. After an error the server
// skips the rest (PGRES_PIPELINE_ABORTED).
PipelineOutcome RunPipeline(PgConnection& c, const std::vector<Op>& ops) {
  PGconn* conn = c.get();
  PipelineOutcome out;
  out.results.resize(ops.size());
  auto lost = [&](std::string_view what) {
    out.status = absl::UnavailableError(absl::StrCat("postgres ", std::string(what),
                                                     ": connection lost: ",
                                                     Trimmed(PQerrorMessage(conn))));
  };
  if (PQenterPipelineMode(conn) != 1) {
    lost("pipeline");
    return out;
  }
  // Per op: the name of a statement prepared in this pipeline (its Parse's result comes first).
  struct Sent {
    std::string prepare_key;  // non-empty: a Prepare precedes this op's execution
    std::string name;
  };
  std::vector<Sent> sent(ops.size());
  absl::flat_hash_map<std::string, std::string> preparing;  // key → name, in this pipeline
  std::vector<std::unique_ptr<Params>> params(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    int ok = 0;
    if (op.kind == Op::kControl) {
      ok = PQsendQueryParams(conn, op.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    } else {
      params[i] = std::make_unique<Params>(*op.params);
      const Params& p = *params[i];
      if (!c.caching()) {
        ok = PQsendQueryParams(conn, op.sql.c_str(), p.size(), p.types(), p.values(),
                               p.lengths(), p.formats(), 0);
      } else {
        std::string key = op.sql;
        key.push_back('\0');
        key.append(p.type_key());
        const std::string* name = c.Find(key);
        if (name == nullptr) {
          if (auto it = preparing.find(key); it != preparing.end()) {
            name = &it->second;
          } else {
            std::string fresh = c.NewName();
            if (PQsendPrepare(conn, fresh.c_str(), op.sql.c_str(), p.size(), p.types()) != 1) {
              out.sent = true;
              lost("prepare");
              return out;
            }
            sent[i].prepare_key = key;
            sent[i].name = fresh;
            name = &preparing.emplace(std::move(key), std::move(fresh)).first->second;
          }
        }
        ok = PQsendQueryPrepared(conn, name->c_str(), p.size(), p.values(), p.lengths(),
                                 p.formats(), 0);
      }
    }
    if (ok != 1) {
      out.sent = i > 0;
      lost("send");
      return out;
    }
  }
  if (PQpipelineSync(conn) != 1) {
    out.sent = true;
    lost("sync");
    return out;
  }
  out.sent = true;
  // The results of one command: the first non-null one, then the null that ends it.
  auto next = [&]() -> Result {
    Result first(PQgetResult(conn));
    if (first == nullptr) return first;
    while (PGresult* more = PQgetResult(conn)) PQclear(more);
    return first;
  };
  auto failed = [&](size_t i, const PGresult* r) {
    if (out.status.ok()) {
      out.status = Error(conn, r, ops[i].is_commit ? "commit (outcome unknown)" : "statement");
      out.failed = i;
    }
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!sent[i].prepare_key.empty()) {
      Result prepared = next();
      ExecStatusType status = PQresultStatus(prepared.get());
      if (prepared != nullptr && status == PGRES_COMMAND_OK) {
        c.Remember(sent[i].prepare_key, sent[i].name);
      } else if (status != PGRES_PIPELINE_ABORTED) {
        failed(i, prepared.get());
      }
    }
    Result result = next();
    ExecStatusType status = PQresultStatus(result.get());
    if (result == nullptr || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)) {
      if (status != PGRES_PIPELINE_ABORTED || out.status.ok()) failed(i, result.get());
      if (PQstatus(conn) == CONNECTION_BAD) return out;
      continue;
    }
    out.results[i] = std::move(result);
  }
  // The sync point, then back to normal mode.
  Result sync(PQgetResult(conn));
  if (sync == nullptr) sync.reset(PQgetResult(conn));
  if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(conn) != 1) {
    if (out.status.ok()) {
      out.status = Error(conn, sync.get(), "pipeline");
      out.failed = ops.size() - 1;
    }
  }
  return out;
}

Value ColumnValue(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return Value();
  const char* text = PQgetvalue(result, row, column);
  int length = PQgetlength(result, row, column);
  switch (PQftype(result, column)) {
    case kBoolOid: return Value(int64_t{text[0] == 't' ? 1 : 0});
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kNumericOid: {
      int64_t i = 0;
      if (absl::SimpleAtoi(text, &i)) return Value(i);
      [[fallthrough]];
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      double d = 0;
      if (absl::SimpleAtod(text, &d)) return Value(d);
      return Value(std::string(text, length));
    }
    case kByteaOid: {
      size_t size = 0;
      unsigned char* bytes =
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
      Bytes out{std::string(reinterpret_cast<const char*>(bytes), size)};
      PQfreemem(bytes);
      return Value(std::move(out));
    }
    default: return Value(std::string(text, length));
  }
}

class PgTransaction final : public Transaction {
 public:
  // `begin` goes out with the first statement (or with the COMMIT).
  PgTransaction(PgConnection& conn, const char* begin) : conn_(conn) {
    if (conn.full()) {  // start over; names are never reused, so nothing stale can collide
      pending_.push_back({.kind = Op::kControl, .sql = "DEALLOCATE ALL"});
      conn.Forget();
    }
    pending_.push_back({.kind = Op::kControl, .sql = begin});
    begin_pending_ = true;
  }
  Dialect dialect() const override { return Dialect::kPostgres; }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params) override {
    PC_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    auto columns = std::make_shared<std::vector<std::string>>();
    int num_columns = PQnfields(result.get());
    for (int c = 0; c < num_columns; ++c) columns->push_back(PQfname(result.get(), c));
    std::vector<Row> rows;
    rows.reserve(PQntuples(result.get()));
    for (int r = 0; r < PQntuples(result.get()); ++r) {
      std::vector<Value> values;
      values.reserve(num_columns);
      for (int c = 0; c < num_columns; ++c) values.push_back(ColumnValue(result.get(), r, c));
      rows.emplace_back(columns, std::move(values));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  const std::vector<Value>& params) override {
    PC_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    int64_t changed = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(result.get()), &changed)) changed = 0;
    return changed;
  }

  absl::Status ExecuteDeferred(std::string_view sql, const std::vector<Value>& params) override {
    if (!first_error_.ok()) return PoisonedError(first_error_);
    PC_RETURN_IF_ERROR(Fail(CheckParams(params)));
    Op op{.kind = Op::kStatement, .sql = std::string(sql), .values = params};
    pending_.push_back(std::move(op));
    return absl::OkStatus();
  }

  absl::Status ExecuteScript(std::string_view sql) override {
    if (!first_error_.ok()) return PoisonedError(first_error_);
    PC_RETURN_IF_ERROR(Flush(nullptr));
    return Fail(Command(conn_.get(), std::string(sql).c_str(), "script"));
  }

  // Sends what is pending with COMMIT. Nothing to send if no statement ran: no transaction.
  absl::Status Commit() {
    if (!first_error_.ok()) return first_error_;
    if (begin_pending_ && std::all_of(pending_.begin(), pending_.end(), [](const Op& op) {
          return op.kind == Op::kControl;
        })) {
      return absl::OkStatus();  // no statement: no transaction was started
    }
    Result commit;
    PC_RETURN_IF_ERROR(Flush(&commit, /*commit=*/true));
    if (std::string_view(PQcmdStatus(commit.get())) == "ROLLBACK") {
      return absl::AbortedError("postgres commit: the server rolled the transaction back");
    }
    return absl::OkStatus();
  }

  const absl::Status& first_error() const { return first_error_; }

 private:
  absl::Status Fail(absl::Status status) {
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    return status;
  }

  absl::StatusOr<Result> Run(std::string_view sql, const std::vector<Value>& params) {
    if (!first_error_.ok()) return PoisonedError(first_error_);
    PC_RETURN_IF_ERROR(Fail(CheckParams(params)));
    Op op{.kind = Op::kStatement, .sql = std::string(sql), .params = &params};
    pending_.push_back(std::move(op));
    Result result;
    PC_RETURN_IF_ERROR(Flush(&result));
    return result;
  }

  // Sends the pending ops (then COMMIT if `commit`) in one pipeline; `last` gets the last
  // op's result. The first pipeline of a transaction on a connection that turns out to be
  // broken (the server closed it while pooled) is retried once on a reset connection, unless
  // it carried the COMMIT (its outcome would be unknown).
  absl::Status Flush(Result* last, bool commit = false) {
    if (commit) pending_.push_back({.kind = Op::kControl, .sql = "COMMIT", .is_commit = true});
    if (pending_.empty()) return absl::OkStatus();
    for (Op& op : pending_) {
      if (op.kind == Op::kStatement && op.params == nullptr) op.params = &op.values;
    }
    const bool first = begin_pending_;
    begin_pending_ = false;
    PipelineOutcome outcome = RunPipeline(conn_, pending_);
    if (!outcome.status.ok() && first && PQstatus(conn_.get()) == CONNECTION_BAD &&
        (!commit || !outcome.sent)) {
      spdlog::info("postgres: reconnecting a broken pooled connection");
      conn_.Reset();
      if (PQstatus(conn_.get()) != CONNECTION_OK) {
        pending_.clear();
        return Fail(absl::UnavailableError(
            absl::StrCat("postgres reconnect: ", Trimmed(PQerrorMessage(conn_.get())))));
      }
      outcome = RunPipeline(conn_, pending_);
    }
    pending_.clear();
    if (!outcome.status.ok()) return Fail(outcome.status);
    if (last != nullptr) *last = std::move(outcome.results.back());
    return absl::OkStatus();
  }

  PgConnection& conn_;
  std::vector<Op> pending_;  // not yet sent: BEGIN, deferred statements
  bool begin_pending_ = false;
  absl::Status first_error_;
};

class PgSessionLock final : public SessionLock {
 public:
  explicit PgSessionLock(PGconn* conn) : conn_(conn) {}
  ~PgSessionLock() override { PQfinish(conn_); }  // ending the session releases the lock
  absl::Status Check() override { return Command(conn_, "SELECT 1", "lock check"); }

 private:
  PGconn* conn_;
};

// LISTEN on a connection of its own, on a thread of its own: every notification on the channel
// calls `wake`. A lost connection is reopened (backoff 100 ms doubling to 5 s) and then `wake`
// is called once, because commits in between were not heard. An idle connection is checked
// every 30 s, so a server gone silently is noticed.
class PgListener final : public Listener {
 public:
  // Listening before it returns: a commit after Create() returns is heard, and one before it is
  // for the caller to find (the relay reads the outbox right after).
  static absl::StatusOr<std::unique_ptr<Listener>> Create(std::string url, DatabaseOptions options,
                                                          std::string channel,
                                                          std::function<void()> wake) {
    int stop[2];
    if (::pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
      return absl::InternalError(absl::StrCat("listener pipe: ", std::strerror(errno)));
    }
    absl::StatusOr<PGconn*> conn = OpenListening(url, options, channel);
    if (!conn.ok()) {
      ::close(stop[0]);
      ::close(stop[1]);
      return conn.status();
    }
    return std::unique_ptr<Listener>(new PgListener(std::move(url), std::move(options),
                                                    std::move(channel), std::move(wake), *conn,
                                                    stop));
  }

  ~PgListener() override {
    const char byte = 1;
    (void)!::write(stop_[1], &byte, 1);  // a non-blocking pipe with room: cannot fail here
    thread_.join();
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

 private:
  static constexpr int kIdleCheckMs = 30'000;

  PgListener(std::string url, DatabaseOptions options, std::string channel,
             std::function<void()> wake, PGconn* conn, const int stop[2])
      : url_(std::move(url)), options_(std::move(options)), channel_(std::move(channel)),
        wake_(std::move(wake)), stop_{stop[0], stop[1]} {
    thread_ = std::thread([this, conn] { Run(conn); });
  }

  static absl::StatusOr<PGconn*> OpenListening(const std::string& url,
                                               const DatabaseOptions& options,
                                               const std::string& channel) {
    PC_ASSIGN_OR_RETURN(PGconn * conn, Connect(url, options));
    char* ident = PQescapeIdentifier(conn, channel.data(), channel.size());
    absl::Status listening = ident == nullptr
        ? absl::InternalError("escaping the channel name failed")
        : Command(conn, absl::StrCat("LISTEN ", ident).c_str(), "listen");
    if (ident != nullptr) PQfreemem(ident);
    if (!listening.ok()) {
      PQfinish(conn);
      return listening;
    }
    return conn;
  }

  void Run(PGconn* conn) {
    while (true) {
      const bool stop = Listening(conn);
      PQfinish(conn);
      if (stop) return;
      // Reconnect; commits while nobody listened are found by the wake-up that follows.
      absl::Duration backoff = absl::Milliseconds(100);
      while (true) {
        if (StopRequested(absl::ToInt64Milliseconds(backoff))) return;
        absl::StatusOr<PGconn*> reopened = OpenListening(url_, options_, channel_);
        if (reopened.ok()) {
          conn = *reopened;
          break;
        }
        spdlog::warn("postgres listener {}: {}", channel_, reopened.status().ToString());
        backoff = std::min(backoff * 2, absl::Seconds(5));
      }
      wake_();
    }
  }

  // Waits for notifications until the connection fails (false) or the listener stops (true).
  bool Listening(PGconn* conn) {
    while (true) {
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {stop_[0], POLLIN, 0}};
      const int ready = ::poll(fds, 2, kIdleCheckMs);
      if (ready < 0 && errno == EINTR) continue;
      if (fds[1].revents & POLLIN) return true;
      absl::Status alive = ready == 0 ? Command(conn, "SELECT 1", "listener check")
                           : PQconsumeInput(conn) == 1
                               ? absl::OkStatus()
                               : absl::UnavailableError(Trimmed(PQerrorMessage(conn)));
      bool heard = false;
      while (PGnotify* note = PQnotifies(conn)) {
        heard = true;
        PQfreemem(note);
      }
      if (heard) wake_();
      if (!alive.ok()) {
        spdlog::warn("postgres listener {}: connection lost ({}); reconnecting", channel_,
                     alive.ToString());
        return false;
      }
    }
  }

  // Waits up to `wait_ms`; true if the listener is being destroyed.
  bool StopRequested(int64_t wait_ms) {
    pollfd fd{stop_[0], POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(wait_ms)) > 0;
  }

  const std::string url_;
  const DatabaseOptions options_;
  const std::string channel_;
  const std::function<void()> wake_;
  const int stop_[2];  // a byte on stop_[1] ends the thread
  std::thread thread_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, const DatabaseOptions& options, PGconn* first)
      : url_(std::move(url)), options_(options), open_(1),
        idle_{new PgConnection(first, options.statement_cache_size)} {}

  ~PostgresDatabase() override {
    absl::MutexLock lock(&mu_);
    for (PgConnection* conn : idle_) delete conn;
    if (spare_lock_conn_ != nullptr) PQfinish(spare_lock_conn_);
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  absl::StatusOr<std::unique_ptr<SessionLock>> TryLock(std::string_view name) override {
    // A standby retries every poll interval: keep its connection instead of reconnecting.
    PGconn* conn = nullptr;
    {
      absl::MutexLock lock(&mu_);
      std::swap(conn, spare_lock_conn_);
    }
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      if (conn != nullptr) PQfinish(conn);
      PC_ASSIGN_OR_RETURN(conn, Connect(url_, options_));
    }
    std::string key = absl::StrCat(LockKey(name));
    const char* values[] = {key.c_str()};
    const Oid types[] = {kInt8Oid};
    Result result(PQexecParams(conn, "SELECT pg_try_advisory_lock($1)", 1, types, values,
                               nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      absl::Status status = Error(conn, result.get(), "lock");
      PQfinish(conn);
      return status;
    }
    if (PQgetvalue(result.get(), 0, 0)[0] == 't') {
      if (options_.lock_lease > absl::ZeroDuration()) {
        // The lease: the server ends this session (and so releases the lock) when the holder
        // stops checking it, even if the holder's TCP connection stays up (a frozen process).
        const std::string set = absl::StrCat("SET idle_session_timeout = ",
                                             absl::ToInt64Milliseconds(options_.lock_lease));
        if (absl::Status status = Command(conn, set.c_str(), "lock lease"); !status.ok()) {
          PQfinish(conn);
          return status;
        }
      }
      return std::make_unique<PgSessionLock>(conn);
    }
    absl::MutexLock lock(&mu_);
    if (spare_lock_conn_ == nullptr) {
      spare_lock_conn_ = conn;
    } else {
      PQfinish(conn);
    }
    return nullptr;
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen(std::string_view channel,
                                                   std::function<void()> wake) override {
    return PgListener::Create(url_, options_, std::string(channel), std::move(wake));
  }

 protected:
  absl::Status RunTransaction(const TransactionFn& fn) override {
    return Run("BEGIN ISOLATION LEVEL READ COMMITTED", fn);
  }

  absl::Status RunReadTransaction(const TransactionFn& fn) override {
    return Run("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY", fn);
  }

 private:
  absl::Status Run(const char* begin, const TransactionFn& fn) {
    PC_ASSIGN_OR_RETURN(PgConnection * conn, Acquire());
    struct ReleaseOnExit {
      PostgresDatabase* db;
      PgConnection* conn;
      ~ReleaseOnExit() { db->Release(conn); }
    } release{this, conn};
    struct RollbackUnlessCommitted {
      PGconn* conn;
      ~RollbackUnlessCommitted() {
        if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
          PQclear(PQexec(conn, "ROLLBACK"));
        }
      }
    } rollback{conn->get()};
    PgTransaction tx(*conn, begin);
    absl::Status status = fn(tx);
    if (status.ok()) status = tx.first_error();
    if (!status.ok()) return status;
    return tx.Commit();
  }

  // A pooled connection; one the server closed while it was idle is reset first (its socket
  // reads as closed: the check costs one non-blocking read).
  absl::StatusOr<PgConnection*> Acquire() {
    PgConnection* conn = nullptr;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.pool_size;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&ready), options_.acquire_timeout)) {
        return absl::UnavailableError(absl::StrCat(
            "postgres: no free connection within ", absl::FormatDuration(options_.acquire_timeout),
            " (pool_size ", options_.pool_size, ")"));
      }
      if (!idle_.empty()) {
        conn = idle_.back();
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (conn != nullptr) {
      if (PQstatus(conn->get()) == CONNECTION_OK) (void)PQconsumeInput(conn->get());
      if (PQstatus(conn->get()) != CONNECTION_OK) {
        spdlog::info("postgres: reconnecting a broken pooled connection");
        conn->Reset();
      }
      return conn;
    }
    absl::StatusOr<PGconn*> raw = Connect(url_, options_);
    if (!raw.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return raw.status();
    }
    return new PgConnection(*raw, options_.statement_cache_size);
  }

  void Release(PgConnection* conn) {
    if (PQstatus(conn->get()) != CONNECTION_OK ||
        PQtransactionStatus(conn->get()) != PQTRANS_IDLE ||
        PQpipelineStatus(conn->get()) != PQ_PIPELINE_OFF) {
      delete conn;
      conn = nullptr;
    }
    absl::MutexLock lock(&mu_);
    if (conn != nullptr) {
      idle_.push_back(conn);
    } else {
      --open_;
    }
  }

  const std::string url_;
  const DatabaseOptions options_;
  absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_);
  std::vector<PgConnection*> idle_ ABSL_GUARDED_BY(mu_);  // owned
  PGconn* spare_lock_conn_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url,
                                                       const DatabaseOptions& options) {
  if (options.pool_size < 1) return absl::InvalidArgumentError("pool_size must be at least 1");
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    absl::Status status = absl::InvalidArgumentError(
        absl::StrCat("bad PostgreSQL URL: ", Trimmed(parse_error)));
    PQfreemem(parse_error);
    return status;
  }
  PQconninfoFree(parsed);
  PC_ASSIGN_OR_RETURN(PGconn * conn, Connect(url, options));
  return std::make_unique<PostgresDatabase>(url, options, conn);
}

}  // namespace pc::storage::internal
