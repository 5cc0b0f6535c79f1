// The transactional outbox: an event is written in the same local transaction as the state
// change it describes, and a background relay publishes it to Kafka afterwards.
//
//   // in the service, inside db.InTransaction(...), after the state change:
//   PC_RETURN_IF_ERROR(pc::storage::Outbox::Append(tx, {.topic = topic, .key = invitation_id,
//       .event_id = envelope.event_id(), .event_type = "InvitationSent",
//       .payload = envelope.SerializeAsString(), .aggregate_key = invitation_id}));
//   // after the commit:
//   relay.Notify();
//
//   pc::storage::OutboxRelay relay(*db, publisher, {.poll_interval = absl::Seconds(1)});
//   relay.Start();
//   ...
//   relay.Stop(absl::Seconds(10));   // finishes the in-flight batch
//
// The relay publishes unsent rows in id order in batches, waits for every delivery report of a
// batch, then marks the delivered rows sent (`sent_at`). At the first failed delivery it stops:
// that row and every later row of the batch stay unsent and are published again, in id order,
// after a backoff (a later row may thus be delivered twice; consumers dedupe with the Inbox and
// tolerate reordering by aggregate_version). `batch_size = 1` gives strict order even then, at
// one broker round trip per event. Append events after the state change they describe, so the
// row lock taken by that change orders ids per aggregate on PostgreSQL.
//
// Several replicas: on PostgreSQL only the relay holding the session advisory lock `lock_name`
// publishes; the others stand by and retry every poll interval. On SQLite the lock is always
// granted (one process owns the file).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "pc/kafka/message.h"
#include "pc/kafka/publisher.h"
#include "pc/storage/database.h"

namespace pc::storage {

// One event to publish. `event-id` and `event-type` headers are added when absent.
struct OutboxRecord {
  std::string topic{};
  std::string key{};
  std::string event_id{};
  std::string event_type{};
  std::string payload{};         // bytes, stored binary-safe
  pc::kafka::Headers headers{};  // stored as JSON; names and values must be UTF-8
  std::string aggregate_key{};   // what per-aggregate order is about; defaults to `key`
};

// A stored outbox row.
struct OutboxEntry {
  int64_t id = 0;
  OutboxRecord record{};
};

class Outbox {
 public:
  // Adds `record` to the outbox inside `tx` (commit publishes it, rollback drops it). The
  // INSERT (and on PostgreSQL the pg_notify) are Transaction::ExecuteDeferred: a failure comes
  // back from the transaction's next statement or from InTransaction.
  static absl::Status Append(Transaction& tx, const OutboxRecord& record);
  // The number of unsent rows.
  static absl::StatusOr<int64_t> Backlog(Database& db);
  // When the oldest unsent row was appended (by the appending process's clock; an append
  // happens before its commit), or nullopt if every row is sent.
  static absl::StatusOr<std::optional<absl::Time>> OldestUnsent(Database& db);
  // Deletes rows sent before `cutoff`; returns how many. The service decides when and how old.
  static absl::StatusOr<int64_t> DeleteSentBefore(Database& db, absl::Time cutoff);
};

// The channel an Append's commit notifies (PostgreSQL), on which the leading relay listens.
inline constexpr char kOutboxChannel[] = "pc_outbox";

struct OutboxRelayOptions {
  // How often to look for rows without a Notify(). On PostgreSQL a commit on any replica
  // notifies the leader (LISTEN/NOTIFY), so this is only the fallback for a lost listener.
  absl::Duration poll_interval = absl::Seconds(1);
  int batch_size = 1000;
  // Wait after a failed batch: doubles from initial to max, reset by a successful batch.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  // How long to wait for a batch's delivery reports before treating the rest as failed.
  absl::Duration delivery_timeout = absl::Seconds(60);
  std::string lock_name = "pc.storage.outbox_relay";

  // Hooks (tests, logs), called on the relay thread.
  // The batch's delivered prefix, after its delivery reports, before it is marked sent.
  std::function<void(const std::vector<OutboxEntry>& delivered)> on_published{};
  // After the delivered rows were marked sent (committed).
  std::function<void(const std::vector<int64_t>& sent_ids)> on_marked_sent{};
  // When the relay found nothing to publish and is about to wait for Notify() or the poll.
  std::function<void()> on_idle{};
};

class OutboxRelay {
 public:
  // `db` and `publisher` must outlive the relay.
  OutboxRelay(Database& db, pc::kafka::Publisher& publisher, OutboxRelayOptions options = {});
  ~OutboxRelay();  // Stop(absl::Seconds(10)) if still running.
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Starts the background thread (once).
  void Start();
  // Wakes the relay now (call after committing a transaction that appended to the outbox).
  void Notify();
  // Stops polling, lets the in-flight batch finish and mark its rows, joins the thread.
  // DEADLINE_EXCEEDED if the batch's delivery reports did not all arrive within `timeout`
  // (the undelivered rows stay unsent for the next run).
  absl::Status Stop(absl::Duration timeout);

  // Metrics.
  absl::StatusOr<int64_t> Backlog() const { return Outbox::Backlog(db_); }
  int64_t published_total() const { return published_total_.load(); }  // rows marked sent
  int64_t failed_total() const { return failed_total_.load(); }         // failed deliveries
  bool is_leader() const { return leader_.load(); }

 private:
  struct Batch;
  void Run();
  // OK(true) if a full batch was published (more may be waiting).
  absl::StatusOr<bool> PublishBatch();
  // Waits up to `timeout` for Stop(), or for Notify() too if `wake_on_notify`.
  void Wait(absl::Duration timeout, bool wake_on_notify);

  Database& db_;
  pc::kafka::Publisher& publisher_;
  const OutboxRelayOptions options_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Batch> in_flight_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
  absl::Notification exited_;
  std::unique_ptr<SessionLock> lock_;  // relay thread only
  std::unique_ptr<Listener> listener_;  // relay thread only: held with the lock
  std::atomic<int64_t> published_total_{0};
  std::atomic<int64_t> failed_total_{0};
  std::atomic<bool> leader_{false};
};

}  // namespace pc::storage
