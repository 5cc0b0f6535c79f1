#include "sql_repository.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"

namespace pc::invitation {
namespace {

using google::protobuf::util::TimeUtil;
using pc::storage::Bytes;
using pc::storage::Row;
using pc::storage::Value;

const std::vector<pc::storage::Migration> kMigrations = {
    {1, "create invitations",
     R"sql(
CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  state INTEGER NOT NULL,
  hint_key TEXT NOT NULL,
  token_hash TEXT UNIQUE,
  create_time BIGINT NOT NULL,
  expire_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  data {{bytes}} NOT NULL
);
CREATE INDEX invitations_by_partner ON invitations (cloud, partner_id, create_time);
CREATE INDEX invitations_by_expiry ON invitations (state, expire_time);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (cloud, partner_id, hint_key, kind)
  WHERE state = 1;
CREATE TABLE invitation_requests (
  tenant_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  invitation_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, request_id)
);
)sql",
     ""},
};

constexpr char kColumns[] = "data, token_hash, hint_key";

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

absl::StatusOr<StoredInvitation> FromRow(const Row& row) {
  StoredInvitation out;
  PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes("data"));
  if (!out.invitation.ParseFromString(data)) return absl::DataLossError("corrupt invitation row");
  PC_ASSIGN_OR_RETURN(std::optional<std::string> hash, row.GetOptionalText("token_hash"));
  out.token_hash = hash.value_or("");
  PC_ASSIGN_OR_RETURN(out.hint_key, row.GetText("hint_key"));
  return out;
}

absl::StatusOr<std::optional<StoredInvitation>> FirstOrNone(
    absl::StatusOr<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  PC_ASSIGN_OR_RETURN(StoredInvitation out, FromRow(rows->front()));
  return out;
}

std::optional<std::string> NullIfEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

class SqlTx final : public RepositoryTx {
 public:
  explicit SqlTx(pc::storage::Transaction& tx) : tx_(tx) {}

  absl::StatusOr<std::optional<StoredInvitation>> Get(const std::string& id) override {
    return FirstOrNone(
        tx_.Query(absl::StrCat("SELECT ", kColumns, " FROM invitations WHERE id = $1"), {id}));
  }

  absl::StatusOr<std::optional<StoredInvitation>> GetByTokenHash(
      const std::string& token_hash) override {
    return FirstOrNone(tx_.Query(
        absl::StrCat("SELECT ", kColumns, " FROM invitations WHERE token_hash = $1"),
        {token_hash}));
  }

  absl::StatusOr<std::optional<std::string>> FindPending(const std::string& cloud,
                                                         const std::string& partner_id,
                                                         const std::string& hint_key,
                                                         int kind) override {
    PC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        tx_.Query("SELECT id FROM invitations WHERE cloud = $1 AND partner_id = $2 "
                                  "AND hint_key = $3 AND kind = $4 AND state = 1",
                                  {cloud, partner_id, hint_key, kind}));
    if (rows.empty()) return std::nullopt;
    PC_ASSIGN_OR_RETURN(std::string id, rows.front().GetText(0));
    return id;
  }

  absl::Status Insert(const StoredInvitation& s) override {
    const Invitation& inv = s.invitation;
    // Deferred: on PostgreSQL the create's trailing writes go out with its COMMIT (a unique
    // violation still comes back as ALREADY_EXISTS, from InTransaction).
    return tx_.ExecuteDeferred(
            "INSERT INTO invitations (id, cloud, partner_id, kind, state, hint_key, token_hash, "
            "create_time, expire_time, version, data) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            {inv.id(), pc::events::CloudName(inv.cloud()), inv.partner_id(),
             static_cast<int>(inv.kind()), static_cast<int>(inv.state()), s.hint_key,
             NullIfEmpty(s.token_hash), Micros(inv.create_time()), Micros(inv.expire_time()),
             inv.version(), Bytes{inv.SerializeAsString()}});
  }

  absl::Status Update(const StoredInvitation& s, int64_t expected_version) override {
    const Invitation& inv = s.invitation;
    PC_ASSIGN_OR_RETURN(
        int64_t changed,
        tx_.Execute("UPDATE invitations SET state = $1, token_hash = $2, expire_time = $3, "
                    "version = $4, data = $5 WHERE id = $6 AND version = $7",
                    {static_cast<int>(inv.state()), NullIfEmpty(s.token_hash),
                     Micros(inv.expire_time()), inv.version(), Bytes{inv.SerializeAsString()},
                     inv.id(), expected_version}));
    if (changed == 0) return absl::AbortedError("the invitation was changed concurrently");
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<StoredInvitation>> List(const ListQuery& q) override {
    std::vector<Value> params = {q.cloud, q.partner_id};
    std::string sql = absl::StrCat("SELECT ", kColumns,
                                   " FROM invitations WHERE cloud = $1 AND partner_id = $2");
    auto param = [&](Value v) {
      params.push_back(std::move(v));
      return absl::StrCat("$", params.size());
    };
    if (!q.states.empty()) {
      std::string in;
      for (int s : q.states) absl::StrAppend(&in, in.empty() ? "" : ", ", param(s));
      absl::StrAppend(&sql, " AND state IN (", in, ")");
    }
    if (!q.hint_key.empty()) absl::StrAppend(&sql, " AND hint_key = ", param(q.hint_key));
    if (q.created_after) {
      absl::StrAppend(&sql, " AND create_time >= ", param(absl::ToUnixMicros(*q.created_after)));
    }
    if (q.created_before) {
      absl::StrAppend(&sql, " AND create_time < ", param(absl::ToUnixMicros(*q.created_before)));
    }
    const bool by_create =
        q.order == ListOrder::kCreateTimeAsc || q.order == ListOrder::kCreateTimeDesc;
    const bool desc =
        q.order == ListOrder::kCreateTimeDesc || q.order == ListOrder::kExpireTimeDesc;
    const char* col = by_create ? "create_time" : "expire_time";
    const char* cmp = desc ? "<" : ">";
    if (q.after_key) {
      const std::string k = param(*q.after_key);
      const std::string id = param(q.after_id);
      absl::StrAppend(&sql, " AND (", col, " ", cmp, " ", k, " OR (", col, " = ", k, " AND id ",
                      cmp, " ", id, "))");
    }
    absl::StrAppend(&sql, " ORDER BY ", col, desc ? " DESC" : " ASC", ", id",
                    desc ? " DESC" : " ASC", " LIMIT ", param(q.limit));
    PC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx_.Query(sql, params));
    std::vector<StoredInvitation> out;
    out.reserve(rows.size());
    for (const Row& row : rows) {
      PC_ASSIGN_OR_RETURN(StoredInvitation s, FromRow(row));
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::vector<StoredInvitation>> DuePending(const std::string& cloud,
                                                           absl::Time now, int limit) override {
    PC_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx_.Query(absl::StrCat("SELECT ", kColumns,
                               " FROM invitations WHERE state = 1 AND cloud = $1 AND "
                               "expire_time <= $2 ORDER BY expire_time, id LIMIT $3"),
                  {cloud, absl::ToUnixMicros(now), limit}));
    std::vector<StoredInvitation> out;
    for (const Row& row : rows) {
      PC_ASSIGN_OR_RETURN(StoredInvitation s, FromRow(row));
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::optional<RequestRecord>> GetRequest(const std::string& tenant_id,
                                                          const std::string& request_id) override {
    PC_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx_.Query("SELECT method, request_hash, invitation_id FROM invitation_requests "
                  "WHERE tenant_id = $1 AND request_id = $2",
                  {tenant_id, request_id}));
    if (rows.empty()) return std::nullopt;
    RequestRecord r;
    PC_ASSIGN_OR_RETURN(r.method, rows[0].GetText(0));
    PC_ASSIGN_OR_RETURN(r.request_hash, rows[0].GetText(1));
    PC_ASSIGN_OR_RETURN(r.invitation_id, rows[0].GetText(2));
    return r;
  }

  absl::StatusOr<CreateCheck> CheckCreate(const std::string& tenant_id,
                                          const std::string& request_id, const std::string& cloud,
                                          const std::string& hint_key, int kind) override {
    PC_ASSIGN_OR_RETURN(
        Row row,
        tx_.QueryOne("SELECT r.method, r.request_hash, r.invitation_id, "
                     "(SELECT id FROM invitations WHERE cloud = $3 AND partner_id = $1 "
                     "AND hint_key = $4 AND kind = $5 AND state = 1) AS pending "
                     "FROM (SELECT 1 AS one) AS one LEFT JOIN invitation_requests r "
                     "ON r.tenant_id = $1 AND r.request_id = $2",
                     {tenant_id, request_id, cloud, hint_key, kind}));
    CreateCheck out;
    PC_ASSIGN_OR_RETURN(std::optional<std::string> method, row.GetOptionalText(0));
    if (method.has_value()) {
      RequestRecord r{.method = *std::move(method)};
      PC_ASSIGN_OR_RETURN(r.request_hash, row.GetText(1));
      PC_ASSIGN_OR_RETURN(r.invitation_id, row.GetText(2));
      out.seen = std::move(r);
    }
    PC_ASSIGN_OR_RETURN(out.pending, row.GetOptionalText(3));
    return out;
  }

  absl::Status PutRequest(const std::string& tenant_id, const std::string& request_id,
                          const RequestRecord& r, absl::Time now) override {
    return tx_.ExecuteDeferred(
        "INSERT INTO invitation_requests (tenant_id, request_id, method, request_hash, "
        "invitation_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        {tenant_id, request_id, r.method, r.request_hash, r.invitation_id,
         absl::ToUnixMicros(now)});
  }

  absl::Status Emit(const partnercenter::events::v1::EventEnvelope& e) override {
    return pc::storage::Outbox::Append(
        tx_, {.topic = pc::kafka::InvitationTopic(pc::events::CloudName(e.cloud())),
              .key = e.aggregate_id(),
              .event_id = e.event_id(),
              .event_type = e.type(),
              .payload = e.SerializeAsString(),
              .headers = pc::events::KafkaHeaders(e),
              .aggregate_key = e.aggregate_id()});
  }

 private:
  pc::storage::Transaction& tx_;
};

}  // namespace

absl::Status SqlRepository::Migrate(pc::storage::Database& db) {
  PC_RETURN_IF_ERROR(pc::storage::MigrateOutboxAndInbox(db));
  return pc::storage::Migrate(db, "invitation", kMigrations);
}

absl::Status SqlRepository::InTransaction(const std::function<absl::Status(RepositoryTx&)>& fn) {
  return db_.InTransaction([&](pc::storage::Transaction& tx) {
    SqlTx repo_tx(tx);
    return fn(repo_tx);
  });
}

}  // namespace pc::invitation
