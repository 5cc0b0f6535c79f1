// Rows that hold a serialized protobuf message in one column (the services' `data` columns).
//
//   PC_ASSIGN_OR_RETURN(std::vector<v1::Relationship> rows,
//                       pc::storage::ParseMessages<v1::Relationship>(tx.Query(sql, params)));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "pc/storage/value.h"

namespace pc::storage {

// Parses column `column` of every row as an `M`; DATA_LOSS naming the column on a corrupt one.
template <typename M>
absl::StatusOr<std::vector<M>> ParseMessages(absl::StatusOr<std::vector<Row>> rows,
                                             const std::string& column = "data") {
  if (!rows.ok()) return rows.status();
  std::vector<M> out;
  out.reserve(rows->size());
  for (const Row& row : *rows) {
    absl::StatusOr<std::string> bytes = row.GetBytes(column);
    if (!bytes.ok()) return bytes.status();
    M m;
    if (!m.ParseFromString(*bytes)) {
      return absl::DataLossError(absl::StrCat("corrupt ", M::descriptor()->name(), " in ", column));
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The first row's message, or nullopt if there is no row.
template <typename M>
absl::StatusOr<std::optional<M>> ParseFirstMessage(absl::StatusOr<std::vector<Row>> rows,
                                                   const std::string& column = "data") {
  absl::StatusOr<std::vector<M>> all = ParseMessages<M>(std::move(rows), column);
  if (!all.ok()) return all.status();
  if (all->empty()) return std::nullopt;
  return std::move(all->front());
}

}  // namespace pc::storage
