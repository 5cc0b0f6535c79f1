// The invitation Repository on pc::storage (SQLite or PostgreSQL, same SQL). An invitation is
// stored as its protobuf bytes plus the columns queries need; the token only as its SHA-256.
// Events go to the outbox table in the same transaction.
//
//   PC_ASSIGN_OR_RETURN(auto db, pc::storage::Open(url));
//   PC_RETURN_IF_ERROR(SqlRepository::Migrate(*db));
//   SqlRepository repository(*db);
#pragma once

#include "pc/storage/database.h"
#include "repository.h"

namespace pc::invitation {

class SqlRepository final : public Repository {
 public:
  explicit SqlRepository(pc::storage::Database& db) : db_(db) {}
  // The outbox/inbox tables and this service's own, idempotently.
  static absl::Status Migrate(pc::storage::Database& db);
  absl::Status InTransaction(const std::function<absl::Status(RepositoryTx&)>& fn) override;

 private:
  pc::storage::Database& db_;
};

}  // namespace pc::invitation
