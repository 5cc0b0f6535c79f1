#include "store.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/status_macros.h"
#include "pc/storage/inbox.h"
#include "pc/storage/keyset.h"
#include "pc/storage/migrations.h"
#include "pc/storage/proto_rows.h"

namespace pc::notification {
namespace {

using google::protobuf::util::TimeUtil;
using pc::storage::Bytes;
using pc::storage::ParseFirstMessage;
using pc::storage::ParseMessages;
using pc::storage::Row;
using pc::storage::Value;

const std::vector<pc::storage::Migration> kMigrations = {
    {1, "create read models and change feeds",
     R"sql(
CREATE TABLE customer_rows (
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  active INTEGER NOT NULL,
  admin_access INTEGER NOT NULL,
  sort_name TEXT NOT NULL,
  sort_domain TEXT NOT NULL,
  last_change BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, partner_id, customer_id)
);
CREATE TABLE partner_rows (
  cloud TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  active INTEGER NOT NULL,
  sort_name TEXT NOT NULL,
  last_change BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, customer_id, partner_id)
);
CREATE TABLE invitation_rows (
  cloud TEXT NOT NULL,
  invitation_id TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, invitation_id)
);
CREATE INDEX invitation_rows_by_partner ON invitation_rows (cloud, partner_id, create_time);
CREATE TABLE relationship_services (
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  service_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  licenses INTEGER NOT NULL,
  PRIMARY KEY (cloud, partner_id, customer_id, service_id)
);
CREATE TABLE feed_heads (
  cloud TEXT NOT NULL,
  feed TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  last_sequence BIGINT NOT NULL,
  PRIMARY KEY (cloud, feed, owner_id)
);
CREATE TABLE feed_changes (
  cloud TEXT NOT NULL,
  feed TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  data {{bytes}} NOT NULL,
  PRIMARY KEY (cloud, feed, owner_id, sequence)
);
)sql",
     ""},
    {2, "feed changes carry when they were appended (retention)",
     R"sql(
ALTER TABLE feed_changes ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX feed_changes_by_age ON feed_changes (created_at);
)sql",
     ""},
    {3, "one feed row per event, numbered by one clock per cloud; page indexes",
     R"sql(
CREATE TABLE feed_clock (
  cloud TEXT NOT NULL PRIMARY KEY,
  last_sequence BIGINT NOT NULL,
  pruned_through BIGINT NOT NULL
);
CREATE TABLE feed_events (
  cloud TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  partner_change {{bytes}} NOT NULL,
  customer_change {{bytes}},
  PRIMARY KEY (cloud, sequence)
);
CREATE INDEX feed_events_by_partner ON feed_events (cloud, partner_id, sequence);
CREATE INDEX feed_events_by_customer ON feed_events (cloud, customer_id, sequence);
CREATE INDEX feed_events_by_age ON feed_events (created_at);
INSERT INTO feed_clock (cloud, last_sequence, pruned_through)
  SELECT cloud, MAX(last_sequence), MAX(last_sequence) FROM feed_heads GROUP BY cloud;
DROP TABLE feed_changes;
DROP TABLE feed_heads;
CREATE TABLE relationship_rows (
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  active INTEGER NOT NULL,
  admin_access INTEGER NOT NULL,
  customer_sort TEXT NOT NULL,
  domain_sort TEXT NOT NULL,
  partner_sort TEXT NOT NULL,
  last_change BIGINT NOT NULL,
  customer_row {{bytes}} NOT NULL,
  partner_row {{bytes}} NOT NULL,
  name_domain_lcp INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (cloud, partner_id, customer_id)
){{without_rowid}};
INSERT INTO relationship_rows (cloud, partner_id, customer_id, active, admin_access, customer_sort,
                               domain_sort, partner_sort, last_change, customer_row, partner_row)
  SELECT c.cloud, c.partner_id, c.customer_id, c.active, c.admin_access, c.sort_name,
         c.sort_domain, p.sort_name, c.last_change, c.data, p.data
  FROM customer_rows c JOIN partner_rows p
    ON p.cloud = c.cloud AND p.customer_id = c.customer_id AND p.partner_id = c.partner_id;
DROP TABLE customer_rows;
DROP TABLE partner_rows;
CREATE INDEX relationship_rows_by_name
  ON relationship_rows (cloud, partner_id, active, customer_sort, customer_id);
CREATE INDEX relationship_rows_by_change
  ON relationship_rows (cloud, partner_id, active, last_change, customer_id);
CREATE INDEX relationship_rows_by_customer
  ON relationship_rows (cloud, customer_id, active, partner_sort, partner_id);
CREATE INDEX relationship_rows_by_domain ON relationship_rows
  (cloud, partner_id, active, name_domain_lcp, domain_sort, customer_sort, customer_id);
CREATE INDEX relationship_rows_by_admin_name
  ON relationship_rows (cloud, partner_id, active, admin_access, customer_sort, customer_id);
CREATE INDEX relationship_rows_by_admin_change
  ON relationship_rows (cloud, partner_id, active, admin_access, last_change, customer_id);
)sql",
     ""},
};

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

// Appends the keyset condition and ORDER BY for a page.
// The keyset query of a page (pc/storage/keyset.h): `where` selects the owner's active rows,
// `arms` narrow them (one index range each), the cursor continues after the last row.
std::string PageSql(const PageQuery& q, std::string where, std::vector<pc::storage::KeysetArm> arms,
                    const char* table_data_col, const char* name_col, const char* id_col,
                    std::vector<Value>* params, pc::storage::Dialect dialect) {
  auto param = [&](Value v) {
    params->push_back(std::move(v));
    return absl::StrCat("$", params->size());
  };
  const char* key = q.by_last_change ? "last_change" : name_col;
  std::string keyset;
  if (q.after_key.has_value()) {
    Value k = *q.after_key;
    if (q.by_last_change) {
      int64_t v = 0;
      (void)absl::SimpleAtoi(*q.after_key, &v);
      k = v;
    }
    const std::string kp = param(std::move(k));
    keyset = pc::storage::KeysetAfter(key, id_col, q.by_last_change, kp, param(q.after_id));
  }
  return pc::storage::KeysetSql({.table = "relationship_rows",
                                 .data_col = table_data_col,
                                 .where = std::move(where),
                                 .arms = std::move(arms),
                                 .keyset = keyset,
                                 .key_col = key,
                                 .id_col = id_col,
                                 .descending = q.by_last_change,
                                 .limit = param(q.limit)},
                                dialect);
}

}  // namespace

absl::StatusOr<bool> StoreTx::FirstDelivery(const std::string& consumer_group,
                                            const std::string& event_id) {
  return pc::storage::Inbox::TryInsert(tx_, consumer_group, event_id);
}

absl::StatusOr<std::optional<RelationshipRows>> StoreTx::GetRelationship(
    const std::string& cloud, const std::string& partner_id, const std::string& customer_id) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT customer_row, partner_row FROM relationship_rows WHERE "
                                "cloud = $1 AND partner_id = $2 AND customer_id = $3",
                                {cloud, partner_id, customer_id}));
  if (rows.empty()) return std::nullopt;
  RelationshipRows out;
  PC_ASSIGN_OR_RETURN(std::string customer, rows[0].GetBytes(0));
  PC_ASSIGN_OR_RETURN(std::string partner, rows[0].GetBytes(1));
  if (!out.customer.ParseFromString(customer) || !out.partner.ParseFromString(partner)) {
    return absl::DataLossError("corrupt relationship row");
  }
  return out;
}

absl::Status StoreTx::PutRelationship(const std::string& cloud, const v1::CustomerRow& c,
                                      const v1::PartnerRow& p) {
  const std::string name = absl::AsciiStrToLower(c.company_name());
  const std::string domain = absl::AsciiStrToLower(c.primary_domain());
  return tx_
      .Execute(
          "INSERT INTO relationship_rows (cloud, partner_id, customer_id, active, admin_access, "
          "customer_sort, domain_sort, partner_sort, last_change, customer_row, partner_row, "
          "name_domain_lcp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
          "ON CONFLICT (cloud, partner_id, customer_id) DO UPDATE SET active = excluded.active, "
          "admin_access = excluded.admin_access, customer_sort = excluded.customer_sort, "
          "domain_sort = excluded.domain_sort, partner_sort = excluded.partner_sort, "
          "last_change = excluded.last_change, customer_row = excluded.customer_row, "
          "partner_row = excluded.partner_row, name_domain_lcp = excluded.name_domain_lcp",
          {cloud, c.partner_id(), c.customer_id(),
           c.relationship_state() == common::RELATIONSHIP_STATE_REMOVED ? 0 : 1,
           static_cast<int>(c.admin_access()), name, domain,
           absl::AsciiStrToLower(p.partner_display_name()), Micros(c.last_change().occurred_at()),
           Bytes{c.SerializeAsString()}, Bytes{p.SerializeAsString()},
           pc::storage::CommonPrefixLength(name, domain)})
      .status();
}

absl::StatusOr<std::optional<v1::InvitationRow>> StoreTx::GetInvitationRow(
    const std::string& cloud, const std::string& id) {
  return ParseFirstMessage<v1::InvitationRow>(tx_.Query(
      "SELECT data FROM invitation_rows WHERE cloud = $1 AND invitation_id = $2", {cloud, id}));
}

absl::Status StoreTx::PutInvitationRow(const std::string& cloud, const v1::InvitationRow& r) {
  return tx_
      .Execute("INSERT INTO invitation_rows (cloud, invitation_id, partner_id, create_time, data) "
               "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cloud, invitation_id) DO UPDATE SET "
               "partner_id = excluded.partner_id, create_time = excluded.create_time, "
               "data = excluded.data",
               {cloud, r.invitation_id(), r.partner_id(), Micros(r.create_time()),
                Bytes{r.SerializeAsString()}})
      .status();
}

absl::Status StoreTx::PutService(const std::string& cloud, const std::string& partner_id,
                                 const std::string& customer_id,
                                 const common::CustomerService& s) {
  return tx_
      .Execute("INSERT INTO relationship_services (cloud, partner_id, customer_id, service_id, "
               "state, licenses) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cloud, partner_id, "
               "customer_id, service_id) DO UPDATE SET state = excluded.state, "
               "licenses = excluded.licenses",
               {cloud, partner_id, customer_id, s.id(), static_cast<int>(s.state()),
                s.license_quantity()})
      .status();
}

absl::StatusOr<std::pair<int32_t, int32_t>> StoreTx::ServiceTotals(const std::string& cloud,
                                                                   const std::string& partner_id,
                                                                   const std::string& customer_id) {
  PC_ASSIGN_OR_RETURN(
      Row row, tx_.QueryOne("SELECT COUNT(*), COALESCE(SUM(licenses), 0) FROM relationship_services "
                            "WHERE cloud = $1 AND partner_id = $2 AND customer_id = $3 AND state <> $4",
                            {cloud, partner_id, customer_id,
                             static_cast<int>(common::SERVICE_STATE_CANCELED)}));
  PC_ASSIGN_OR_RETURN(int64_t count, row.GetInt64(0));
  PC_ASSIGN_OR_RETURN(int64_t licenses, row.GetInt64(1));
  return std::make_pair(static_cast<int32_t>(count), static_cast<int32_t>(licenses));
}

absl::StatusOr<std::vector<v1::CustomerRow>> StoreTx::CustomerRows(const PageQuery& q) {
  std::vector<Value> params = {q.cloud, q.owner_id};
  auto param = [&](Value v) {
    params.push_back(std::move(v));
    return absl::StrCat("$", params.size());
  };
  // One arm per admin state asked for (index by state then the order), each split into a
  // name range and a domain-only range for a prefix.
  std::vector<pc::storage::KeysetArm> arms = {{}};
  if (!q.admin_access.empty()) {
    arms.clear();
    for (int a : q.admin_access) arms.push_back({absl::StrCat(" AND admin_access = ", param(a))});
  }
  if (!q.name_prefix.empty()) {
    const std::string lo = param(q.name_prefix);
    const std::string hi = param(q.name_prefix + "\xef\xbf\xbf");
    arms = pc::storage::SplitByNameOrDomainPrefix(
        arms, {.name_col = "customer_sort",
               .domain_col = "domain_sort",
               .lcp_col = "name_domain_lcp",
               .domain_index = "relationship_rows_by_domain",
               .lo = lo,
               .hi = hi,
               .prefix_length = static_cast<int>(q.name_prefix.size())});
  }
  const std::string sql =
      PageSql(q, " WHERE cloud = $1 AND partner_id = $2 AND active = 1", std::move(arms),
              "customer_row", "customer_sort", "customer_id", &params, tx_.dialect());
  return ParseMessages<v1::CustomerRow>(tx_.Query(sql, params));
}

absl::StatusOr<std::vector<v1::PartnerRow>> StoreTx::PartnerRows(const PageQuery& q) {
  std::vector<Value> params = {q.cloud, q.owner_id};
  const std::string sql =
      PageSql(q, " WHERE cloud = $1 AND customer_id = $2 AND active = 1", {{}}, "partner_row",
              "partner_sort", "partner_id", &params, tx_.dialect());
  return ParseMessages<v1::PartnerRow>(tx_.Query(sql, params));
}

absl::StatusOr<std::vector<v1::InvitationRow>> StoreTx::InvitationRows(
    const std::string& cloud, const std::string& partner_id, int limit) {
  return ParseMessages<v1::InvitationRow>(
      tx_.Query("SELECT data FROM invitation_rows WHERE cloud = $1 AND partner_id = $2 "
                "ORDER BY create_time DESC, invitation_id DESC LIMIT $3",
                {cloud, partner_id, limit}));
}

absl::StatusOr<int64_t> StoreTx::NextSequence(const std::string& cloud) {
  if (!clock_.has_value()) {
    // Locks the cloud's clock row until commit (PostgreSQL: other replicas' writers wait
    // here), so sequences become visible in commit order: once any sequence is visible,
    // every smaller one is too. Written back once, by FlushSequences.
    PC_ASSIGN_OR_RETURN(
        Row row, tx_.QueryOne("INSERT INTO feed_clock (cloud, last_sequence, pruned_through) "
                              "VALUES ($1, 0, 0) ON CONFLICT (cloud) DO UPDATE "
                              "SET last_sequence = feed_clock.last_sequence "
                              "RETURNING last_sequence",
                              {cloud}));
    PC_ASSIGN_OR_RETURN(int64_t last, row.GetInt64(0));
    clock_ = Clock{.cloud = cloud, .last = last, .stored = last};
  }
  if (clock_->cloud != cloud) return absl::InternalError("one transaction, one cloud's feeds");
  return ++clock_->last;
}

absl::Status StoreTx::FlushSequences() {
  if (!clock_.has_value() || clock_->last == clock_->stored) return absl::OkStatus();
  PC_RETURN_IF_ERROR(tx_.Execute("UPDATE feed_clock SET last_sequence = $1 WHERE cloud = $2",
                                 {clock_->last, clock_->cloud})
                         .status());
  clock_->stored = clock_->last;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StoreTx::AppendChange(const std::string& cloud,
                                              const std::string& partner_id,
                                              const std::string& customer_id,
                                              const std::function<std::string(int64_t)>& partner_change,
                                              const std::function<std::string(int64_t)>& customer_change) {
  PC_ASSIGN_OR_RETURN(int64_t sequence, NextSequence(cloud));
  std::vector<Value> params = {cloud, sequence, partner_id, customer_id,
                               absl::ToUnixMicros(absl::Now()), Bytes{partner_change(sequence)}};
  params.push_back(customer_change ? Value(Bytes{customer_change(sequence)}) : Value(nullptr));
  PC_RETURN_IF_ERROR(
      tx_.Execute("INSERT INTO feed_events (cloud, sequence, partner_id, customer_id, created_at, "
                  "partner_change, customer_change) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  params)
          .status());
  return sequence;
}

absl::StatusOr<int64_t> StoreTx::Head(const std::string& cloud) {
  if (clock_.has_value() && clock_->cloud == cloud) return clock_->last;
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT last_sequence FROM feed_clock WHERE cloud = $1", {cloud}));
  if (rows.empty()) return 0;
  return rows[0].GetInt64(0);
}

absl::StatusOr<int64_t> StoreTx::PrunedThrough(const std::string& cloud) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT pruned_through FROM feed_clock WHERE cloud = $1", {cloud}));
  if (rows.empty()) return 0;
  return rows[0].GetInt64(0);
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> StoreTx::ChangesAfter(
    const std::string& cloud, Feed feed, const std::string& owner_id, int64_t after, int limit) {
  PC_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx_.Query(feed == Feed::kPartner
                    ? "SELECT sequence, partner_change FROM feed_events WHERE cloud = $1 AND "
                      "partner_id = $2 AND sequence > $3 ORDER BY sequence LIMIT $4"
                    : "SELECT sequence, customer_change FROM feed_events WHERE cloud = $1 AND "
                      "customer_id = $2 AND sequence > $3 AND customer_change IS NOT NULL "
                      "ORDER BY sequence LIMIT $4",
                {cloud, owner_id, after, limit}));
  std::vector<std::pair<int64_t, std::string>> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    PC_ASSIGN_OR_RETURN(int64_t seq, row.GetInt64(0));
    PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes(1));
    out.emplace_back(seq, std::move(data));
  }
  return out;
}

absl::StatusOr<int64_t> NotificationStore::PruneFeed(absl::Time cutoff) {
  int64_t deleted = 0;
  PC_RETURN_IF_ERROR(db_.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
    const int64_t micros = absl::ToUnixMicros(cutoff);
    // Resume points at or before the newest deleted change now have a gap: record it first,
    // under the clock's row lock, so a resume check never passes over a deleted change.
    PC_ASSIGN_OR_RETURN(std::vector<Row> newest,
                        tx.Query("SELECT cloud, MAX(sequence) FROM feed_events WHERE "
                                 "created_at < $1 GROUP BY cloud",
                                 {micros}));
    for (const Row& row : newest) {
      PC_ASSIGN_OR_RETURN(std::string cloud, row.GetText(0));
      PC_ASSIGN_OR_RETURN(int64_t through, row.GetInt64(1));
      PC_RETURN_IF_ERROR(tx.Execute("UPDATE feed_clock SET pruned_through = $1 "
                                    "WHERE cloud = $2 AND pruned_through < $1",
                                    {through, cloud})
                             .status());
    }
    PC_ASSIGN_OR_RETURN(deleted,
                        tx.Execute("DELETE FROM feed_events WHERE created_at < $1", {micros}));
    return absl::OkStatus();
  }));
  return deleted;
}

absl::Status NotificationStore::Migrate(pc::storage::Database& db) {
  PC_RETURN_IF_ERROR(pc::storage::MigrateOutboxAndInbox(db));
  return pc::storage::Migrate(db, "notification", kMigrations);
}

absl::Status NotificationStore::InTransaction(const std::function<absl::Status(StoreTx&)>& fn) {
  return db_.InTransaction([&](pc::storage::Transaction& tx) {
    StoreTx store_tx(tx);
    PC_RETURN_IF_ERROR(fn(store_tx));
    return store_tx.FlushSequences();
  });
}

absl::Status NotificationStore::InReadTransaction(const std::function<absl::Status(StoreTx&)>& fn) {
  return db_.InReadTransaction([&](pc::storage::Transaction& tx) {
    StoreTx store_tx(tx);
    return fn(store_tx);
  });
}

absl::StatusOr<std::vector<std::string>> NotificationStore::DumpReadModels() {
  std::vector<std::string> out;
  PC_RETURN_IF_ERROR(db_.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
    for (const auto& [label, sql] : std::vector<std::pair<const char*, const char*>>{
             {"customer_rows", "SELECT customer_row FROM relationship_rows"},
             {"partner_rows", "SELECT partner_row FROM relationship_rows"},
             {"invitation_rows", "SELECT data FROM invitation_rows"}}) {
      PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql));
      for (const Row& row : rows) {
        PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes(0));
        out.push_back(absl::StrCat(label, ":", data));
      }
    }
    return absl::OkStatus();
  }));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pc::notification
