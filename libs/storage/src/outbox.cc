#include "pc/storage/outbox.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "pc/common/errors.h"
#include "pc/common/failpoint.h"
#include "pc/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace pc::storage {
namespace {

absl::StatusOr<std::string> HeadersToJson(const pc::kafka::Headers& headers) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& [name, value] : headers) json.push_back(nlohmann::json::array({name, value}));
  try {
    return json.dump();
  } catch (const nlohmann::json::exception&) {
    return pc::InvalidFieldError("headers", "names and values must be valid UTF-8");
  }
}

pc::kafka::Headers HeadersFromJson(int64_t id, const std::string& text) {
  pc::kafka::Headers headers;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) {
    spdlog::error("outbox row {}: unreadable headers, publishing without them", id);
    return headers;
  }
  for (const auto& pair : json) {
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
      headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  return headers;
}

bool HasHeader(const pc::kafka::Headers& headers, const std::string& name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return header.first == name; });
}

pc::kafka::OutboundMessage ToMessage(const OutboxRecord& record) {
  pc::kafka::OutboundMessage message{.topic = record.topic, .key = record.key,
                                     .payload = record.payload, .headers = record.headers};
  if (!HasHeader(message.headers, pc::kafka::kHeaderEventId)) {
    message.headers.emplace_back(pc::kafka::kHeaderEventId, record.event_id);
  }
  if (!HasHeader(message.headers, pc::kafka::kHeaderEventType)) {
    message.headers.emplace_back(pc::kafka::kHeaderEventType, record.event_type);
  }
  return message;
}

absl::StatusOr<OutboxEntry> EntryFromRow(const Row& row) {
  OutboxEntry entry;
  OutboxRecord& r = entry.record;
  PC_ASSIGN_OR_RETURN(entry.id, row.GetInt64("id"));
  PC_ASSIGN_OR_RETURN(r.topic, row.GetText("topic"));
  PC_ASSIGN_OR_RETURN(r.key, row.GetText("key"));
  PC_ASSIGN_OR_RETURN(r.event_id, row.GetText("event_id"));
  PC_ASSIGN_OR_RETURN(r.event_type, row.GetText("event_type"));
  PC_ASSIGN_OR_RETURN(r.payload, row.GetBytes("payload"));
  PC_ASSIGN_OR_RETURN(std::string headers, row.GetText("headers"));
  r.headers = HeadersFromJson(entry.id, headers);
  PC_ASSIGN_OR_RETURN(r.aggregate_key, row.GetText("aggregate_key"));
  return entry;
}

}  // namespace

absl::Status Outbox::Append(Transaction& tx, const OutboxRecord& record) {
  if (record.topic.empty()) return pc::InvalidFieldError("topic", "is empty");
  if (record.event_id.empty()) return pc::InvalidFieldError("event_id", "is empty");
  if (record.event_type.empty()) return pc::InvalidFieldError("event_type", "is empty");
  PC_ASSIGN_OR_RETURN(std::string headers, HeadersToJson(record.headers));
  PC_RETURN_IF_ERROR(NotifyOnCommit(tx, kOutboxChannel));
  // Deferred (PostgreSQL: sent with the next statement or the COMMIT, one round trip).
  return tx.ExecuteDeferred(
      "INSERT INTO outbox (topic, key, event_id, event_type, payload, headers, aggregate_key, "
      "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {record.topic, record.key, record.event_id, record.event_type, Bytes{record.payload},
       headers, record.aggregate_key.empty() ? record.key : record.aggregate_key,
       absl::ToUnixMicros(absl::Now())});
}

absl::StatusOr<int64_t> Outbox::Backlog(Database& db) {
  int64_t backlog = 0;
  PC_RETURN_IF_ERROR(db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"));
    PC_ASSIGN_OR_RETURN(backlog, row.GetInt64(0));
    return absl::OkStatus();
  }));
  return backlog;
}

absl::StatusOr<std::optional<absl::Time>> Outbox::OldestUnsent(Database& db) {
  std::optional<absl::Time> oldest;
  PC_RETURN_IF_ERROR(db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row,
                        tx.QueryOne("SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL"));
    PC_ASSIGN_OR_RETURN(bool none, row.IsNull(0));
    if (none) return absl::OkStatus();
    PC_ASSIGN_OR_RETURN(int64_t micros, row.GetInt64(0));
    oldest = absl::FromUnixMicros(micros);
    return absl::OkStatus();
  }));
  return oldest;
}

absl::StatusOr<int64_t> Outbox::DeleteSentBefore(Database& db, absl::Time cutoff) {
  int64_t deleted = 0;
  PC_RETURN_IF_ERROR(db.InTransaction([&](Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(deleted,
                        tx.Execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1",
                                   {absl::ToUnixMicros(cutoff)}));
    return absl::OkStatus();
  }));
  return deleted;
}

// Delivery reports of one batch; shared with the publisher's callbacks, which may outlive
// the wait for them.
struct OutboxRelay::Batch {
  absl::Mutex mu;
  std::vector<std::optional<absl::Status>> reports ABSL_GUARDED_BY(mu);
  size_t remaining ABSL_GUARDED_BY(mu) = 0;
  bool abandoned ABSL_GUARDED_BY(mu) = false;
};

OutboxRelay::OutboxRelay(Database& db, pc::kafka::Publisher& publisher, OutboxRelayOptions options)
    : db_(db), publisher_(publisher), options_(std::move(options)) {}

OutboxRelay::~OutboxRelay() {
  absl::Status status = Stop(absl::Seconds(10));
  if (!status.ok()) spdlog::warn("outbox relay: {}", status.ToString());
}

void OutboxRelay::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread(&OutboxRelay::Run, this);
}

void OutboxRelay::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

absl::Status OutboxRelay::Stop(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return absl::OkStatus();
    stopping_ = true;
  }
  absl::Status status;
  if (!exited_.WaitForNotificationWithTimeout(timeout)) {
    absl::MutexLock lock(&mu_);
    if (in_flight_ != nullptr) {
      absl::MutexLock batch_lock(&in_flight_->mu);
      in_flight_->abandoned = true;
    }
    status = absl::DeadlineExceededError(
        absl::StrCat("outbox relay: the in-flight batch was not delivered within ",
                     absl::FormatDuration(timeout), "; its undelivered rows stay unsent"));
  }
  thread_.join();
  return status;
}

void OutboxRelay::Wait(absl::Duration timeout, bool wake_on_notify) {
  absl::MutexLock lock(&mu_);
  auto woken = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (wake_on_notify && notified_);
  };
  mu_.AwaitWithTimeout(absl::Condition(&woken), timeout);
  if (wake_on_notify) notified_ = false;
}

void OutboxRelay::Run() {
  absl::Duration backoff = options_.initial_backoff;
  auto fail = [&](const absl::Status& status) {
    spdlog::warn("outbox relay: {}; retrying in {}", status.ToString(),
                 absl::FormatDuration(backoff));
    Wait(backoff, /*wake_on_notify=*/false);
    backoff = std::min(backoff * 2, options_.max_backoff);
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    if (lock_ != nullptr && !lock_->Check().ok()) {
      spdlog::warn("outbox relay: lost the relay lock; standing by");
      listener_.reset();
      lock_.reset();
      leader_ = false;
    }
    if (lock_ == nullptr) {
      absl::StatusOr<std::unique_ptr<SessionLock>> lock = db_.TryLock(options_.lock_name);
      if (!lock.ok()) {
        fail(lock.status());
        continue;
      }
      if (*lock == nullptr) {  // another replica publishes
        Wait(options_.poll_interval, /*wake_on_notify=*/true);
        continue;
      }
      lock_ = *std::move(lock);
      leader_ = true;
      spdlog::info("outbox relay: holding the relay lock, publishing");
      // Commits on other replicas wake the leader at once instead of at its next poll.
      absl::StatusOr<std::unique_ptr<Listener>> listener =
          db_.Listen(kOutboxChannel, [this] { Notify(); });
      if (listener.ok()) {
        listener_ = *std::move(listener);
      } else {
        spdlog::warn("outbox relay: no wake-ups from other replicas ({}); polling every {}",
                     listener.status().ToString(), absl::FormatDuration(options_.poll_interval));
      }
    }
    absl::StatusOr<bool> full = PublishBatch();
    if (!full.ok()) {
      fail(full.status());
      continue;
    }
    backoff = options_.initial_backoff;
    pc::failpoint::Hit("relay.between_batches");
    if (*full) continue;
    if (options_.on_idle) options_.on_idle();
    Wait(options_.poll_interval, /*wake_on_notify=*/true);
  }
  listener_.reset();
  lock_.reset();
  leader_ = false;
  exited_.Notify();
}

absl::StatusOr<bool> OutboxRelay::PublishBatch() {
  std::vector<OutboxEntry> entries;
  PC_RETURN_IF_ERROR(db_.InTransaction([&](Transaction& tx) -> absl::Status {
    entries.clear();
    PC_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query("SELECT id, topic, key, event_id, event_type, payload, headers, aggregate_key "
                 "FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
                 {options_.batch_size}));
    for (const Row& row : rows) {
      PC_ASSIGN_OR_RETURN(OutboxEntry entry, EntryFromRow(row));
      entries.push_back(std::move(entry));
    }
    return absl::OkStatus();
  }));
  if (entries.empty()) return false;

  const size_t n = entries.size();
  auto batch = std::make_shared<Batch>();
  {
    absl::MutexLock lock(&batch->mu);
    batch->reports.resize(n);
    batch->remaining = n;
  }
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = batch;
  }
  for (size_t i = 0; i < n; ++i) {
    publisher_.Publish(ToMessage(entries[i].record), [batch, i](absl::Status delivered) {
      absl::MutexLock lock(&batch->mu);
      if (batch->reports[i].has_value()) return;
      batch->reports[i] = std::move(delivered);
      --batch->remaining;
    });
  }
  std::vector<std::optional<absl::Status>> reports;
  bool abandoned = false;
  {
    absl::MutexLock lock(&batch->mu);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch->mu) {
      return batch->remaining == 0 || batch->abandoned;
    };
    batch->mu.AwaitWithTimeout(absl::Condition(&done), options_.delivery_timeout);
    reports = batch->reports;
    abandoned = batch->abandoned;
  }
  {
    absl::MutexLock lock(&mu_);
    in_flight_.reset();
  }

  size_t delivered = 0;
  while (delivered < n && reports[delivered].has_value() && reports[delivered]->ok()) ++delivered;
  failed_total_ += std::count_if(reports.begin(), reports.end(),
                                 [](const auto& report) { return !report || !report->ok(); });
  if (delivered > 0) {
    std::vector<OutboxEntry> published(entries.begin(), entries.begin() + delivered);
    if (options_.on_published) options_.on_published(published);
    pc::failpoint::Hit("relay.after_publish");
    std::vector<int64_t> ids;
    std::vector<Value> params = {absl::ToUnixMicros(absl::Now())};
    std::string sql = "UPDATE outbox SET sent_at = $1 WHERE id IN (";
    for (size_t i = 0; i < delivered; ++i) {
      ids.push_back(entries[i].id);
      params.emplace_back(entries[i].id);
      absl::StrAppend(&sql, i == 0 ? "$" : ", $", i + 2);
    }
    sql += ")";
    PC_RETURN_IF_ERROR(db_.InTransaction([&](Transaction& tx) {
      return tx.Execute(sql, params).status();
    }));
    published_total_ += static_cast<int64_t>(delivered);
    if (options_.on_marked_sent) options_.on_marked_sent(ids);
  }
  if (delivered < n) {
    const OutboxEntry& failed = entries[delivered];
    absl::Status cause = reports[delivered].value_or(absl::DeadlineExceededError(
        abandoned ? std::string("the relay stopped before its delivery report arrived")
                  : absl::StrCat("no delivery report within ",
                                 absl::FormatDuration(options_.delivery_timeout))));
    return absl::Status(cause.code(),
                        absl::StrCat("outbox row ", failed.id, " (event ", failed.record.event_id,
                                     ", topic ", failed.record.topic, ") not delivered: ",
                                     cause.message(), "; ", n - delivered, " rows stay unsent"));
  }
  return n == static_cast<size_t>(options_.batch_size);
}

}  // namespace pc::storage
