#include "pc/storage/database.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal.h"
#include "pc/storage/value.h"

namespace pc::storage {

std::string_view DialectName(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "sqlite" : "postgres";
}

std::string_view KindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull: return "null";
    case ValueKind::kInt64: return "int64";
    case ValueKind::kDouble: return "double";
    case ValueKind::kText: return "text";
    case ValueKind::kBytes: return "bytes";
  }
  return "unknown";
}

namespace {

absl::Status KindError(ValueKind actual, std::string_view wanted) {
  return absl::InternalError(
      absl::StrCat("value is ", std::string(KindName(actual)), ", not ", std::string(wanted)));
}

}  // namespace

absl::StatusOr<int64_t> Value::AsInt64() const {
  if (const auto* v = std::get_if<int64_t>(&value_)) return *v;
  return KindError(kind(), "int64");
}

absl::StatusOr<double> Value::AsDouble() const {
  if (const auto* v = std::get_if<double>(&value_)) return *v;
  if (const auto* v = std::get_if<int64_t>(&value_)) return static_cast<double>(*v);
  return KindError(kind(), "double");
}

absl::StatusOr<std::string> Value::AsText() const {
  if (const auto* v = std::get_if<std::string>(&value_)) return *v;
  if (const auto* v = std::get_if<Bytes>(&value_)) return v->data;
  return KindError(kind(), "text");
}

absl::StatusOr<std::string> Value::AsBytes() const {
  if (const auto* v = std::get_if<Bytes>(&value_)) return v->data;
  if (const auto* v = std::get_if<std::string>(&value_)) return *v;
  return KindError(kind(), "bytes");
}

std::string_view Value::view() const {
  if (const auto* v = std::get_if<std::string>(&value_)) return *v;
  if (const auto* v = std::get_if<Bytes>(&value_)) return v->data;
  return {};
}

std::string Row::Describe(const Column& column) const {
  if (column.index_ >= 0) return absl::StrCat("column ", column.index_);
  return absl::StrCat("column '", std::string(column.name_), "'");
}

absl::StatusOr<const Value*> Row::Find(const Column& column) const {
  if (column.index_ >= 0) {
    if (static_cast<size_t>(column.index_) < values_.size()) return &values_[column.index_];
  } else {
    const auto& names = *columns_;
    auto it = std::find(names.begin(), names.end(), column.name_);
    if (it != names.end()) return &values_[it - names.begin()];
  }
  return absl::InternalError(absl::StrCat("result has no ", Describe(column)));
}

namespace {

// `as(value)`, with the column named in the error; `describe` runs only on the error path.
template <typename T, typename F, typename D>
absl::StatusOr<T> Typed(absl::StatusOr<const Value*> value, F as, D describe) {
  if (!value.ok()) return value.status();
  absl::StatusOr<T> result = as(**value);
  if (!result.ok()) {
    return absl::InternalError(absl::StrCat(describe(), ": ", result.status().message()));
  }
  return result;
}

}  // namespace

absl::StatusOr<Value> Row::Get(Column column) const {
  absl::StatusOr<const Value*> value = Find(column);
  if (!value.ok()) return value.status();
  return **value;
}

absl::StatusOr<bool> Row::IsNull(Column column) const {
  absl::StatusOr<const Value*> value = Find(column);
  if (!value.ok()) return value.status();
  return (*value)->is_null();
}

absl::StatusOr<int64_t> Row::GetInt64(Column column) const {
  return Typed<int64_t>(Find(column), [](const Value& v) { return v.AsInt64(); },
                        [&] { return Describe(column); });
}

absl::StatusOr<double> Row::GetDouble(Column column) const {
  return Typed<double>(Find(column), [](const Value& v) { return v.AsDouble(); },
                       [&] { return Describe(column); });
}

absl::StatusOr<std::string> Row::GetText(Column column) const {
  return Typed<std::string>(Find(column), [](const Value& v) { return v.AsText(); },
                            [&] { return Describe(column); });
}

absl::StatusOr<std::string> Row::GetBytes(Column column) const {
  return Typed<std::string>(Find(column), [](const Value& v) { return v.AsBytes(); },
                            [&] { return Describe(column); });
}

absl::StatusOr<std::optional<std::string>> Row::GetOptionalText(Column column) const {
  return Typed<std::optional<std::string>>(
      Find(column),
      [](const Value& v) -> absl::StatusOr<std::optional<std::string>> {
        if (v.is_null()) return std::nullopt;
        return v.AsText();
      },
      [&] { return Describe(column); });
}

absl::StatusOr<std::optional<int64_t>> Row::GetOptionalInt64(Column column) const {
  return Typed<std::optional<int64_t>>(
      Find(column),
      [](const Value& v) -> absl::StatusOr<std::optional<int64_t>> {
        if (v.is_null()) return std::nullopt;
        return v.AsInt64();
      },
      [&] { return Describe(column); });
}

absl::StatusOr<Row> Transaction::QueryOne(std::string_view sql, const std::vector<Value>& params) {
  absl::StatusOr<std::vector<Row>> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError("no row");
  if (rows->size() > 1) {
    return absl::InternalError(absl::StrCat("expected one row, got ", rows->size()));
  }
  return std::move(rows->front());
}

namespace {

// The databases whose InTransaction callback is running on this thread.
thread_local std::vector<const Database*> t_open_transactions;

}  // namespace

absl::Status Database::InTransaction(const TransactionFn& fn) { return Guarded(fn, false); }

absl::Status Database::InReadTransaction(const TransactionFn& fn) { return Guarded(fn, true); }

absl::Status Database::Guarded(const TransactionFn& fn, bool read_only) {
  auto& open = t_open_transactions;
  if (std::find(open.begin(), open.end(), this) != open.end()) {
    return absl::FailedPreconditionError(
        "InTransaction called inside a transaction of the same database");
  }
  open.push_back(this);
  struct Pop {
    ~Pop() { t_open_transactions.pop_back(); }
  } pop;
  return read_only ? RunReadTransaction(fn) : RunTransaction(fn);
}

absl::Status NotifyOnCommit(Transaction& tx, std::string_view channel) {
  if (tx.dialect() != Dialect::kPostgres) return absl::OkStatus();
  return tx.ExecuteDeferred("SELECT pg_notify($1, '')", {std::string(channel)});
}

absl::StatusOr<std::unique_ptr<Database>> Open(std::string_view url_view,
                                               const DatabaseOptions& options) {
  std::string url(url_view);
  if (url.empty()) return absl::InvalidArgumentError("database URL is empty");
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return internal::OpenPostgres(url, options);
  }
  std::string path = url;
  if (absl::StartsWith(url, "sqlite://")) {
    path = url.substr(std::string("sqlite://").size());
  } else if (absl::StartsWith(url, "sqlite:")) {
    path = url.substr(std::string("sqlite:").size());
  } else if (url.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(
        "database URL must start with sqlite:// or postgresql:// (or be a file path)");
  }
  if (path.empty()) return absl::InvalidArgumentError("SQLite database path is empty");
  return internal::OpenSqlite(path, options);
}

namespace internal {

absl::Status CheckParams(const std::vector<Value>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].kind() != ValueKind::kText) continue;
    if (params[i].view().find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter $", i + 1, ": text must not contain NUL bytes (bind it as Bytes)"));
    }
  }
  return absl::OkStatus();
}

int64_t LockKey(std::string_view name) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

absl::Status PoisonedError(const absl::Status& first) {
  return absl::FailedPreconditionError(absl::StrCat(
      "an earlier statement of this transaction failed (", first.ToString(), ")"));
}

}  // namespace internal
}  // namespace pc::storage
