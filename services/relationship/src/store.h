// What the relationship service keeps, on pc::storage (SQLite or PostgreSQL, one schema).
//
// Rows hold the API message serialized in `data` plus the columns queries filter and sort on.
// Every method runs inside the caller's transaction (RelationshipStore::InTransaction), so a
// state change, its history entry, its idempotency record, its inbox row and its outbox event
// commit or roll back together.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnercenter/events/v1/events.pb.h"
#include "partnercenter/relationship/v1/relationship_service.pb.h"
#include "pc/storage/database.h"

namespace pc::relationship {

namespace v1 = partnercenter::relationship::v1;
namespace common = partnercenter::common::v1;

enum class RelationshipOrder { kCompanyNameAsc, kUpdateTimeDesc, kCreateTimeDesc };

struct RelationshipQuery {
  std::string cloud;
  // Exactly one of partner_id / customer_id is set.
  std::string partner_id;
  std::string customer_id;
  std::vector<int> states;        // RelationshipState values; empty = all
  std::vector<int> admin_access;  // AdminAccess values; empty = all
  std::string indirect_reseller_id;
  std::string name_prefix;  // lower-case; matches company name or primary domain
  RelationshipOrder order = RelationshipOrder::kCompanyNameAsc;
  int limit = 50;
  // Keyset cursor: rows strictly after (after_key, after_id) in `order`.
  std::optional<std::string> after_key;
  std::string after_id;
};

// The SQL and parameters of StoreTx::List (exposed so tests can EXPLAIN it). Every filter
// and order is a keyset range on an index: one per order (name, update time, create time),
// one per (state, order), and for a name prefix the name index plus a covering domain index.
// admin_access and indirect_reseller_id filter within those ranges.
struct ListSql {
  std::string sql;
  std::vector<pc::storage::Value> params;
};
absl::StatusOr<ListSql> BuildListSql(const RelationshipQuery& q, pc::storage::Dialect dialect);

struct ServiceRecord {
  std::string partner_id;
  std::string customer_id;
  common::CustomerService service;
};

// A mutating call already handled under (tenant, request_id): its answer, replayed on retry.
struct RequestRecord {
  std::string method;
  std::string request_hash;
  std::string response;  // serialized response message
};

class StoreTx {
 public:
  explicit StoreTx(pc::storage::Transaction& tx) : tx_(tx) {}

  absl::StatusOr<std::optional<v1::Relationship>> Get(const std::string& cloud,
                                                      const std::string& partner_id,
                                                      const std::string& customer_id);
  absl::Status Insert(const v1::Relationship& r);
  // Writes `r` if its stored version is still `expected_version` (ABORTED otherwise).
  absl::Status Update(const v1::Relationship& r, int64_t expected_version);
  absl::StatusOr<std::vector<v1::Relationship>> List(const RelationshipQuery& q);

  absl::StatusOr<std::vector<common::CustomerService>> ListServices(
      const std::string& cloud, const std::string& partner_id, const std::string& customer_id);
  absl::StatusOr<std::optional<ServiceRecord>> GetService(const std::string& cloud,
                                                          const std::string& service_id);
  absl::Status InsertService(const std::string& cloud, const std::string& partner_id,
                             const std::string& customer_id, const common::CustomerService& s);
  absl::Status UpdateService(const std::string& cloud, const common::CustomerService& s,
                             int64_t expected_version);
  absl::StatusOr<int64_t> CountActiveServices(const std::string& cloud,
                                              const std::string& partner_id,
                                              const std::string& customer_id);

  // ALREADY_EXISTS if the customer already has this user principal name.
  absl::Status InsertUser(const std::string& cloud, const v1::CustomerUser& u);
  // Users of a customer, by id, after `after_id`.
  absl::StatusOr<std::vector<v1::CustomerUser>> ListUsers(const std::string& cloud,
                                                          const std::string& customer_id,
                                                          const std::string& after_id, int limit);

  absl::Status InsertServiceRequest(const std::string& cloud, const std::string& partner_id,
                                    const std::string& customer_id,
                                    const common::ServiceRequest& sr);
  // Newest first.
  absl::StatusOr<std::vector<common::ServiceRequest>> ListServiceRequests(
      const std::string& cloud, const std::string& partner_id, const std::string& customer_id,
      int limit);

  absl::Status AppendHistory(const std::string& cloud, const std::string& partner_id,
                             const std::string& customer_id, const v1::HistoryEntry& e);
  // Oldest first after `after_sequence`, or newest first (then `after_sequence` is ignored).
  absl::StatusOr<std::vector<v1::HistoryEntry>> ListHistory(const std::string& cloud,
                                                            const std::string& partner_id,
                                                            const std::string& customer_id,
                                                            int64_t after_sequence, int limit,
                                                            bool newest_first);

  absl::StatusOr<std::optional<RequestRecord>> GetRequest(const std::string& tenant_id,
                                                          const std::string& request_id);
  absl::Status PutRequest(const std::string& tenant_id, const std::string& request_id,
                          const RequestRecord& r, absl::Time now);

  // The newest version of an invitation aggregate this service applied (0 if none).
  absl::StatusOr<int64_t> AppliedInvitationVersion(const std::string& invitation_id);
  absl::Status SetAppliedInvitationVersion(const std::string& invitation_id, int64_t version);

  // Appends `event` to the outbox (published after commit, keyed partner:customer).
  absl::Status Emit(const partnercenter::events::v1::EventEnvelope& event);

  // Records (consumer group, event id) in this transaction's inbox: true the first time.
  absl::StatusOr<bool> FirstDelivery(const std::string& consumer_group, const std::string& event_id);

 private:
  pc::storage::Transaction& tx_;
};

class RelationshipStore {
 public:
  explicit RelationshipStore(pc::storage::Database& db) : db_(db) {}
  // Outbox/inbox tables, then the relationship schema.
  static absl::Status Migrate(pc::storage::Database& db);
  absl::Status InTransaction(const std::function<absl::Status(StoreTx&)>& fn);
  // A read-only transaction (Database::InReadTransaction): on SQLite it runs on a pooled read
  // connection, concurrently with other readers and with the writer. For the read paths.
  absl::Status InReadTransaction(const std::function<absl::Status(StoreTx&)>& fn);
  pc::storage::Database& database() { return db_; }

 private:
  pc::storage::Database& db_;
};

}  // namespace pc::relationship
