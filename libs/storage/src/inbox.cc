#include "pc/storage/inbox.h"

#include "absl/time/clock.h"
#include "pc/common/errors.h"
#include "pc/common/status_macros.h"

namespace pc::storage {

absl::StatusOr<bool> Inbox::TryInsert(Transaction& tx, std::string_view consumer_group,
                                      std::string_view event_id) {
  if (consumer_group.empty()) return pc::InvalidFieldError("consumer_group", "is empty");
  if (event_id.empty()) return pc::InvalidFieldError("event_id", "is empty");
  PC_ASSIGN_OR_RETURN(
      int64_t inserted,
      tx.Execute("INSERT INTO inbox (consumer_group, event_id, processed_at) VALUES ($1, $2, $3) "
                 "ON CONFLICT DO NOTHING",
                 {consumer_group, event_id, absl::ToUnixMicros(absl::Now())}));
  return inserted == 1;
}

absl::StatusOr<int64_t> Inbox::DeleteProcessedBefore(Database& db, absl::Time cutoff) {
  int64_t deleted = 0;
  PC_RETURN_IF_ERROR(db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(deleted, tx.Execute("DELETE FROM inbox WHERE processed_at < $1",
                                            {absl::ToUnixMicros(cutoff)}));
    return absl::OkStatus();
  }));
  return deleted;
}

}  // namespace pc::storage
