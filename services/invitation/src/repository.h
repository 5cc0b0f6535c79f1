// What the invitation domain needs from storage. Every method runs inside one transaction
// (`InTransaction`), so a state change, its idempotency record and its outbox event commit or
// roll back together. SqlRepository (sql_repository.h) implements it on SQLite and PostgreSQL.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnercenter/events/v1/events.pb.h"
#include "partnercenter/invitation/v1/invitation_service.pb.h"

namespace pc::invitation {

using partnercenter::invitation::v1::Invitation;

struct StoredInvitation {
  Invitation invitation;  // email_body holds kLinkPlaceholder, never the link
  std::string token_hash;
  // "domain:<email domain>", "tenant:<tenant id>" or "" — for the one-pending rule.
  std::string hint_key;
};

// A mutating call already handled under (tenant, request_id).
struct RequestRecord {
  std::string method;
  std::string request_hash;  // SHA-256 of the request without its request_id
  std::string invitation_id;
};

enum class ListOrder { kCreateTimeDesc, kCreateTimeAsc, kExpireTimeAsc, kExpireTimeDesc };

struct ListQuery {
  std::string cloud;
  std::string partner_id;
  std::vector<int> states;  // InvitationState values; empty = all
  std::string hint_key;     // "" = any
  std::optional<absl::Time> created_after;
  std::optional<absl::Time> created_before;
  ListOrder order = ListOrder::kCreateTimeDesc;
  int limit = 50;
  // Keyset cursor: rows strictly after (after_key, after_id) in `order`.
  std::optional<int64_t> after_key;  // unix micros of the sort column
  std::string after_id;
};

class RepositoryTx {
 public:
  virtual ~RepositoryTx() = default;
  virtual absl::StatusOr<std::optional<StoredInvitation>> Get(const std::string& id) = 0;
  virtual absl::StatusOr<std::optional<StoredInvitation>> GetByTokenHash(
      const std::string& token_hash) = 0;
  // The PENDING invitation of (cloud, partner, hint_key, kind), if any.
  virtual absl::StatusOr<std::optional<std::string>> FindPending(const std::string& cloud,
                                                                 const std::string& partner_id,
                                                                 const std::string& hint_key,
                                                                 int kind) = 0;
  virtual absl::Status Insert(const StoredInvitation& invitation) = 0;
  // Writes `invitation` if its stored version is still `expected_version` (ABORTED otherwise).
  virtual absl::Status Update(const StoredInvitation& invitation, int64_t expected_version) = 0;
  virtual absl::StatusOr<std::vector<StoredInvitation>> List(const ListQuery& query) = 0;
  // PENDING invitations whose expire_time ≤ now, oldest first.
  virtual absl::StatusOr<std::vector<StoredInvitation>> DuePending(const std::string& cloud,
                                                                   absl::Time now,
                                                                   int limit) = 0;
  virtual absl::StatusOr<std::optional<RequestRecord>> GetRequest(const std::string& tenant_id,
                                                                  const std::string& request_id) = 0;
  // GetRequest(tenant_id, request_id) and FindPending(cloud, tenant_id, hint_key, kind) in one
  // statement (one round trip): what Create needs to know before it writes.
  struct CreateCheck {
    std::optional<RequestRecord> seen;
    std::optional<std::string> pending;
  };
  virtual absl::StatusOr<CreateCheck> CheckCreate(const std::string& tenant_id,
                                                  const std::string& request_id,
                                                  const std::string& cloud,
                                                  const std::string& hint_key, int kind) = 0;
  virtual absl::Status PutRequest(const std::string& tenant_id, const std::string& request_id,
                                  const RequestRecord& record, absl::Time now) = 0;
  // Appends `event` to the outbox (published after commit).
  virtual absl::Status Emit(const partnercenter::events::v1::EventEnvelope& event) = 0;
};

class Repository {
 public:
  virtual ~Repository() = default;
  // Runs `fn` in one transaction: commits if it returns OK, rolls back otherwise.
  virtual absl::Status InTransaction(const std::function<absl::Status(RepositoryTx&)>& fn) = 0;
};

}  // namespace pc::invitation
