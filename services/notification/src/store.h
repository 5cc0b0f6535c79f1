// The notification service's read models on pc::storage (SQLite or PostgreSQL, one schema):
// the partner's Customers page (customer_rows + invitation_rows), the customer's Partners
// page (partner_rows), the services behind the license totals, and the change feeds — one
// per partner and one per customer — whose entries are the exact CustomerChange /
// PartnerChange messages watchers receive, numbered by a strictly increasing sequence.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

class StoreTx {
 public:
  explicit StoreTx(pc::storage::Transaction& tx) : tx_(tx) {}

  absl::StatusOr<std::optional<v1::CustomerRow>> GetCustomerRow(const std::string& cloud,
                                                                const std::string& partner_id,
                                                                const std::string& customer_id);
  absl::Status PutCustomerRow(const std::string& cloud, const v1::CustomerRow& row);
  absl::StatusOr<std::optional<v1::PartnerRow>> GetPartnerRow(const std::string& cloud,
                                                              const std::string& customer_id,
                                                              const std::string& partner_id);
  absl::Status PutPartnerRow(const std::string& cloud, const v1::PartnerRow& row);
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

  // Appends `change` (a serialized CustomerChange / PartnerChange without its sequence) to
  // the feed and returns the sequence it got (the previous head + 1).
  absl::StatusOr<int64_t> AppendChange(const std::string& cloud, Feed feed,
                                       const std::string& owner_id,
                                       const std::function<std::string(int64_t)>& serialize);
  // The feed's newest sequence (0 if empty).
  absl::StatusOr<int64_t> Head(const std::string& cloud, Feed feed, const std::string& owner_id);
  // The feed's oldest retained sequence (nullopt if none is): retention deletes old changes
  // (created_at, NotificationStore::kFeedChangesTable), so a resume point before it has a gap.
  absl::StatusOr<std::optional<int64_t>> OldestRetained(const std::string& cloud, Feed feed,
                                                        const std::string& owner_id);
  // Serialized changes with sequence > `after`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ChangesAfter(
      const std::string& cloud, Feed feed, const std::string& owner_id, int64_t after, int limit);

  // Records (consumer group, event id) in this transaction's inbox: true the first time.
  absl::StatusOr<bool> FirstDelivery(const std::string& consumer_group, const std::string& event_id);

 private:
  pc::storage::Transaction& tx_;
};

class NotificationStore {
 public:
  explicit NotificationStore(pc::storage::Database& db) : db_(db) {}
  static absl::Status Migrate(pc::storage::Database& db);
  absl::Status InTransaction(const std::function<absl::Status(StoreTx&)>& fn);
  // Every read-model row (not the feeds), serialized and sorted: to compare two stores.
  absl::StatusOr<std::vector<std::string>> DumpReadModels();

 private:
  pc::storage::Database& db_;
};

}  // namespace pc::notification
