// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 has none).
//
//   absl::StatusOr<Invitation> Load(Tx& tx, std::string_view id) {
//     PC_RETURN_IF_ERROR(CheckId(id));
//     PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT ...", {id}));
//     return Parse(row);
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PC_STATUS_CONCAT_INNER_(a, b) a##b
#define PC_STATUS_CONCAT_(a, b) PC_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define PC_RETURN_IF_ERROR(expr)                          \
  do {                                                    \
    if (absl::Status pc_status_ = (expr); !pc_status_.ok()) \
      return pc_status_;                                  \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK, else moves the
// value into `lhs` (which may be a declaration: `PC_ASSIGN_OR_RETURN(auto x, F());`).
#define PC_ASSIGN_OR_RETURN(lhs, rexpr) \
  PC_ASSIGN_OR_RETURN_IMPL_(PC_STATUS_CONCAT_(pc_statusor_, __LINE__), lhs, rexpr)

#define PC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
