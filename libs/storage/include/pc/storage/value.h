// Values that go into SQL statements as `$1, $2, …` parameters and come back in result rows,
// the same in SQLite and PostgreSQL.
//
//   tx.Execute("INSERT INTO tokens(id, hash, uses, note) VALUES ($1, $2, $3, $4)",
//              {id, pc::storage::Bytes{hash}, 0, std::optional<std::string>()});
//   PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT id, uses FROM tokens"));
//   PC_ASSIGN_OR_RETURN(int64_t uses, rows[0].GetInt64("uses"));   // or GetInt64(1)
//
// Kinds: NULL, 64-bit integer (also bool → 0/1), double, text (UTF-8, no NUL bytes) and
// bytes (binary-safe: SQLite BLOB, PostgreSQL BYTEA). Getters return INTERNAL when the column
// is missing, NULL or of another kind: that is a schema/code mismatch, not a caller error.
// Error messages name columns and kinds, never values.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace pc::storage {

// Binary data (BLOB / BYTEA). Wrap a std::string to bind it as bytes instead of text.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

enum class ValueKind { kNull, kInt64, kDouble, kText, kBytes };

// "null", "int64", "double", "text" or "bytes".
std::string_view KindName(ValueKind kind);

// One SQL value. Implicit from integers, bool, double, strings, Bytes, nullptr and
// std::optional<T> (nullopt → NULL), so parameter lists read like `{id, version, state}`.
class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}
  template <std::integral T>
  Value(T v) : value_(static_cast<int64_t>(v)) {}
  Value(double v) : value_(v) {}
  Value(std::string v) : value_(std::move(v)) {}
  Value(std::string_view v) : value_(std::string(v)) {}
  Value(const char* v) : value_(std::string(v)) {}
  Value(Bytes v) : value_(std::move(v)) {}
  template <typename T>
  Value(std::optional<T> v) {
    if (v.has_value()) *this = Value(std::move(*v));
  }

  ValueKind kind() const { return static_cast<ValueKind>(value_.index()); }
  bool is_null() const { return kind() == ValueKind::kNull; }
  // Typed access; INTERNAL naming the actual kind when it is not the one asked for.
  // AsDouble also accepts an integer; AsText and AsBytes accept either text or bytes.
  absl::StatusOr<int64_t> AsInt64() const;
  absl::StatusOr<double> AsDouble() const;
  absl::StatusOr<std::string> AsText() const;
  absl::StatusOr<std::string> AsBytes() const;
  // The contents of a text or bytes value without a copy; empty for the other kinds. Valid
  // while the Value lives and is not modified.
  std::string_view view() const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  std::variant<std::monostate, int64_t, double, std::string, Bytes> value_;
};

// A column of a Row, by zero-based index or by name: `row.GetText(0)`, `row.GetText("id")`.
class Column {
 public:
  Column(int index) : index_(index) {}
  Column(std::string_view name) : name_(name) {}
  Column(const std::string& name) : name_(name) {}
  Column(const char* name) : name_(name) {}

 private:
  friend class Row;
  int index_ = -1;
  std::string_view name_;
};

// One result row. Column names are shared by all rows of a result.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
      : columns_(std::move(columns)), values_(std::move(values)) {}

  const std::vector<std::string>& columns() const { return *columns_; }
  const std::vector<Value>& values() const { return values_; }
  std::size_t size() const { return values_.size(); }

  // The value of `column`; INTERNAL if there is no such column.
  absl::StatusOr<Value> Get(Column column) const;
  absl::StatusOr<bool> IsNull(Column column) const;
  absl::StatusOr<int64_t> GetInt64(Column column) const;
  absl::StatusOr<double> GetDouble(Column column) const;
  absl::StatusOr<std::string> GetText(Column column) const;
  absl::StatusOr<std::string> GetBytes(Column column) const;
  // Like GetText / GetInt64, but NULL gives std::nullopt.
  absl::StatusOr<std::optional<std::string>> GetOptionalText(Column column) const;
  absl::StatusOr<std::optional<int64_t>> GetOptionalInt64(Column column) const;

 private:
  absl::StatusOr<const Value*> Find(const Column& column) const;
  std::string Describe(const Column& column) const;

  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

}  // namespace pc::storage
