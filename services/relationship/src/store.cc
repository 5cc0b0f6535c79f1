#include "store.h"

#include "pc/storage/keyset.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/storage/inbox.h"
#include "pc/storage/keyset.h"
#include "pc/storage/migrations.h"
#include "pc/storage/proto_rows.h"
#include "pc/storage/outbox.h"

namespace pc::relationship {
namespace {

using google::protobuf::util::TimeUtil;
using pc::storage::Bytes;
using pc::storage::ParseMessages;
using pc::storage::Row;
using pc::storage::Value;

const std::vector<pc::storage::Migration> kMigrations = {
    {1, "create relationships, services, users, service requests, history",
     R"sql(
CREATE TABLE relationships (
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  admin_access INTEGER NOT NULL,
  indirect_reseller_id TEXT NOT NULL,
  sort_name TEXT NOT NULL,
  sort_domain TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, partner_id, customer_id)
);
CREATE INDEX relationships_by_customer ON relationships (cloud, customer_id);
CREATE INDEX relationships_by_name ON relationships (cloud, partner_id, sort_name, customer_id);
CREATE TABLE customer_services (
  id TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  create_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  data {{bytes}} NOT NULL
);
CREATE INDEX customer_services_by_relationship
  ON customer_services (cloud, partner_id, customer_id, create_time);
CREATE TABLE customer_users (
  id TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  upn TEXT NOT NULL,
  data {{bytes}} NOT NULL
);
CREATE UNIQUE INDEX customer_users_by_upn ON customer_users (cloud, customer_id, upn);
CREATE TABLE service_requests (
  id TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  data {{bytes}} NOT NULL
);
CREATE INDEX service_requests_by_relationship
  ON service_requests (cloud, partner_id, customer_id, create_time);
CREATE TABLE relationship_history (
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, partner_id, customer_id, sequence)
);
CREATE TABLE relationship_requests (
  tenant_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response {{bytes}} NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, request_id)
);
CREATE TABLE applied_invitations (
  invitation_id TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
)sql",
     ""},
    {2, "indexes for every list order, per state, and for domain-only prefix matches",
     R"sql(
DROP INDEX relationships_by_customer;
CREATE INDEX relationships_by_customer ON relationships (cloud, customer_id, sort_name, partner_id);
CREATE INDEX relationships_by_update ON relationships (cloud, partner_id, update_time, customer_id);
CREATE INDEX relationships_by_create ON relationships (cloud, partner_id, create_time, customer_id);
ALTER TABLE relationships ADD COLUMN name_domain_lcp INTEGER NOT NULL DEFAULT 0;
CREATE INDEX relationships_by_domain ON relationships
  (cloud, partner_id, name_domain_lcp, sort_domain, sort_name, customer_id, state);
CREATE INDEX relationships_by_state_name
  ON relationships (cloud, partner_id, state, sort_name, customer_id);
CREATE INDEX relationships_by_state_update
  ON relationships (cloud, partner_id, state, update_time, customer_id);
CREATE INDEX relationships_by_state_create
  ON relationships (cloud, partner_id, state, create_time, customer_id);
)sql",
     ""},
};

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

std::string SortName(const v1::Relationship& r) {
  return absl::AsciiStrToLower(r.customer_profile().company_name());
}

std::string SortDomain(const v1::Relationship& r) {
  return absl::AsciiStrToLower(r.customer_profile().primary_domain());
}

}  // namespace

absl::StatusOr<bool> StoreTx::FirstDelivery(const std::string& consumer_group,
                                            const std::string& event_id) {
  return pc::storage::Inbox::TryInsert(tx_, consumer_group, event_id);
}

absl::StatusOr<std::optional<v1::Relationship>> StoreTx::Get(const std::string& cloud,
                                                              const std::string& partner_id,
                                                              const std::string& customer_id) {
  PC_ASSIGN_OR_RETURN(std::vector<v1::Relationship> found,
                      ParseMessages<v1::Relationship>(
                          tx_.Query("SELECT data FROM relationships WHERE cloud = $1 AND "
                                    "partner_id = $2 AND customer_id = $3",
                                    {cloud, partner_id, customer_id})));
  if (found.empty()) return std::nullopt;
  return found.front();
}

absl::Status StoreTx::Insert(const v1::Relationship& r) {
  const std::string name = SortName(r);
  const std::string domain = SortDomain(r);
  return tx_
      .Execute(
          "INSERT INTO relationships (cloud, partner_id, customer_id, state, admin_access, "
          "indirect_reseller_id, sort_name, sort_domain, create_time, update_time, version, data, "
          "name_domain_lcp) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
          {pc::events::CloudName(r.cloud()), r.partner_id(), r.customer_id(),
           static_cast<int>(r.state()), static_cast<int>(r.admin_access()),
           r.indirect_reseller_id(), name, domain, Micros(r.create_time()),
           Micros(r.update_time()), r.version(), Bytes{r.SerializeAsString()},
           pc::storage::CommonPrefixLength(name, domain)})
      .status();
}

absl::Status StoreTx::Update(const v1::Relationship& r, int64_t expected_version) {
  const std::string name = SortName(r);
  const std::string domain = SortDomain(r);
  PC_ASSIGN_OR_RETURN(
      int64_t changed,
      tx_.Execute("UPDATE relationships SET state = $1, admin_access = $2, "
                  "indirect_reseller_id = $3, sort_name = $4, sort_domain = $5, "
                  "update_time = $6, version = $7, data = $8, name_domain_lcp = $13 "
                  "WHERE cloud = $9 AND partner_id = $10 AND customer_id = $11 AND version = $12",
                  {static_cast<int>(r.state()), static_cast<int>(r.admin_access()),
                   r.indirect_reseller_id(), name, domain,
                   Micros(r.update_time()), r.version(), Bytes{r.SerializeAsString()},
                   pc::events::CloudName(r.cloud()), r.partner_id(), r.customer_id(),
                   expected_version, pc::storage::CommonPrefixLength(name, domain)}));
  if (changed == 0) return absl::AbortedError("the relationship was changed concurrently");
  return absl::OkStatus();
}

absl::StatusOr<ListSql> BuildListSql(const RelationshipQuery& q, pc::storage::Dialect dialect) {
  ListSql out;
  std::vector<Value>& params = out.params;
  auto param = [&](Value v) {
    params.push_back(std::move(v));
    return absl::StrCat("$", params.size());
  };
  // The side of the pair the list is for, then filters that narrow within an index range.
  const bool partner_view = !q.partner_id.empty();
  std::string where = absl::StrCat(" WHERE cloud = ", param(q.cloud));
  if (partner_view) {
    absl::StrAppend(&where, " AND partner_id = ", param(q.partner_id));
  } else {
    absl::StrAppend(&where, " AND customer_id = ", param(q.customer_id));
  }
  if (!q.admin_access.empty()) {
    std::string in;
    for (int v : q.admin_access) absl::StrAppend(&in, in.empty() ? "" : ", ", param(v));
    absl::StrAppend(&where, " AND admin_access IN (", in, ")");
  }
  if (!q.indirect_reseller_id.empty()) {
    absl::StrAppend(&where, " AND indirect_reseller_id = ", param(q.indirect_reseller_id));
  }
  // The id column is the other side of the pair: customer_id in a partner view and vice versa.
  const char* id_col = partner_view ? "customer_id" : "partner_id";
  const bool by_name = q.order == RelationshipOrder::kCompanyNameAsc;
  const char* key_col = by_name ? "sort_name"
                        : q.order == RelationshipOrder::kUpdateTimeDesc ? "update_time"
                                                                        : "create_time";
  std::string keyset;
  if (q.after_key.has_value()) {
    Value key_value = *q.after_key;
    if (!by_name) {
      int64_t micros = 0;
      if (!absl::SimpleAtoi(*q.after_key, &micros)) {
        return absl::InvalidArgumentError("page_token: bad key");
      }
      key_value = micros;
    }
    const std::string k = param(std::move(key_value));
    keyset = pc::storage::KeysetAfter(key_col, id_col, !by_name, k, param(q.after_id));
  }
  // Arms: each one an index range in the list's order (pc/storage/keyset.h): one per state
  // (index on state then the sort key), and for a name prefix a name range and a domain-only
  // range of each.
  std::vector<pc::storage::KeysetArm> arms = {{}};
  if (!q.states.empty()) {
    arms.clear();
    for (int state : q.states) arms.push_back({absl::StrCat(" AND state = ", param(state))});
  }
  if (!q.name_prefix.empty()) {
    // Prefix match without LIKE wildcards: [prefix, prefix + U+FFFF).
    const std::string lo = param(q.name_prefix);
    const std::string hi = param(q.name_prefix + "\xef\xbf\xbf");
    arms = pc::storage::SplitByNameOrDomainPrefix(
        arms, {.name_col = "sort_name",
               .domain_col = "sort_domain",
               .lcp_col = "name_domain_lcp",
               .domain_index = "relationships_by_domain",
               .lo = lo,
               .hi = hi,
               .prefix_length = static_cast<int>(q.name_prefix.size())});
  }
  out.sql = pc::storage::KeysetSql({.table = "relationships",
                                    .where = where,
                                    .arms = std::move(arms),
                                    .keyset = keyset,
                                    .key_col = key_col,
                                    .id_col = id_col,
                                    .descending = !by_name,
                                    .limit = param(q.limit)},
                                   dialect);
  return out;
}

absl::StatusOr<std::vector<v1::Relationship>> StoreTx::List(const RelationshipQuery& q) {
  PC_ASSIGN_OR_RETURN(ListSql query, BuildListSql(q, tx_.dialect()));
  return ParseMessages<v1::Relationship>(tx_.Query(query.sql, query.params));
}

absl::StatusOr<std::vector<common::CustomerService>> StoreTx::ListServices(
    const std::string& cloud, const std::string& partner_id, const std::string& customer_id) {
  return ParseMessages<common::CustomerService>(
      tx_.Query("SELECT data FROM customer_services WHERE cloud = $1 AND partner_id = $2 AND "
                "customer_id = $3 ORDER BY create_time, id",
                {cloud, partner_id, customer_id}));
}

absl::StatusOr<std::optional<ServiceRecord>> StoreTx::GetService(const std::string& cloud,
                                                                 const std::string& service_id) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT partner_id, customer_id, data FROM customer_services "
                                "WHERE cloud = $1 AND id = $2",
                                {cloud, service_id}));
  if (rows.empty()) return std::nullopt;
  ServiceRecord out;
  PC_ASSIGN_OR_RETURN(out.partner_id, rows[0].GetText("partner_id"));
  PC_ASSIGN_OR_RETURN(out.customer_id, rows[0].GetText("customer_id"));
  PC_ASSIGN_OR_RETURN(std::vector<common::CustomerService> service,
                      ParseMessages<common::CustomerService>(rows));
  out.service = std::move(service.front());
  return out;
}

absl::Status StoreTx::InsertService(const std::string& cloud, const std::string& partner_id,
                                    const std::string& customer_id,
                                    const common::CustomerService& s) {
  return tx_
      .Execute("INSERT INTO customer_services (id, cloud, partner_id, customer_id, state, "
               "create_time, version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               {s.id(), cloud, partner_id, customer_id, static_cast<int>(s.state()),
                Micros(s.create_time()), s.version(), Bytes{s.SerializeAsString()}})
      .status();
}

absl::Status StoreTx::UpdateService(const std::string& cloud, const common::CustomerService& s,
                                    int64_t expected_version) {
  PC_ASSIGN_OR_RETURN(int64_t changed,
                      tx_.Execute("UPDATE customer_services SET state = $1, version = $2, "
                                  "data = $3 WHERE cloud = $4 AND id = $5 AND version = $6",
                                  {static_cast<int>(s.state()), s.version(),
                                   Bytes{s.SerializeAsString()}, cloud, s.id(),
                                   expected_version}));
  if (changed == 0) return absl::AbortedError("the service was changed concurrently");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StoreTx::CountActiveServices(const std::string& cloud,
                                                     const std::string& partner_id,
                                                     const std::string& customer_id) {
  PC_ASSIGN_OR_RETURN(Row row,
                      tx_.QueryOne("SELECT COUNT(*) FROM customer_services WHERE cloud = $1 AND "
                                   "partner_id = $2 AND customer_id = $3 AND state <> $4",
                                   {cloud, partner_id, customer_id,
                                    static_cast<int>(common::SERVICE_STATE_CANCELED)}));
  return row.GetInt64(0);
}

absl::Status StoreTx::InsertUser(const std::string& cloud, const v1::CustomerUser& u) {
  PC_ASSIGN_OR_RETURN(
      int64_t inserted,
      tx_.Execute("INSERT INTO customer_users (id, cloud, customer_id, upn, data) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cloud, customer_id, upn) DO NOTHING",
                  {u.id(), cloud, u.customer_id(), absl::AsciiStrToLower(u.user_principal_name()),
                   Bytes{u.SerializeAsString()}}));
  if (inserted == 0) return absl::AlreadyExistsError("the customer already has this user");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::CustomerUser>> StoreTx::ListUsers(const std::string& cloud,
                                                                 const std::string& customer_id,
                                                                 const std::string& after_id,
                                                                 int limit) {
  return ParseMessages<v1::CustomerUser>(
      tx_.Query("SELECT data FROM customer_users WHERE cloud = $1 AND customer_id = $2 AND "
                "id > $3 ORDER BY id LIMIT $4",
                {cloud, customer_id, after_id, limit}));
}

absl::Status StoreTx::InsertServiceRequest(const std::string& cloud,
                                           const std::string& partner_id,
                                           const std::string& customer_id,
                                           const common::ServiceRequest& sr) {
  return tx_
      .Execute("INSERT INTO service_requests (id, cloud, partner_id, customer_id, create_time, "
               "data) VALUES ($1, $2, $3, $4, $5, $6)",
               {sr.id(), cloud, partner_id, customer_id, Micros(sr.create_time()),
                Bytes{sr.SerializeAsString()}})
      .status();
}

absl::StatusOr<std::vector<common::ServiceRequest>> StoreTx::ListServiceRequests(
    const std::string& cloud, const std::string& partner_id, const std::string& customer_id,
    int limit) {
  return ParseMessages<common::ServiceRequest>(
      tx_.Query("SELECT data FROM service_requests WHERE cloud = $1 AND partner_id = $2 AND "
                "customer_id = $3 ORDER BY create_time DESC, id DESC LIMIT $4",
                {cloud, partner_id, customer_id, limit}));
}

absl::Status StoreTx::AppendHistory(const std::string& cloud, const std::string& partner_id,
                                    const std::string& customer_id, const v1::HistoryEntry& e) {
  return tx_
      .Execute("INSERT INTO relationship_history (cloud, partner_id, customer_id, sequence, data) "
               "VALUES ($1, $2, $3, $4, $5)",
               {cloud, partner_id, customer_id, e.sequence(), Bytes{e.SerializeAsString()}})
      .status();
}

absl::StatusOr<std::vector<v1::HistoryEntry>> StoreTx::ListHistory(
    const std::string& cloud, const std::string& partner_id, const std::string& customer_id,
    int64_t after_sequence, int limit, bool newest_first) {
  if (newest_first) {
    return ParseMessages<v1::HistoryEntry>(
        tx_.Query("SELECT data FROM relationship_history WHERE cloud = $1 AND partner_id = $2 "
                  "AND customer_id = $3 ORDER BY sequence DESC LIMIT $4",
                  {cloud, partner_id, customer_id, limit}));
  }
  return ParseMessages<v1::HistoryEntry>(
      tx_.Query("SELECT data FROM relationship_history WHERE cloud = $1 AND partner_id = $2 AND "
                "customer_id = $3 AND sequence > $4 ORDER BY sequence LIMIT $5",
                {cloud, partner_id, customer_id, after_sequence, limit}));
}

absl::StatusOr<std::optional<RequestRecord>> StoreTx::GetRequest(const std::string& tenant_id,
                                                                 const std::string& request_id) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT method, request_hash, response FROM relationship_requests "
                                "WHERE tenant_id = $1 AND request_id = $2",
                                {tenant_id, request_id}));
  if (rows.empty()) return std::nullopt;
  RequestRecord r;
  PC_ASSIGN_OR_RETURN(r.method, rows[0].GetText(0));
  PC_ASSIGN_OR_RETURN(r.request_hash, rows[0].GetText(1));
  PC_ASSIGN_OR_RETURN(r.response, rows[0].GetBytes(2));
  return r;
}

absl::Status StoreTx::PutRequest(const std::string& tenant_id, const std::string& request_id,
                                 const RequestRecord& r, absl::Time now) {
  return tx_
      .Execute("INSERT INTO relationship_requests (tenant_id, request_id, method, request_hash, "
               "response, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
               {tenant_id, request_id, r.method, r.request_hash, Bytes{r.response},
                absl::ToUnixMicros(now)})
      .status();
}

absl::StatusOr<int64_t> StoreTx::AppliedInvitationVersion(const std::string& invitation_id) {
  PC_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx_.Query("SELECT version FROM applied_invitations WHERE invitation_id = $1",
                {invitation_id}));
  if (rows.empty()) return 0;
  return rows[0].GetInt64(0);
}

absl::Status StoreTx::SetAppliedInvitationVersion(const std::string& invitation_id,
                                                  int64_t version) {
  return tx_
      .Execute("INSERT INTO applied_invitations (invitation_id, version) VALUES ($1, $2) "
               "ON CONFLICT (invitation_id) DO UPDATE SET version = excluded.version",
               {invitation_id, version})
      .status();
}

absl::Status StoreTx::Emit(const partnercenter::events::v1::EventEnvelope& e) {
  return pc::storage::Outbox::Append(
      tx_, {.topic = pc::kafka::RelationshipTopic(pc::events::CloudName(e.cloud())),
            .key = e.aggregate_id(),
            .event_id = e.event_id(),
            .event_type = e.type(),
            .payload = e.SerializeAsString(),
            .headers = pc::events::KafkaHeaders(e),
            .aggregate_key = e.aggregate_id()});
}

absl::Status RelationshipStore::Migrate(pc::storage::Database& db) {
  PC_RETURN_IF_ERROR(pc::storage::MigrateOutboxAndInbox(db));
  return pc::storage::Migrate(db, "relationship", kMigrations);
}

absl::Status RelationshipStore::InTransaction(const std::function<absl::Status(StoreTx&)>& fn) {
  return db_.InTransaction([&](pc::storage::Transaction& tx) {
    StoreTx store_tx(tx);
    return fn(store_tx);
  });
}

absl::Status RelationshipStore::InReadTransaction(
    const std::function<absl::Status(StoreTx&)>& fn) {
  return db_.InReadTransaction([&](pc::storage::Transaction& tx) {
    StoreTx store_tx(tx);
    return fn(store_tx);
  });
}

}  // namespace pc::relationship
