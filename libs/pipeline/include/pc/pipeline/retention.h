// Tables that only grow, pruned by age (design.md §9): each service lists its rules, a sweeper
// applies them every interval and counts pc_retention_deleted_rows_total{table}.
//
//   pc::pipeline::RetentionFlags flags = pc::pipeline::RetentionFlagsFromFlags();
//   pc::pipeline::RetentionSweeper sweeper(
//       {pc::pipeline::OutboxRule(db, flags.outbox),
//        {.table = "invitation_requests", .keep = flags.idempotency_window,
//         .prune = pc::pipeline::DeleteOlderThan(db, "invitation_requests", "created_at")}},
//       registry, clock, flags.interval);
//   sweeper.Start();   ...   sweeper.Stop();
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pc/common/clock.h"
#include "pc/runtime/metrics.h"
#include "pc/storage/database.h"

namespace pc::pipeline {

struct RetentionRule {
  std::string table;     // the metric label
  absl::Duration keep;   // rows older than now − keep go
  // Deletes the rows older than `cutoff`; returns how many.
  std::function<absl::StatusOr<int64_t>(absl::Time cutoff)> prune;
};

// "DELETE FROM <table> WHERE <column> < cutoff" (column in Unix microseconds). `table` and
// `column` are code constants, never input.
std::function<absl::StatusOr<int64_t>(absl::Time)> DeleteOlderThan(pc::storage::Database& db,
                                                                   std::string table,
                                                                   std::string column);
// Sent outbox rows (unsent rows are never deleted, whatever their age).
RetentionRule OutboxRule(pc::storage::Database& db, absl::Duration keep);
// Inbox rows: after `keep`, a redelivered event is no longer recognised by its id (the
// consumers' aggregate_version checks still keep it from a second effect).
RetentionRule InboxRule(pc::storage::Database& db, absl::Duration keep);

// The shared retention flags: --outbox_retention, --inbox_retention, --idempotency_window,
// --retention_interval (defined only in binaries that call this).
struct RetentionFlags {
  absl::Duration outbox;
  absl::Duration inbox;
  absl::Duration idempotency_window;
  absl::Duration interval;
};
RetentionFlags RetentionFlagsFromFlags();

class RetentionSweeper {
 public:
  // `clock` must outlive the sweeper.
  RetentionSweeper(std::vector<RetentionRule> rules, pc::runtime::Registry& registry,
                   const pc::Clock& clock, absl::Duration interval);
  ~RetentionSweeper();

  // Sweeps now, then every interval, on its own thread.
  void Start();
  void Stop();
  // One pass over every rule (the first error is returned; the other rules still run).
  absl::Status SweepOnce();

 private:
  const std::vector<RetentionRule> rules_;
  pc::runtime::Family<pc::runtime::Counter>& deleted_;
  const pc::Clock& clock_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pc::pipeline
