// Applies invitation and relationship events to the read models, each once (inbox) and in
// aggregate-version order (a late, older event never overwrites newer state), and appends what
// changed to the partner's and the customer's change feeds — in the same transaction.
//
//   Projector projector({.cloud = "global", .consumer_group = "notification"}, store, notify);
//   absl::Status s = projector.ApplyBytes(message.payload);   // DATA_LOSS → dead letter
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/events/outcome.h"
#include "store.h"

namespace pc::notification {

struct ProjectorOptions {
  std::string cloud = "global";
  std::string consumer_group = "notification";
  // After each committed apply, how many events had each outcome (metrics).
  std::function<void(pc::events::Outcome, uint64_t)> on_outcome = {};
};

class Projector {
 public:
  // `on_commit` runs after every transaction that appended to a feed (wakes watchers).
  Projector(ProjectorOptions options, NotificationStore& store, std::function<void()> on_commit);

  // A Kafka message value: DATA_LOSS if it is not an envelope (poison: dead-lettered);
  // an envelope of an event type this build does not know is ignored and counted.
  absl::Status ApplyBytes(const std::string& payload);
  absl::Status Apply(const partnercenter::events::v1::EventEnvelope& e);
  // Several message values in one transaction (each with its inbox row): all or nothing. Any
  // message that is not a plainly applicable event (poison, another cloud, …) fails the whole
  // batch, so the caller can fall back to ApplyBytes one by one.
  absl::Status ApplyBatch(const std::vector<std::string>& payloads);

  uint64_t applied() const { return applied_.load(); }
  uint64_t duplicates() const { return duplicates_.load(); }
  uint64_t stale() const { return stale_.load(); }
  uint64_t unknown_types() const { return unknown_types_.load(); }

 private:
  // Checks that do not need the store; the error is what ApplyBytes would answer.
  absl::Status Admissible(const partnercenter::events::v1::EventEnvelope& e) const;
  // Inbox + apply inside `tx`; sets *duplicate / *changed.
  absl::Status ApplyIn(StoreTx& tx, const partnercenter::events::v1::EventEnvelope& e,
                       bool* duplicate, bool* changed);
  absl::Status ApplyInvitation(StoreTx& tx, const partnercenter::events::v1::EventEnvelope& e,
                               bool* changed);
  absl::Status ApplyRelationship(StoreTx& tx, const partnercenter::events::v1::EventEnvelope& e,
                                 bool* changed);

  ProjectorOptions options_;
  NotificationStore& store_;
  std::function<void()> on_commit_;
  void Report(pc::events::Outcome outcome, uint64_t n) const {
    if (n > 0 && options_.on_outcome) options_.on_outcome(outcome, n);
  }

  std::atomic<uint64_t> applied_{0}, duplicates_{0}, stale_{0}, unknown_types_{0};
};

}  // namespace pc::notification
