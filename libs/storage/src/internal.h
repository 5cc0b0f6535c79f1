// Shared by the SQLite and PostgreSQL implementations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pc/storage/database.h"
#include "pc/storage/value.h"

namespace pc::storage::internal {

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path,
                                                     const DatabaseOptions& options);
absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url,
                                                       const DatabaseOptions& options);

// INVALID_ARGUMENT if a text parameter contains a NUL byte (neither store keeps it in text).
absl::Status CheckParams(const std::vector<Value>& params);

// A stable 64-bit key for `name` (FNV-1a), for PostgreSQL advisory locks.
int64_t LockKey(std::string_view name);

// The status to return when a statement runs on a transaction that already failed.
absl::Status PoisonedError(const absl::Status& first);

}  // namespace pc::storage::internal
