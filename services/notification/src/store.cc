#include "store.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/status_macros.h"
#include "pc/storage/inbox.h"
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
};

const char* FeedName(Feed f) { return f == Feed::kPartner ? "partner" : "customer"; }

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

// Appends the keyset condition and ORDER BY for a page.
void Page(const PageQuery& q, const char* id_col, bool has_domain, std::string* sql,
          std::vector<Value>* params) {
  auto param = [&](Value v) {
    params->push_back(std::move(v));
    return absl::StrCat("$", params->size());
  };
  if (!q.name_prefix.empty()) {
    const std::string lo = param(q.name_prefix);
    const std::string hi = param(q.name_prefix + "\xef\xbf\xbf");
    absl::StrAppend(sql, " AND ((sort_name >= ", lo, " AND sort_name < ", hi, ")");
    if (has_domain) absl::StrAppend(sql, " OR (sort_domain >= ", lo, " AND sort_domain < ", hi, ")");
    absl::StrAppend(sql, ")");
  }
  const char* key = q.by_last_change ? "last_change" : "sort_name";
  const char* cmp = q.by_last_change ? "<" : ">";
  const char* dir = q.by_last_change ? " DESC" : " ASC";
  if (q.after_key.has_value()) {
    Value k = *q.after_key;
    if (q.by_last_change) {
      int64_t v = 0;
      (void)absl::SimpleAtoi(*q.after_key, &v);
      k = v;
    }
    const std::string kp = param(std::move(k));
    const std::string ip = param(q.after_id);
    absl::StrAppend(sql, " AND (", key, " ", cmp, " ", kp, " OR (", key, " = ", kp, " AND ", id_col,
                    " ", cmp, " ", ip, "))");
  }
  absl::StrAppend(sql, " ORDER BY ", key, dir, ", ", id_col, dir, " LIMIT ", param(q.limit));
}

}  // namespace

absl::StatusOr<bool> StoreTx::FirstDelivery(const std::string& consumer_group,
                                            const std::string& event_id) {
  return pc::storage::Inbox::TryInsert(tx_, consumer_group, event_id);
}

absl::StatusOr<std::optional<v1::CustomerRow>> StoreTx::GetCustomerRow(
    const std::string& cloud, const std::string& partner_id, const std::string& customer_id) {
  return ParseFirstMessage<v1::CustomerRow>(tx_.Query(
      "SELECT data FROM customer_rows WHERE cloud = $1 AND partner_id = $2 AND customer_id = $3",
      {cloud, partner_id, customer_id}));
}

absl::Status StoreTx::PutCustomerRow(const std::string& cloud, const v1::CustomerRow& r) {
  return tx_
      .Execute(
          "INSERT INTO customer_rows (cloud, partner_id, customer_id, admin_access, sort_name, "
          "sort_domain, last_change, data, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
          "ON CONFLICT (cloud, partner_id, customer_id) DO UPDATE SET active = excluded.active, "
          "admin_access = excluded.admin_access, sort_name = excluded.sort_name, "
          "sort_domain = excluded.sort_domain, last_change = excluded.last_change, "
          "data = excluded.data",
          {cloud, r.partner_id(), r.customer_id(), static_cast<int>(r.admin_access()),
           absl::AsciiStrToLower(r.company_name()), absl::AsciiStrToLower(r.primary_domain()),
           Micros(r.last_change().occurred_at()), Bytes{r.SerializeAsString()},
           r.relationship_state() == common::RELATIONSHIP_STATE_REMOVED ? 0 : 1})
      .status();
}

absl::StatusOr<std::optional<v1::PartnerRow>> StoreTx::GetPartnerRow(
    const std::string& cloud, const std::string& customer_id, const std::string& partner_id) {
  return ParseFirstMessage<v1::PartnerRow>(tx_.Query(
      "SELECT data FROM partner_rows WHERE cloud = $1 AND customer_id = $2 AND partner_id = $3",
      {cloud, customer_id, partner_id}));
}

absl::Status StoreTx::PutPartnerRow(const std::string& cloud, const v1::PartnerRow& r) {
  return tx_
      .Execute("INSERT INTO partner_rows (cloud, customer_id, partner_id, sort_name, last_change, "
               "data, active) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cloud, customer_id, "
               "partner_id) DO UPDATE SET sort_name = excluded.sort_name, "
               "last_change = excluded.last_change, data = excluded.data, active = excluded.active",
               {cloud, r.customer_id(), r.partner_id(),
                absl::AsciiStrToLower(r.partner_display_name()),
                Micros(r.last_change().occurred_at()), Bytes{r.SerializeAsString()},
                r.relationship_state() == common::RELATIONSHIP_STATE_REMOVED ? 0 : 1})
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
  std::string sql =
      "SELECT data FROM customer_rows WHERE cloud = $1 AND partner_id = $2 AND active = 1";
  if (!q.admin_access.empty()) {
    std::string in;
    for (int a : q.admin_access) {
      params.push_back(a);
      absl::StrAppend(&in, in.empty() ? "" : ", ", "$", params.size());
    }
    absl::StrAppend(&sql, " AND admin_access IN (", in, ")");
  }
  Page(q, "customer_id", /*has_domain=*/true, &sql, &params);
  return ParseMessages<v1::CustomerRow>(tx_.Query(sql, params));
}

absl::StatusOr<std::vector<v1::PartnerRow>> StoreTx::PartnerRows(const PageQuery& q) {
  std::vector<Value> params = {q.cloud, q.owner_id};
  std::string sql =
      "SELECT data FROM partner_rows WHERE cloud = $1 AND customer_id = $2 AND active = 1";
  Page(q, "partner_id", /*has_domain=*/false, &sql, &params);
  return ParseMessages<v1::PartnerRow>(tx_.Query(sql, params));
}

absl::StatusOr<std::vector<v1::InvitationRow>> StoreTx::InvitationRows(
    const std::string& cloud, const std::string& partner_id, int limit) {
  return ParseMessages<v1::InvitationRow>(
      tx_.Query("SELECT data FROM invitation_rows WHERE cloud = $1 AND partner_id = $2 "
                "ORDER BY create_time DESC, invitation_id DESC LIMIT $3",
                {cloud, partner_id, limit}));
}

absl::StatusOr<int64_t> StoreTx::AppendChange(
    const std::string& cloud, Feed feed, const std::string& owner_id,
    const std::function<std::string(int64_t)>& serialize) {
  // The head row is locked by the upsert until commit, so sequences commit in order per feed
  // (a reader never sees N+1 before N), also with several replicas on PostgreSQL.
  PC_ASSIGN_OR_RETURN(
      Row row, tx_.QueryOne("INSERT INTO feed_heads (cloud, feed, owner_id, last_sequence) "
                            "VALUES ($1, $2, $3, 1) ON CONFLICT (cloud, feed, owner_id) DO UPDATE "
                            "SET last_sequence = feed_heads.last_sequence + 1 "
                            "RETURNING last_sequence",
                            {cloud, FeedName(feed), owner_id}));
  PC_ASSIGN_OR_RETURN(int64_t sequence, row.GetInt64(0));
  PC_RETURN_IF_ERROR(
      tx_.Execute("INSERT INTO feed_changes (cloud, feed, owner_id, sequence, data, created_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6)",
                  {cloud, FeedName(feed), owner_id, sequence, Bytes{serialize(sequence)},
                   absl::ToUnixMicros(absl::Now())})
          .status());
  return sequence;
}

absl::StatusOr<int64_t> StoreTx::Head(const std::string& cloud, Feed feed,
                                      const std::string& owner_id) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT last_sequence FROM feed_heads WHERE cloud = $1 AND "
                                "feed = $2 AND owner_id = $3",
                                {cloud, FeedName(feed), owner_id}));
  if (rows.empty()) return 0;
  return rows[0].GetInt64(0);
}

absl::StatusOr<std::optional<int64_t>> StoreTx::OldestRetained(const std::string& cloud, Feed feed,
                                                               const std::string& owner_id) {
  PC_ASSIGN_OR_RETURN(Row row, tx_.QueryOne("SELECT MIN(sequence) FROM feed_changes WHERE "
                                            "cloud = $1 AND feed = $2 AND owner_id = $3",
                                            {cloud, FeedName(feed), owner_id}));
  PC_ASSIGN_OR_RETURN(bool none, row.IsNull(0));
  if (none) return std::nullopt;
  PC_ASSIGN_OR_RETURN(int64_t oldest, row.GetInt64(0));
  return oldest;
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> StoreTx::ChangesAfter(
    const std::string& cloud, Feed feed, const std::string& owner_id, int64_t after, int limit) {
  PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx_.Query("SELECT sequence, data FROM feed_changes WHERE cloud = $1 AND "
                                "feed = $2 AND owner_id = $3 AND sequence > $4 "
                                "ORDER BY sequence LIMIT $5",
                                {cloud, FeedName(feed), owner_id, after, limit}));
  std::vector<std::pair<int64_t, std::string>> out;
  for (const Row& row : rows) {
    PC_ASSIGN_OR_RETURN(int64_t seq, row.GetInt64(0));
    PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes(1));
    out.emplace_back(seq, std::move(data));
  }
  return out;
}

absl::Status NotificationStore::Migrate(pc::storage::Database& db) {
  PC_RETURN_IF_ERROR(pc::storage::MigrateOutboxAndInbox(db));
  return pc::storage::Migrate(db, "notification", kMigrations);
}

absl::Status NotificationStore::InTransaction(const std::function<absl::Status(StoreTx&)>& fn) {
  return db_.InTransaction([&](pc::storage::Transaction& tx) {
    StoreTx store_tx(tx);
    return fn(store_tx);
  });
}

absl::StatusOr<std::vector<std::string>> NotificationStore::DumpReadModels() {
  std::vector<std::string> out;
  PC_RETURN_IF_ERROR(db_.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
    for (const char* table : {"customer_rows", "partner_rows", "invitation_rows"}) {
      PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(absl::StrCat("SELECT data FROM ", table)));
      for (const Row& row : rows) {
        PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes(0));
        out.push_back(absl::StrCat(table, ":", data));
      }
    }
    return absl::OkStatus();
  }));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pc::notification
