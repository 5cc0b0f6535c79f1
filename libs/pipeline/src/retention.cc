#include "pc/pipeline/retention.h"

#include "absl/strings/str_cat.h"
#include "pc/common/status_macros.h"
#include "pc/storage/inbox.h"
#include "pc/storage/outbox.h"
#include "spdlog/spdlog.h"

namespace pc::pipeline {

std::function<absl::StatusOr<int64_t>(absl::Time)> DeleteOlderThan(pc::storage::Database& db,
                                                                   std::string table,
                                                                   std::string column) {
  return [&db, sql = absl::StrCat("DELETE FROM ", table, " WHERE ", column, " < $1")](
             absl::Time cutoff) -> absl::StatusOr<int64_t> {
    int64_t deleted = 0;
    PC_RETURN_IF_ERROR(db.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(deleted, tx.Execute(sql, {absl::ToUnixMicros(cutoff)}));
      return absl::OkStatus();
    }));
    return deleted;
  };
}

RetentionRule OutboxRule(pc::storage::Database& db, absl::Duration keep) {
  return {.table = "outbox", .keep = keep, .prune = [&db](absl::Time cutoff) {
            return pc::storage::Outbox::DeleteSentBefore(db, cutoff);
          }};
}

RetentionRule InboxRule(pc::storage::Database& db, absl::Duration keep) {
  return {.table = "inbox", .keep = keep, .prune = [&db](absl::Time cutoff) {
            return pc::storage::Inbox::DeleteProcessedBefore(db, cutoff);
          }};
}

RetentionSweeper::RetentionSweeper(std::vector<RetentionRule> rules,
                                   pc::runtime::Registry& registry, const pc::Clock& clock,
                                   absl::Duration interval)
    : rules_(std::move(rules)),
      deleted_(registry.AddCounter("pc_retention_deleted_rows_total",
                                   "Rows deleted by the retention rules, by table.", {"table"})),
      clock_(clock),
      interval_(interval) {
  for (const RetentionRule& rule : rules_) deleted_.WithLabels({rule.table});
}

RetentionSweeper::~RetentionSweeper() { Stop(); }

absl::Status RetentionSweeper::SweepOnce() {
  absl::Status first_error;
  for (const RetentionRule& rule : rules_) {
    absl::StatusOr<int64_t> n = rule.prune(clock_.Now() - rule.keep);
    if (!n.ok()) {
      spdlog::warn("retention: pruning {} failed: {}", rule.table, n.status().ToString());
      if (first_error.ok()) first_error = n.status();
      continue;
    }
    if (*n > 0) {
      deleted_.WithLabels({rule.table}).Increment(static_cast<double>(*n));
      spdlog::info("retention: deleted {} row(s) of {} older than {}", *n, rule.table,
                   absl::FormatDuration(rule.keep));
    }
  }
  return first_error;
}

void RetentionSweeper::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    while (true) {
      (void)SweepOnce();  // logged
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
    }
  });
}

void RetentionSweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace pc::pipeline
