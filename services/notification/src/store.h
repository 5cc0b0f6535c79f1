// The notification service's read models on pc::storage (SQLite or PostgreSQL, one schema):
// relationship_rows (one row per relationship holding both its Customers-page row and its
// Partners-page row, indexed for both pages' orders), invitation_rows, the services behind
// the license totals, and the change feeds: feed_events, one row per event that changed a
// page, with the exact CustomerChange (the partner's feed) and PartnerChange (the customer's
// feed) watchers receive, numbered by the cloud's one clock (feed_clock).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnercenter/notification/v1/notification_service.pb.h"
#include "pc/storage/database.h"

namespace pc::notification {

namespace v1 = partnercenter::notification::v1;
namespace common = partnercenter::common::v1;

// Which feed: a partner's (Customers page) or a customer's (Partners page).
enum class Feed { kPartner, kCustomer };

struct PageQuery {
  std::string cloud;
  std::string owner_id;  // partner id (customer rows) or customer id (partner rows)
  std::string name_prefix;             // lower-case; customer rows only
  std::vector<int> admin_access;       // customer rows only; empty = all
  bool by_last_change = false;         // else by name
  int limit = 50;
  std::optional<std::string> after_key;  // keyset cursor
  std::string after_id;
};

// A relationship as the partner's Customers page and the customer's Partners page show it.
struct RelationshipRows {
  v1::CustomerRow customer;
  v1::PartnerRow partner;
};

class StoreTx {
 public:
  explicit StoreTx(pc::storage::Transaction& tx) : tx_(tx) {}

  // One relationship's row on both pages, stored together (one read and one upsert per event).
  absl::StatusOr<std::optional<RelationshipRows>> GetRelationship(const std::string& cloud,
                                                                  const std::string& partner_id,
                                                                  const std::string& customer_id);
  absl::Status PutRelationship(const std::string& cloud, const v1::CustomerRow& customer_row,
                               const v1::PartnerRow& partner_row);
  absl::StatusOr<std::optional<v1::InvitationRow>> GetInvitationRow(const std::string& cloud,
                                                                    const std::string& id);
  absl::Status PutInvitationRow(const std::string& cloud, const v1::InvitationRow& row);

  // Services behind the totals: (state, license quantity) per service id.
  absl::Status PutService(const std::string& cloud, const std::string& partner_id,
                          const std::string& customer_id, const common::CustomerService& s);
  // Non-canceled services and their licenses.
  absl::StatusOr<std::pair<int32_t, int32_t>> ServiceTotals(const std::string& cloud,
                                                            const std::string& partner_id,
                                                            const std::string& customer_id);

  absl::StatusOr<std::vector<v1::CustomerRow>> CustomerRows(const PageQuery& q);
  absl::StatusOr<std::vector<v1::PartnerRow>> PartnerRows(const PageQuery& q);
  absl::StatusOr<std::vector<v1::InvitationRow>> InvitationRows(const std::string& cloud,
                                                                const std::string& partner_id,
                                                                int limit);

  // The change feeds. Every event that changed a page is one feed row, numbered by the cloud's
  // one clock (strictly increasing per feed, not contiguous): the partner's change
  // (a serialized CustomerChange) and, for relationship events, the customer's
  // (a PartnerChange; nullptr for invitation events, which only the partner sees). Returns
  // the sequence it got. The clock row is taken once per transaction and written back by
  // NotificationStore::InTransaction before commit.
  absl::StatusOr<int64_t> AppendChange(const std::string& cloud, const std::string& partner_id,
                                       const std::string& customer_id,
                                       const std::function<std::string(int64_t)>& partner_change,
                                       const std::function<std::string(int64_t)>& customer_change);
  // The newest sequence of the cloud's feeds (0 if none): every change up to it is visible.
  absl::StatusOr<int64_t> Head(const std::string& cloud);
  // Retention deleted every change at or before this sequence that it deleted at all: a
  // resume point below it may have a gap (0 if nothing was ever pruned).
  absl::StatusOr<int64_t> PrunedThrough(const std::string& cloud);
  // One feed's serialized changes with sequence > `after`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ChangesAfter(
      const std::string& cloud, Feed feed, const std::string& owner_id, int64_t after, int limit);
  // Writes the clock back if this transaction took sequences (InTransaction calls it).
  absl::Status FlushSequences();

  // Records (consumer group, event id) in this transaction's inbox: true the first time.
  absl::StatusOr<bool> FirstDelivery(const std::string& consumer_group, const std::string& event_id);

 private:
  absl::StatusOr<int64_t> NextSequence(const std::string& cloud);

  struct Clock {
    std::string cloud;
    int64_t last = 0;    // the last sequence handed out
    int64_t stored = 0;  // what feed_clock holds in this transaction
  };
  pc::storage::Transaction& tx_;
  std::optional<Clock> clock_;
};

class NotificationStore {
 public:
  explicit NotificationStore(pc::storage::Database& db) : db_(db) {}
  static absl::Status Migrate(pc::storage::Database& db);
  absl::Status InTransaction(const std::function<absl::Status(StoreTx&)>& fn);
  // For reads only (pages, watches): never waits for the projector's writes where the store
  // allows it (pc::storage::Database::InReadTransaction).
  absl::Status InReadTransaction(const std::function<absl::Status(StoreTx&)>& fn);
  // Deletes feed changes appended before `cutoff` (retention) and records how far it deleted.
  absl::StatusOr<int64_t> PruneFeed(absl::Time cutoff);
  // Every read-model row (not the feeds), serialized and sorted: to compare two stores.
  absl::StatusOr<std::vector<std::string>> DumpReadModels();

 private:
  pc::storage::Database& db_;
};

}  // namespace pc::notification
