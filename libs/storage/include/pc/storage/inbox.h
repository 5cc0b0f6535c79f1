// The inbox: exactly-once effects for at-least-once delivery. A consumer applies each event in
// one transaction together with an inbox row (consumer group, event id); a redelivered event
// finds its row and has no second effect. Tables come from MigrateOutboxAndInbox().
//
//   PC_RETURN_IF_ERROR(db.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
//     PC_ASSIGN_OR_RETURN(bool first_time, pc::storage::Inbox::TryInsert(tx, "notification", id));
//     if (!first_time) return absl::OkStatus();   // duplicate delivery
//     return Apply(tx, event);
//   }));
//   // only now store the Kafka offset
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/storage/database.h"

namespace pc::storage {

class Inbox {
 public:
  // Records (group, event_id) in `tx`: true the first time, false if it was already there.
  static absl::StatusOr<bool> TryInsert(Transaction& tx, std::string_view consumer_group,
                                        std::string_view event_id);
  // Deletes rows processed before `cutoff` (it bounds how late a duplicate is still caught);
  // returns how many were deleted.
  static absl::StatusOr<int64_t> DeleteProcessedBefore(Database& db, absl::Time cutoff);
};

}  // namespace pc::storage
