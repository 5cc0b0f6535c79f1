#include "domain.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "pc/auth/authorization.h"
#include "pc/common/errors.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"
#include "pc/common/validation.h"
#include "pc/events/envelope.h"
#include "spdlog/spdlog.h"

namespace pc::relationship {
namespace {

namespace ev = partnercenter::events::v1;
namespace inv = partnercenter::invitation::v1;
using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;
using pc::auth::kRoleCustomerAdmin;
using pc::auth::kRolePartnerAdmin;
using pc::auth::kRolePartnerAgent;
using pc::auth::kRoleService;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;
constexpr int kMaxLicenses = 100000;
constexpr char kServiceNotChangeable[] = "SERVICE_NOT_CHANGEABLE";
constexpr char kNoRelationship[] = "NO_RELATIONSHIP";

// The service identities each RPC admits (docs/security.md, "Caller × RPC"); every other RPC
// admits none. The invitation service reads one relationship to decide whether a customer may
// be invited (or accept); CheckAdminAccess is the access oracle any platform service may ask
// (it answers state and admin access for a pair, no customer data).
constexpr std::string_view kEligibilityCheckers[] = {pc::auth::kServiceInvitation};
constexpr std::string_view kAccessCheckers[] = {
    pc::auth::kServiceInvitation, pc::auth::kServiceRelationship, pc::auth::kServiceNotification,
    pc::auth::kServicePortal};

Timestamp ToProto(absl::Time t) { return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t)); }
absl::Time FromProto(const Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

common::Actor ActorOf(const CallContext& call) {
  common::Actor actor;
  actor.set_kind(call.claims.HasRole(kRoleCustomerAdmin) ? common::ACTOR_KIND_CUSTOMER_ADMIN
                 : call.claims.HasRole(kRoleService)     ? common::ACTOR_KIND_SYSTEM
                                                         : common::ACTOR_KIND_PARTNER_USER);
  actor.set_id(call.claims.subject);
  actor.set_tenant_id(call.claims.tenant_id);
  actor.set_display_name(call.claims.display_name.value_or(""));
  return actor;
}

// A service identity; only RPCs that admit one (RequireCaller) get this far with it.
bool IsService(const CallContext& call) { return !pc::auth::ServiceOf(call.claims).empty(); }

// The partner (or its indirect reseller) acting through a partner role.
bool PartnerSide(const CallContext& call, const v1::Relationship& r, bool admin_only) {
  const bool role = admin_only ? call.claims.HasRole(kRolePartnerAdmin)
                               : call.claims.HasAnyRole({kRolePartnerAdmin, kRolePartnerAgent});
  return role && (call.claims.tenant_id == r.partner_id() ||
                  (!r.indirect_reseller_id().empty() &&
                   call.claims.tenant_id == r.indirect_reseller_id()));
}

bool CustomerSide(const CallContext& call, const v1::Relationship& r) {
  return call.claims.HasRole(kRoleCustomerAdmin) && call.claims.tenant_id == r.customer_id();
}

// A user holds a license of at most this many services (CreateUser.service_ids).
constexpr int kMaxServiceIdsPerUser = 50;

absl::Status NotFound() { return pc::ResourceNotFoundError("relationship", "no such relationship"); }

absl::Status ValidatePair(const std::string& partner_field, const std::string& partner_id,
                          const std::string& customer_field, const std::string& customer_id) {
  PC_RETURN_IF_ERROR(ValidateId(partner_field, partner_id));
  return ValidateId(customer_field, customer_id);
}

absl::Status ValidatePageSize(int32_t page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return InvalidFieldError("page_size", "must be between 1 and 200 (0 means 50)");
  }
  return absl::OkStatus();
}

int PageSize(int32_t requested) { return requested == 0 ? kDefaultPageSize : requested; }

absl::Status CheckVersion(int64_t requested, int64_t current) {
  if (requested < 0) return InvalidFieldError("version", "must not be negative");
  if (requested > 0 && requested != current) {
    return pc::WithReason(absl::AbortedError(absl::StrCat("the relationship changed (version ",
                                                          current, "); reload and retry")),
                          pc::reason::kVersionConflict);
  }
  return absl::OkStatus();
}

absl::Status RequireActive(const v1::Relationship& r) {
  if (r.state() != common::RELATIONSHIP_STATE_ACTIVE) {
    return FailedPreconditionError(pc::reason::kRelationshipNotActive,
                                   "the relationship is not active");
  }
  return absl::OkStatus();
}

// Managing services, users and licenses needs ACTIVE and admin GRANTED.
absl::Status RequireAdmin(const v1::Relationship& r) {
  PC_RETURN_IF_ERROR(RequireActive(r));
  switch (r.admin_access()) {
    case common::ADMIN_ACCESS_GRANTED:
      return absl::OkStatus();
    case common::ADMIN_ACCESS_REVOKED:
      return FailedPreconditionError(
          pc::reason::kAdminPermissionRevoked,
          "the customer revoked this partner's admin permission; ask for it back with "
          "RequestAdminRestore (support requests remain possible)");
    default:
      return FailedPreconditionError(pc::reason::kAdminPermissionNotRequested,
                                     "this partner has no admin permission for the customer");
  }
}

// user@domain with a plain local part.
absl::Status ValidateEmail(const std::string& field, const std::string& value) {
  const size_t at = value.find('@');
  if (value.empty()) return InvalidFieldError(field, "is required");
  if (at == std::string::npos || at == 0 || at > 64 || value.find('@', at + 1) != std::string::npos) {
    return InvalidFieldError(field, "must be an address such as name@contoso.com");
  }
  for (size_t i = 0; i < at; ++i) {
    const char c = value[i];
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-' && c != '+') {
      return InvalidFieldError(field, "must be an address such as name@contoso.com");
    }
  }
  return ValidateDomain(field, value.substr(at + 1));
}

// The distinct values of an enum filter (so a filter repeating a value 100 000 times is one
// SQL placeholder, not 100 000), or INVALID_ARGUMENT for an unknown or unspecified value.
absl::StatusOr<std::vector<int>> DistinctEnumList(const std::string& field,
                                                  const google::protobuf::RepeatedField<int>& values,
                                                  bool (*is_valid)(int)) {
  std::vector<int> out;
  for (int v : values) {
    if (v == 0 || !is_valid(v)) return InvalidFieldError(field, "has an unknown value");
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

// Page tokens are opaque: "r1.<order>.<b64 key>.<b64 id>".
std::string EncodeToken(int order, const std::string& key, const std::string& id) {
  return absl::StrCat("r1.", order, ".", absl::WebSafeBase64Escape(key), ".",
                      absl::WebSafeBase64Escape(id));
}

absl::Status DecodeToken(const std::string& token, int order, std::string* key, std::string* id) {
  const absl::Status bad = InvalidFieldError("page_token", "is not a token this list returned");
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  int got_order = 0;
  if (parts.size() != 4 || parts[0] != "r1" || !absl::SimpleAtoi(parts[1], &got_order) ||
      got_order != order || !absl::WebSafeBase64Unescape(parts[2], key) ||
      !absl::WebSafeBase64Unescape(parts[3], id)) {
    return bad;
  }
  return absl::OkStatus();
}

absl::StatusOr<RelationshipOrder> ParseOrder(const std::string& order_by) {
  if (order_by.empty() || order_by == "company_name asc" || order_by == "company_name") {
    return RelationshipOrder::kCompanyNameAsc;
  }
  if (order_by == "update_time desc") return RelationshipOrder::kUpdateTimeDesc;
  if (order_by == "create_time desc") return RelationshipOrder::kCreateTimeDesc;
  return InvalidFieldError(
      "order_by", "must be 'company_name asc', 'update_time desc' or 'create_time desc'");
}

std::string SortKey(const v1::Relationship& r, RelationshipOrder order) {
  switch (order) {
    case RelationshipOrder::kCompanyNameAsc:
      return absl::AsciiStrToLower(r.customer_profile().company_name());
    case RelationshipOrder::kUpdateTimeDesc:
      return absl::StrCat(TimeUtil::TimestampToMicroseconds(r.update_time()));
    case RelationshipOrder::kCreateTimeDesc:
      return absl::StrCat(TimeUtil::TimestampToMicroseconds(r.create_time()));
  }
  return "";
}

AccessEntry EntryOf(const v1::Relationship& r) {
  return {.state = r.state(), .admin_access = r.admin_access(), .version = r.version()};
}

}  // namespace

// One change to a relationship: history text, and the event (if any) the change emits.
struct RelationshipDomain::Change {
  std::string action;  // history action; the event type when there is an event
  std::string detail;
  std::string reason;
  ev::Cause cause = ev::CAUSE_UNSPECIFIED;
  std::function<void(ev::EventEnvelope&)> set_payload = {};  // empty: no event
};

// The transaction of one mutating call or one applied event: commits relationship changes
// with their history and events, and remembers what changed for the cache.
class RelationshipDomain::Mutation {
 public:
  Mutation(StoreTx& tx, absl::Time now, common::Actor actor, std::string correlation_id,
           std::string cloud)
      : tx_(tx),
        now_(now),
        actor_(std::move(actor)),
        correlation_id_(std::move(correlation_id)),
        cloud_(std::move(cloud)) {}

  StoreTx& tx() { return tx_; }
  absl::Time now() const { return now_; }
  const common::Actor& actor() const { return actor_; }
  const std::string& cloud() const { return cloud_; }
  const std::vector<v1::Relationship>& touched() const { return touched_; }

  // Writes `r` (inserted if its version is 0) at version + 1, with its history entry and
  // event; `r` is updated in place.
  absl::Status Commit(v1::Relationship& r, const Change& change) {
    const int64_t expected = r.version();
    r.set_version(expected + 1);
    *r.mutable_update_time() = ToProto(now_);
    if (expected == 0) {
      *r.mutable_create_time() = ToProto(now_);
      PC_RETURN_IF_ERROR(tx_.Insert(r));
    } else {
      PC_RETURN_IF_ERROR(tx_.Update(r, expected));
    }
    v1::HistoryEntry entry;
    entry.set_sequence(r.version());
    *entry.mutable_occurred_at() = ToProto(now_);
    *entry.mutable_actor() = actor_;
    entry.set_action(change.action);
    entry.set_detail(change.detail);
    entry.set_reason(change.reason);
    if (change.set_payload) {
      ev::EventEnvelope e = pc::events::NewEnvelope(
          {.cloud = cloud_,
           .partner_id = r.partner_id(),
           .customer_id = r.customer_id(),
           .aggregate_id = pc::events::RelationshipKey(r.partner_id(), r.customer_id()),
           .aggregate_version = r.version(),
           .actor = actor_,
           .cause = change.cause,
           .correlation_id = correlation_id_.empty() ? pc::NewUuid() : correlation_id_},
          now_);
      change.set_payload(e);
      pc::events::Seal(e);
      entry.set_event_id(e.event_id());
      PC_RETURN_IF_ERROR(tx_.Emit(e));
    }
    PC_RETURN_IF_ERROR(tx_.AppendHistory(cloud_, r.partner_id(), r.customer_id(), entry));
    touched_.push_back(r);
    return absl::OkStatus();
  }

 private:
  StoreTx& tx_;
  absl::Time now_;
  common::Actor actor_;
  std::string correlation_id_;
  std::string cloud_;
  std::vector<v1::Relationship> touched_;
};

RelationshipDomain::RelationshipDomain(DomainOptions options, RelationshipStore& store,
                                       const pc::Clock& clock, InvitationClient* invitations,
                                       AccessCache& cache, std::function<void()> on_commit)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      invitations_(invitations),
      cache_(cache),
      on_commit_(std::move(on_commit)) {}

template <typename Resp, typename Req>
absl::StatusOr<Resp> RelationshipDomain::Mutate(
    const CallContext& call, const std::string& method, const Req& req,
    const std::function<absl::StatusOr<Resp>(Mutation&)>& fn) {
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  Req without_id = req;
  without_id.clear_request_id();
  const std::string hash = pc::Sha256Hex(absl::StrCat(method, "\n", without_id.SerializeAsString()));
  const std::string& tenant = call.claims.tenant_id;
  Resp out;
  std::vector<v1::Relationship> touched;
  PC_RETURN_IF_ERROR(store_.InTransaction([&](StoreTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(std::optional<RequestRecord> seen, tx.GetRequest(tenant, req.request_id()));
    if (seen.has_value()) {
      if (seen->method != method || seen->request_hash != hash) {
        return InvalidFieldError("request_id", "was already used for a different request");
      }
      if (!out.ParseFromString(seen->response)) return absl::DataLossError("corrupt request row");
      return absl::OkStatus();
    }
    Mutation m(tx, now, ActorOf(call), call.correlation_id, options_.cloud);
    PC_ASSIGN_OR_RETURN(out, fn(m));
    PC_RETURN_IF_ERROR(tx.PutRequest(tenant, req.request_id(),
                                     {method, hash, out.SerializeAsString()}, now));
    touched = m.touched();
    return absl::OkStatus();
  }));
  for (const v1::Relationship& r : touched) cache_.Put(r.partner_id(), r.customer_id(), EntryOf(r));
  if (!touched.empty() && on_commit_) on_commit_();
  return out;
}

absl::StatusOr<v1::Relationship> RelationshipDomain::LoadVisible(StoreTx& tx,
                                                                 const CallContext& call,
                                                                 const std::string& partner_id,
                                                                 const std::string& customer_id) {
  PC_ASSIGN_OR_RETURN(std::optional<v1::Relationship> found,
                      tx.Get(options_.cloud, partner_id, customer_id));
  if (!found.has_value()) return NotFound();
  if (!IsService(call) && !PartnerSide(call, *found, /*admin_only=*/false) &&
      !CustomerSide(call, *found)) {
    return NotFound();
  }
  return *std::move(found);
}

absl::StatusOr<AccessEntry> RelationshipDomain::LoadAccess(const std::string& partner_id,
                                                           const std::string& customer_id) {
  AccessEntry entry;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(std::optional<v1::Relationship> found,
                        tx.Get(options_.cloud, partner_id, customer_id));
    if (found.has_value()) entry = EntryOf(*found);
    return absl::OkStatus();
  }));
  return entry;
}

// ---- Invitation events -------------------------------------------------------------------

absl::StatusOr<v1::Relationship> RelationshipDomain::ApplyAccepted(StoreTx& tx,
                                                                   const ev::EventEnvelope& e,
                                                                   bool* changed) {
  const ev::InvitationAccepted& acc = e.invitation_accepted();
  PC_ASSIGN_OR_RETURN(std::optional<v1::Relationship> found,
                      tx.Get(options_.cloud, e.partner_id(), e.customer_id()));
  *changed = false;
  v1::Relationship r = found.value_or(v1::Relationship());
  Mutation m(tx, clock_.Now(), e.actor(), e.correlation_id(), options_.cloud);
  const std::string inv_id = acc.invitation_id();
  if (acc.kind() == common::INVITATION_KIND_ADMIN_RESTORE) {
    if (!found.has_value()) {
      if (clock_.Now() - FromProto(e.occurred_at()) < options_.restore_wait) {
        return absl::UnavailableError(
            "admin restore accepted before the relationship is known; retrying");
      }
      return FailedPreconditionError(kNoRelationship,
                                     "admin restore accepted for an unknown relationship");
    }
    if (r.state() != common::RELATIONSHIP_STATE_ACTIVE ||
        r.admin_access() == common::ADMIN_ACCESS_GRANTED) {
      spdlog::info("admin restore {} for {}:{} has no effect (state {}, admin {})", inv_id,
                   r.partner_id(), r.customer_id(), common::RelationshipState_Name(r.state()),
                   common::AdminAccess_Name(r.admin_access()));
      return r;
    }
    const bool was_revoked = r.admin_access() == common::ADMIN_ACCESS_REVOKED;
    r.set_admin_access(common::ADMIN_ACCESS_GRANTED);
    PC_RETURN_IF_ERROR(m.Commit(
        r, {.action = "PermissionGranted",
            .detail = "admin permission restored: the customer accepted the restore request",
            .cause = ev::CAUSE_ADMIN_RESTORED,
            .set_payload = [&](ev::EventEnvelope& out) {
              out.mutable_permission_granted()->set_restored(was_revoked);
              out.mutable_permission_granted()->set_invitation_id(inv_id);
            }}));
    *changed = true;
    return r;
  }

  const common::AdminAccess admin = acc.include_admin_permission()
                                        ? common::ADMIN_ACCESS_GRANTED
                                        : common::ADMIN_ACCESS_NOT_REQUESTED;
  if (!found.has_value() || r.state() == common::RELATIONSHIP_STATE_REMOVED) {
    // New, or re-established after a removal.
    r.set_cloud(pc::events::CloudFromName(options_.cloud));
    r.set_partner_id(e.partner_id());
    r.set_customer_id(e.customer_id());
    r.set_partner_display_name(acc.partner_display_name());
    r.set_indirect_reseller_id(acc.indirect_reseller_id());
    r.set_state(common::RELATIONSHIP_STATE_ACTIVE);
    r.set_admin_access(admin);
    r.set_support_responsible(true);
    r.clear_support_contact();
    *r.mutable_customer_profile() = acc.customer_profile();
    PC_RETURN_IF_ERROR(m.Commit(
        r, {.action = "RelationshipEstablished",
            .detail = absl::StrCat("reseller relationship established",
                                   admin == common::ADMIN_ACCESS_GRANTED
                                       ? " with admin permission"
                                       : " without admin permission"),
            .cause = ev::CAUSE_INVITATION_ACCEPTED,
            .set_payload = [&](ev::EventEnvelope& out) {
              ev::RelationshipEstablished* p = out.mutable_relationship_established();
              *p->mutable_customer_profile() = acc.customer_profile();
              p->set_partner_display_name(acc.partner_display_name());
              p->set_indirect_reseller_id(acc.indirect_reseller_id());
              p->set_admin_access(admin);
              p->set_invitation_id(inv_id);
            }}));
    *changed = true;
    return r;
  }
  // Already ACTIVE (a second invitation, or one accepted concurrently with the one that
  // established it): it can only add admin permission; either way it is in the history.
  if (admin != common::ADMIN_ACCESS_GRANTED || r.admin_access() == common::ADMIN_ACCESS_GRANTED) {
    PC_RETURN_IF_ERROR(m.Commit(
        r, {.action = "InvitationAccepted",
            .detail = absl::StrCat("invitation ", inv_id,
                                   " accepted; the relationship was already active")}));
    *changed = true;
    return r;
  }
  const bool was_revoked = r.admin_access() == common::ADMIN_ACCESS_REVOKED;
  r.set_admin_access(common::ADMIN_ACCESS_GRANTED);
  PC_RETURN_IF_ERROR(m.Commit(
      r, {.action = "PermissionGranted",
          .detail = "admin permission granted: the customer accepted a reseller invitation",
          .cause = ev::CAUSE_INVITATION_ACCEPTED,
          .set_payload = [&](ev::EventEnvelope& out) {
            out.mutable_permission_granted()->set_restored(was_revoked);
            out.mutable_permission_granted()->set_invitation_id(inv_id);
          }}));
  *changed = true;
  return r;
}

absl::StatusOr<bool> RelationshipDomain::CheckInvitationEvent(const ev::EventEnvelope& e,
                                                             pc::events::Outcome* outcome) const {
  if (e.payload_case() != ev::EventEnvelope::kInvitationAccepted) {
    *outcome = e.payload_case() == ev::EventEnvelope::PAYLOAD_NOT_SET
                   ? pc::events::Outcome::kIgnoredUnknownType
                   : pc::events::Outcome::kIgnoredNotHandled;
    return false;
  }
  if (pc::events::CloudName(e.cloud()) != options_.cloud) {
    return FailedPreconditionError(pc::reason::kCloudMismatch,
                                   absl::StrCat("event of cloud ", pc::events::CloudName(e.cloud()),
                                                " on a ", options_.cloud, " consumer"));
  }
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", e.partner_id(), "customer_id", e.customer_id()));
  const ev::InvitationAccepted& acc = e.invitation_accepted();
  if (acc.kind() != common::INVITATION_KIND_RESELLER_RELATIONSHIP &&
      acc.kind() != common::INVITATION_KIND_ADMIN_RESTORE) {
    return InvalidFieldError("invitation_accepted.kind", "is not a known invitation kind");
  }
  if (acc.invitation_id().empty()) {
    return InvalidFieldError("invitation_accepted.invitation_id", "is required");
  }
  return true;
}

absl::Status RelationshipDomain::ApplyInvitationEvent(const ev::EventEnvelope& e,
                                                      pc::events::Outcome* outcome) {
  pc::events::Outcome ignored;
  if (outcome == nullptr) outcome = &ignored;
  PC_ASSIGN_OR_RETURN(bool accepted, CheckInvitationEvent(e, outcome));
  if (!accepted) return absl::OkStatus();
  std::optional<v1::Relationship> touched;
  // Two first acceptances of one pair on two replicas (PostgreSQL) both find no relationship;
  // the second insert then fails on the unique key (ALREADY_EXISTS) or the row lock
  // (ABORTED). Run it again: it finds the winner's row and merges into it.
  absl::Status applied;
  for (int attempt = 1; attempt <= kConflictAttempts; ++attempt) {
    touched.reset();
    applied = ApplyAcceptedOnce(e, &touched, outcome);
    if (!absl::IsAlreadyExists(applied) && !absl::IsAborted(applied)) break;
    spdlog::info("InvitationAccepted {} for {}:{} met a concurrent change ({}); attempt {} of {}",
                 e.event_id(), e.partner_id(), e.customer_id(), applied.ToString(), attempt,
                 kConflictAttempts);
  }
  PC_RETURN_IF_ERROR(applied);
  if (touched.has_value()) {
    cache_.Put(touched->partner_id(), touched->customer_id(), EntryOf(*touched));
    if (on_commit_) on_commit_();
  }
  return absl::OkStatus();
}

absl::Status RelationshipDomain::ApplyInvitationEvents(const std::vector<ev::EventEnvelope>& events,
                                                       std::vector<pc::events::Outcome>* outcomes) {
  std::vector<pc::events::Outcome> result(events.size(), pc::events::Outcome::kApplied);
  std::vector<bool> accepted(events.size(), false);
  for (size_t i = 0; i < events.size(); ++i) {
    PC_ASSIGN_OR_RETURN(bool a, CheckInvitationEvent(events[i], &result[i]));
    accepted[i] = a;
  }
  // In commit order: a later event of the same pair sees (and replaces) an earlier one's row.
  std::vector<v1::Relationship> touched;
  PC_RETURN_IF_ERROR(store_.InTransaction([&](StoreTx& tx) -> absl::Status {
    touched.clear();
    for (size_t i = 0; i < events.size(); ++i) {
      if (!accepted[i]) continue;
      std::optional<v1::Relationship> t;
      PC_RETURN_IF_ERROR(ApplyAcceptedIn(tx, events[i], &t, &result[i]));
      if (t.has_value()) touched.push_back(*std::move(t));
    }
    return absl::OkStatus();
  }));
  for (const v1::Relationship& r : touched) {
    cache_.Put(r.partner_id(), r.customer_id(), EntryOf(r));
  }
  if (!touched.empty() && on_commit_) on_commit_();
  if (outcomes != nullptr) *outcomes = std::move(result);
  return absl::OkStatus();
}

absl::Status RelationshipDomain::ApplyAcceptedOnce(const ev::EventEnvelope& e,
                                                   std::optional<v1::Relationship>* touched,
                                                   pc::events::Outcome* outcome) {
  return store_.InTransaction(
      [&](StoreTx& tx) -> absl::Status { return ApplyAcceptedIn(tx, e, touched, outcome); });
}

absl::Status RelationshipDomain::ApplyAcceptedIn(StoreTx& tx, const ev::EventEnvelope& e,
                                                 std::optional<v1::Relationship>* touched,
                                                 pc::events::Outcome* outcome) {
  const ev::InvitationAccepted& acc = e.invitation_accepted();
  PC_ASSIGN_OR_RETURN(bool first, tx.FirstDelivery(options_.consumer_group, e.event_id()));
  *outcome = pc::events::Outcome::kDuplicateIgnored;
  if (!first) return absl::OkStatus();  // redelivered: no second effect
  PC_ASSIGN_OR_RETURN(int64_t applied, tx.AppliedInvitationVersion(acc.invitation_id()));
  *outcome = pc::events::Outcome::kStaleIgnored;
  if (e.aggregate_version() <= applied) return absl::OkStatus();  // late and older
  *outcome = pc::events::Outcome::kApplied;
  bool changed = false;
  PC_ASSIGN_OR_RETURN(v1::Relationship r, ApplyAccepted(tx, e, &changed));
  PC_RETURN_IF_ERROR(tx.SetAppliedInvitationVersion(acc.invitation_id(), e.aggregate_version()));
  if (changed) *touched = r;
  return absl::OkStatus();
}

// ---- Reads -------------------------------------------------------------------------------

absl::StatusOr<v1::Relationship> RelationshipDomain::GetRelationship(
    const CallContext& call, const v1::GetRelationshipRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(
      call.claims, {kRolePartnerAdmin, kRolePartnerAgent, kRoleCustomerAdmin}, kEligibilityCheckers));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  v1::Relationship out;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(out, LoadVisible(tx, call, req.partner_id(), req.customer_id()));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListRelationshipsResponse> RelationshipDomain::RunList(
    RelationshipQuery q, int32_t page_size, const std::string& page_token) {
  const int order = static_cast<int>(q.order);
  const int limit = PageSize(page_size);
  q.limit = limit + 1;
  if (!page_token.empty()) {
    std::string key;
    PC_RETURN_IF_ERROR(DecodeToken(page_token, order, &key, &q.after_id));
    q.after_key = key;
  }
  std::vector<v1::Relationship> rows;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(rows, tx.List(q));
    return absl::OkStatus();
  }));
  v1::ListRelationshipsResponse out;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < limit; ++i) {
    *out.add_relationships() = rows[i];
  }
  if (static_cast<int>(rows.size()) > limit) {
    // The cursor's id is the other side of the pair: the customer in a partner's list.
    const v1::Relationship& last = rows[limit - 1];
    out.set_next_page_token(EncodeToken(order, SortKey(last, q.order),
                                        q.partner_id.empty() ? last.partner_id() : last.customer_id()));
  }
  return out;
}

absl::StatusOr<v1::ListRelationshipsResponse> RelationshipDomain::ListRelationships(
    const CallContext& call, const v1::ListRelationshipsRequest& req) {
  PC_RETURN_IF_ERROR(
      pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin, kRolePartnerAgent}, {}));
  const std::string partner_id = req.partner_id().empty() ? call.claims.tenant_id : req.partner_id();
  PC_RETURN_IF_ERROR(ValidateId("partner_id", partner_id));
  if (!req.indirect_reseller_id().empty()) {
    PC_RETURN_IF_ERROR(ValidateId("indirect_reseller_id", req.indirect_reseller_id()));
  }
  // A partner lists its own customers; an indirect reseller the ones it sells through a
  // provider (filtered to itself).
  if (!IsService(call) && partner_id != call.claims.tenant_id &&
      req.indirect_reseller_id() != call.claims.tenant_id) {
    return pc::auth::RequireTenant(call.claims, partner_id);
  }
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  PC_ASSIGN_OR_RETURN(std::vector<int> states,
                      DistinctEnumList("states", req.states(), &common::RelationshipState_IsValid));
  PC_ASSIGN_OR_RETURN(std::vector<int> admin_access,
                      DistinctEnumList("admin_access", req.admin_access(),
                                       &common::AdminAccess_IsValid));
  PC_RETURN_IF_ERROR(ValidateText("name_prefix", req.name_prefix(), 200));
  PC_ASSIGN_OR_RETURN(RelationshipOrder order, ParseOrder(req.order_by()));
  RelationshipQuery q{.cloud = options_.cloud,
                      .partner_id = partner_id,
                      .states = std::move(states),
                      .admin_access = std::move(admin_access),
                      .indirect_reseller_id = req.indirect_reseller_id(),
                      .name_prefix = absl::AsciiStrToLower(req.name_prefix()),
                      .order = order};
  return RunList(std::move(q), req.page_size(), req.page_token());
}

absl::StatusOr<v1::ListRelationshipsResponse> RelationshipDomain::ListPartners(
    const CallContext& call, const v1::ListPartnersRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(call.claims, {kRoleCustomerAdmin}, {}));
  const std::string customer_id =
      req.customer_id().empty() ? call.claims.tenant_id : req.customer_id();
  PC_RETURN_IF_ERROR(ValidateId("customer_id", customer_id));
  PC_RETURN_IF_ERROR(pc::auth::RequireTenant(call.claims, customer_id));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  PC_ASSIGN_OR_RETURN(std::vector<int> states,
                      DistinctEnumList("states", req.states(), &common::RelationshipState_IsValid));
  constexpr RelationshipOrder order = RelationshipOrder::kCompanyNameAsc;
  RelationshipQuery q{.cloud = options_.cloud,
                      .customer_id = customer_id,
                      .states = std::move(states),
                      .order = order};
  return RunList(std::move(q), req.page_size(), req.page_token());
}

absl::StatusOr<v1::CustomerRecord> RelationshipDomain::GetCustomerRecord(
    const CallContext& call, const v1::GetCustomerRecordRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(
      call.claims, {kRolePartnerAdmin, kRolePartnerAgent, kRoleCustomerAdmin}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  if (req.history_limit() < 0 || req.history_limit() > kMaxPageSize) {
    return InvalidFieldError("history_limit", "must be between 1 and 200 (0 means 20)");
  }
  const int history_limit = req.history_limit() == 0 ? 20 : req.history_limit();
  v1::CustomerRecord out;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(v1::Relationship r, LoadVisible(tx, call, req.partner_id(), req.customer_id()));
    PC_ASSIGN_OR_RETURN(std::vector<common::CustomerService> services,
                        tx.ListServices(options_.cloud, r.partner_id(), r.customer_id()));
    for (auto& s : services) *out.add_services() = std::move(s);
    // The customer's users are the customer's directory: a partner sees them only while it
    // holds admin permission.
    if (RequireAdmin(r).ok() || CustomerSide(call, r) || IsService(call)) {
      PC_ASSIGN_OR_RETURN(std::vector<v1::CustomerUser> users,
                          tx.ListUsers(options_.cloud, r.customer_id(), "", kMaxPageSize));
      for (auto& u : users) *out.add_users() = std::move(u);
    }
    PC_ASSIGN_OR_RETURN(std::vector<common::ServiceRequest> requests,
                        tx.ListServiceRequests(options_.cloud, r.partner_id(), r.customer_id(), 50));
    for (auto& sr : requests) *out.add_service_requests() = std::move(sr);
    PC_ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> history,
                        tx.ListHistory(options_.cloud, r.partner_id(), r.customer_id(), 0,
                                       history_limit, /*newest_first=*/true));
    for (auto& h : history) *out.add_recent_history() = std::move(h);
    *out.mutable_relationship() = std::move(r);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListHistoryResponse> RelationshipDomain::ListHistory(
    const CallContext& call, const v1::ListHistoryRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(
      call.claims, {kRolePartnerAdmin, kRolePartnerAgent, kRoleCustomerAdmin}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  int64_t after = 0;
  if (!req.page_token().empty()) {
    std::string key, id;
    PC_RETURN_IF_ERROR(DecodeToken(req.page_token(), 9, &key, &id));
    if (!absl::SimpleAtoi(key, &after) || after < 0) {
      return InvalidFieldError("page_token", "is not a token this list returned");
    }
  }
  const int limit = PageSize(req.page_size());
  v1::ListHistoryResponse out;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(v1::Relationship r, LoadVisible(tx, call, req.partner_id(), req.customer_id()));
    PC_ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> entries,
                        tx.ListHistory(options_.cloud, r.partner_id(), r.customer_id(), after,
                                       limit + 1, /*newest_first=*/false));
    for (int i = 0; i < static_cast<int>(entries.size()) && i < limit; ++i) {
      *out.add_entries() = entries[i];
    }
    if (static_cast<int>(entries.size()) > limit) {
      out.set_next_page_token(EncodeToken(9, absl::StrCat(entries[limit - 1].sequence()), ""));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListUsersResponse> RelationshipDomain::ListUsers(
    const CallContext& call, const v1::ListUsersRequest& req) {
  PC_RETURN_IF_ERROR(
      pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin, kRolePartnerAgent}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  std::string after_id;
  if (!req.page_token().empty()) {
    std::string key;
    PC_RETURN_IF_ERROR(DecodeToken(req.page_token(), 8, &key, &after_id));
  }
  const int limit = PageSize(req.page_size());
  v1::ListUsersResponse out;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(v1::Relationship r, LoadVisible(tx, call, req.partner_id(), req.customer_id()));
    PC_RETURN_IF_ERROR(RequireAdmin(r));
    PC_ASSIGN_OR_RETURN(std::vector<v1::CustomerUser> users,
                        tx.ListUsers(options_.cloud, r.customer_id(), after_id, limit + 1));
    for (int i = 0; i < static_cast<int>(users.size()) && i < limit; ++i) {
      *out.add_users() = users[i];
    }
    if (static_cast<int>(users.size()) > limit) {
      out.set_next_page_token(EncodeToken(8, "", users[limit - 1].id()));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::CheckAdminAccessResponse> RelationshipDomain::CheckAdminAccess(
    const CallContext& call, const v1::CheckAdminAccessRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(
      call.claims, {kRolePartnerAdmin, kRolePartnerAgent, kRoleCustomerAdmin}, kAccessCheckers));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  if (!IsService(call)) {
    const bool own = call.claims.HasRole(kRoleCustomerAdmin)
                         ? call.claims.tenant_id == req.customer_id()
                         : call.claims.tenant_id == req.partner_id();
    if (!own) {
      return pc::WithReason(absl::PermissionDeniedError("not your relationship"),
                            pc::reason::kWrongTenant);
    }
  }
  PC_ASSIGN_OR_RETURN(AccessEntry entry, cache_.Get(req.partner_id(), req.customer_id()));
  v1::CheckAdminAccessResponse out;
  out.set_state(entry.state);
  out.set_admin_access(entry.admin_access);
  out.set_version(entry.version);
  if (entry.state == common::RELATIONSHIP_STATE_UNSPECIFIED) {
    out.set_reason(kNoRelationship);
  } else if (entry.state != common::RELATIONSHIP_STATE_ACTIVE) {
    out.set_reason(pc::reason::kRelationshipNotActive);
  } else if (entry.admin_access == common::ADMIN_ACCESS_REVOKED) {
    out.set_reason(pc::reason::kAdminPermissionRevoked);
  } else if (entry.admin_access != common::ADMIN_ACCESS_GRANTED) {
    out.set_reason(pc::reason::kAdminPermissionNotRequested);
  } else {
    out.set_allowed(true);
  }
  return out;
}

// ---- Customer-side changes ----------------------------------------------------------------

absl::StatusOr<v1::Relationship> RelationshipDomain::RevokeAdminPermission(
    const CallContext& call, const v1::RevokeAdminPermissionRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRoleCustomerAdmin}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(pc::auth::RequireTenant(call.claims, req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 1000));
  if (req.version() < 0) return InvalidFieldError("version", "must not be negative");
  return Mutate<v1::Relationship>(
      call, "RevokeAdminPermission", req, [&](Mutation& m) -> absl::StatusOr<v1::Relationship> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        PC_RETURN_IF_ERROR(RequireAdmin(r));
        PC_RETURN_IF_ERROR(CheckVersion(req.version(), r.version()));
        r.set_admin_access(common::ADMIN_ACCESS_REVOKED);
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "PermissionRevoked",
                .detail = "the customer revoked admin permission; support responsibility remains",
                .reason = req.reason(),
                .cause = ev::CAUSE_CUSTOMER_REVOKED,
                .set_payload = [&](ev::EventEnvelope& e) {
                  e.mutable_permission_revoked()->set_reason(req.reason());
                }}));
        return r;
      });
}

absl::StatusOr<v1::ReassignAdminPermissionResponse> RelationshipDomain::ReassignAdminPermission(
    const CallContext& call, const v1::ReassignAdminPermissionRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRoleCustomerAdmin}));
  PC_RETURN_IF_ERROR(ValidatePair("from_partner_id", req.from_partner_id(), "customer_id",
                                  req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateId("to_partner_id", req.to_partner_id()));
  if (req.to_partner_id() == req.from_partner_id()) {
    return InvalidFieldError("to_partner_id", "must differ from from_partner_id");
  }
  PC_RETURN_IF_ERROR(pc::auth::RequireTenant(call.claims, req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 1000));
  if (req.version() < 0) return InvalidFieldError("version", "must not be negative");
  return Mutate<v1::ReassignAdminPermissionResponse>(
      call, "ReassignAdminPermission", req,
      [&](Mutation& m) -> absl::StatusOr<v1::ReassignAdminPermissionResponse> {
        PC_ASSIGN_OR_RETURN(v1::Relationship from,
                            LoadVisible(m.tx(), call, req.from_partner_id(), req.customer_id()));
        PC_RETURN_IF_ERROR(RequireAdmin(from));
        PC_RETURN_IF_ERROR(CheckVersion(req.version(), from.version()));
        PC_ASSIGN_OR_RETURN(v1::Relationship to,
                            LoadVisible(m.tx(), call, req.to_partner_id(), req.customer_id()));
        PC_RETURN_IF_ERROR(RequireActive(to));
        if (to.admin_access() == common::ADMIN_ACCESS_GRANTED) {
          return FailedPreconditionError(pc::reason::kAdminPermissionAlreadyGranted,
                                         "to_partner_id already has admin permission");
        }
        from.set_admin_access(common::ADMIN_ACCESS_REVOKED);
        PC_RETURN_IF_ERROR(m.Commit(
            from, {.action = "PermissionRevoked",
                   .detail = absl::StrCat("the customer reassigned admin permission to ",
                                          req.to_partner_id()),
                   .reason = req.reason(),
                   .cause = ev::CAUSE_CUSTOMER_REASSIGNED,
                   .set_payload = [&](ev::EventEnvelope& e) {
                     e.mutable_permission_revoked()->set_reassigned_to_partner_id(
                         req.to_partner_id());
                     e.mutable_permission_revoked()->set_reason(req.reason());
                   }}));
        to.set_admin_access(common::ADMIN_ACCESS_GRANTED);
        PC_RETURN_IF_ERROR(m.Commit(
            to, {.action = "PermissionGranted",
                 .detail = absl::StrCat("the customer reassigned admin permission from ",
                                        req.from_partner_id()),
                 .reason = req.reason(),
                 .cause = ev::CAUSE_REASSIGNED_FROM_OTHER_PARTNER,
                 .set_payload = [&](ev::EventEnvelope& e) {
                   e.mutable_permission_granted()->set_reassigned_from_partner_id(
                       req.from_partner_id());
                 }}));
        v1::ReassignAdminPermissionResponse out;
        *out.mutable_from_relationship() = std::move(from);
        *out.mutable_to_relationship() = std::move(to);
        return out;
      });
}

// ---- Partner-side changes ------------------------------------------------------------------

absl::StatusOr<v1::RequestAdminRestoreResponse> RelationshipDomain::RequestAdminRestore(
    const CallContext& call, const v1::RequestAdminRestoreRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRolePartnerAdmin}));
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateText("message", req.message(), 2000));
  if (!req.locale().empty() && req.locale() != "en" && req.locale() != "pt-BR") {
    return InvalidFieldError("locale", "must be 'en' or 'pt-BR'");
  }
  v1::Relationship r;
  PC_RETURN_IF_ERROR(store_.InTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(r, LoadVisible(tx, call, req.partner_id(), req.customer_id()));
    return absl::OkStatus();
  }));
  // The restore invitation is the partner's own: its indirect reseller can't ask for it.
  if (r.partner_id() != call.claims.tenant_id) return NotFound();
  PC_RETURN_IF_ERROR(RequireActive(r));
  if (r.admin_access() == common::ADMIN_ACCESS_GRANTED) {
    return FailedPreconditionError(pc::reason::kAdminPermissionAlreadyGranted,
                                   "this partner already has admin permission");
  }
  if (invitations_ == nullptr) {
    return absl::UnavailableError("the invitation service is not configured");
  }
  inv::CreateInvitationRequest create;
  // Derived, so a retry of this call is a retry of the same CreateInvitation.
  create.set_request_id(
      absl::StrCat("admin-restore-", pc::Sha256Hex(req.request_id()).substr(0, 32)));
  create.set_kind(common::INVITATION_KIND_ADMIN_RESTORE);
  create.set_include_admin_permission(true);
  create.set_indirect_reseller_id(r.indirect_reseller_id());
  create.mutable_customer_hint()->set_tenant_id(r.customer_id());
  create.set_message(req.message());
  create.set_locale(req.locale());
  create.set_partner_display_name(r.partner_display_name());
  PC_ASSIGN_OR_RETURN(inv::CreateInvitationResponse created,
                      invitations_->CreateInvitation(call, create));
  v1::RequestAdminRestoreResponse out;
  *out.mutable_invitation() = std::move(*created.mutable_invitation());
  *out.mutable_email_draft() = std::move(*created.mutable_email_draft());
  return out;
}

absl::StatusOr<common::CustomerService> RelationshipDomain::ProvisionService(
    const CallContext& call, const v1::ProvisionServiceRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateId("offer_id", req.offer_id()));
  if (req.display_name().empty()) return InvalidFieldError("display_name", "is required");
  PC_RETURN_IF_ERROR(ValidateText("display_name", req.display_name(), 200));
  if (req.license_quantity() < 1 || req.license_quantity() > kMaxLicenses) {
    return InvalidFieldError("license_quantity", "must be between 1 and 100000");
  }
  return Mutate<common::CustomerService>(
      call, "ProvisionService", req, [&](Mutation& m) -> absl::StatusOr<common::CustomerService> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        if (!IsService(call) && !PartnerSide(call, r, /*admin_only=*/true)) return NotFound();
        PC_RETURN_IF_ERROR(RequireAdmin(r));
        common::CustomerService s;
        s.set_id(pc::NewUuid());
        s.set_offer_id(req.offer_id());
        s.set_display_name(req.display_name());
        s.set_license_quantity(req.license_quantity());
        s.set_state(common::SERVICE_STATE_ACTIVE);
        *s.mutable_create_time() = ToProto(m.now());
        *s.mutable_update_time() = ToProto(m.now());
        s.set_version(1);
        PC_RETURN_IF_ERROR(m.tx().InsertService(m.cloud(), r.partner_id(), r.customer_id(), s));
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "ServiceProvisioned",
                .detail = absl::StrCat("provisioned ", s.display_name(), " (", s.offer_id(),
                                       ") with ", s.license_quantity(), " licenses"),
                .set_payload = [&](ev::EventEnvelope& e) {
                  *e.mutable_service_provisioned()->mutable_service() = s;
                }}));
        return s;
      });
}

absl::StatusOr<common::CustomerService> RelationshipDomain::ChangeService(
    const CallContext& call, const v1::ChangeServiceRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  if (!pc::IsUuid(req.service_id())) return InvalidFieldError("service_id", "must be a service id");
  if (req.action() == v1::SERVICE_CHANGE_ACTION_UNSPECIFIED ||
      !v1::ServiceChangeAction_IsValid(req.action())) {
    return InvalidFieldError("action", "must be SET_LICENSES, SUSPEND, RESUME or CANCEL");
  }
  if (req.action() == v1::SERVICE_CHANGE_ACTION_SET_LICENSES &&
      (req.license_quantity() < 1 || req.license_quantity() > kMaxLicenses)) {
    return InvalidFieldError("license_quantity", "must be between 1 and 100000");
  }
  if (req.version() < 0) return InvalidFieldError("version", "must not be negative");
  return Mutate<common::CustomerService>(
      call, "ChangeService", req, [&](Mutation& m) -> absl::StatusOr<common::CustomerService> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        if (!IsService(call) && !PartnerSide(call, r, /*admin_only=*/true)) return NotFound();
        PC_ASSIGN_OR_RETURN(std::optional<ServiceRecord> found,
                            m.tx().GetService(m.cloud(), req.service_id()));
        if (!found.has_value() || found->partner_id != r.partner_id() ||
            found->customer_id != r.customer_id()) {
          return pc::ResourceNotFoundError("service", "no such service");
        }
        PC_RETURN_IF_ERROR(RequireAdmin(r));
        common::CustomerService s = found->service;
        if (req.version() > 0 && req.version() != s.version()) {
          return pc::WithReason(absl::AbortedError(absl::StrCat("the service changed (version ",
                                                                s.version(), "); reload and retry")),
                                pc::reason::kVersionConflict);
        }
        const common::ServiceState previous_state = s.state();
        const int32_t previous_quantity = s.license_quantity();
        auto refuse = [&](const char* why) {
          return FailedPreconditionError(
              kServiceNotChangeable,
              absl::StrCat("the service is ", common::ServiceState_Name(s.state()), ": ", why));
        };
        std::string detail;
        switch (req.action()) {
          case v1::SERVICE_CHANGE_ACTION_SET_LICENSES:
            if (s.state() != common::SERVICE_STATE_ACTIVE) return refuse("only an active service's licenses change");
            s.set_license_quantity(req.license_quantity());
            detail = absl::StrCat("licenses ", previous_quantity, " → ", req.license_quantity());
            break;
          case v1::SERVICE_CHANGE_ACTION_SUSPEND:
            if (s.state() != common::SERVICE_STATE_ACTIVE) return refuse("only an active service can be suspended");
            s.set_state(common::SERVICE_STATE_SUSPENDED);
            detail = "suspended";
            break;
          case v1::SERVICE_CHANGE_ACTION_RESUME:
            if (s.state() != common::SERVICE_STATE_SUSPENDED) return refuse("only a suspended service can be resumed");
            s.set_state(common::SERVICE_STATE_ACTIVE);
            detail = "resumed";
            break;
          default:
            if (s.state() == common::SERVICE_STATE_CANCELED) return refuse("it is already canceled");
            s.set_state(common::SERVICE_STATE_CANCELED);
            detail = "canceled";
            break;
        }
        const int64_t expected = s.version();
        s.set_version(expected + 1);
        *s.mutable_update_time() = ToProto(m.now());
        PC_RETURN_IF_ERROR(m.tx().UpdateService(m.cloud(), s, expected));
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "ServiceChanged",
                .detail = absl::StrCat(s.display_name(), ": ", detail),
                .set_payload = [&](ev::EventEnvelope& e) {
                  ev::ServiceChanged* p = e.mutable_service_changed();
                  *p->mutable_service() = s;
                  p->set_previous_license_quantity(previous_quantity);
                  p->set_previous_state(previous_state);
                }}));
        return s;
      });
}

absl::StatusOr<v1::CustomerUser> RelationshipDomain::CreateUser(const CallContext& call,
                                                                const v1::CreateUserRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin}, {}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateEmail("user_principal_name", req.user_principal_name()));
  if (req.display_name().empty()) return InvalidFieldError("display_name", "is required");
  PC_RETURN_IF_ERROR(ValidateText("display_name", req.display_name(), 200));
  PC_RETURN_IF_ERROR(pc::ValidateMaxEntries("service_ids", req.service_ids_size(),
                                             kMaxServiceIdsPerUser));
  for (int i = 0; i < req.service_ids_size(); ++i) {
    if (!pc::IsUuid(req.service_ids(i))) {
      return InvalidFieldError(absl::StrCat("service_ids[", i, "]"), "must be a service id");
    }
    for (int j = 0; j < i; ++j) {
      if (req.service_ids(j) == req.service_ids(i)) {
        return InvalidFieldError(absl::StrCat("service_ids[", i, "]"), "repeats an earlier id");
      }
    }
  }
  return Mutate<v1::CustomerUser>(
      call, "CreateUser", req, [&](Mutation& m) -> absl::StatusOr<v1::CustomerUser> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        if (!IsService(call) && !PartnerSide(call, r, /*admin_only=*/true)) return NotFound();
        PC_RETURN_IF_ERROR(RequireAdmin(r));
        for (int i = 0; i < req.service_ids_size(); ++i) {
          PC_ASSIGN_OR_RETURN(std::optional<ServiceRecord> s,
                              m.tx().GetService(m.cloud(), req.service_ids(i)));
          if (!s.has_value() || s->partner_id != r.partner_id() ||
              s->customer_id != r.customer_id() ||
              s->service.state() == common::SERVICE_STATE_CANCELED) {
            return InvalidFieldError(absl::StrCat("service_ids[", i, "]"),
                                     "is not an active service of this customer");
          }
        }
        v1::CustomerUser u;
        u.set_id(pc::NewUuid());
        u.set_customer_id(r.customer_id());
        u.set_user_principal_name(req.user_principal_name());
        u.set_display_name(req.display_name());
        *u.mutable_service_ids() = req.service_ids();
        *u.mutable_create_time() = ToProto(m.now());
        absl::Status inserted = m.tx().InsertUser(m.cloud(), u);
        if (absl::IsAlreadyExists(inserted)) {
          return absl::AlreadyExistsError(absl::StrCat("the customer already has a user ",
                                                       req.user_principal_name()));
        }
        PC_RETURN_IF_ERROR(inserted);
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "UserCreated",
                .detail = absl::StrCat("created user ", u.user_principal_name(), " with ",
                                       u.service_ids_size(), " license(s)")}));
        return u;
      });
}

absl::StatusOr<common::ServiceRequest> RelationshipDomain::OpenServiceRequest(
    const CallContext& call, const v1::OpenServiceRequestRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRolePartnerAdmin, kRolePartnerAgent}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  if (req.title().empty()) return InvalidFieldError("title", "is required");
  PC_RETURN_IF_ERROR(ValidateText("title", req.title(), 200));
  PC_RETURN_IF_ERROR(ValidateText("description", req.description(), 5000));
  if (req.severity() == common::SERVICE_REQUEST_SEVERITY_UNSPECIFIED ||
      !common::ServiceRequestSeverity_IsValid(req.severity())) {
    return InvalidFieldError("severity", "must be LOW, MEDIUM, HIGH or CRITICAL");
  }
  return Mutate<common::ServiceRequest>(
      call, "OpenServiceRequest", req, [&](Mutation& m) -> absl::StatusOr<common::ServiceRequest> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        if (!PartnerSide(call, r, /*admin_only=*/false)) return NotFound();
        // Support responsibility stays while ACTIVE, whatever admin_access is.
        PC_RETURN_IF_ERROR(RequireActive(r));
        common::ServiceRequest sr;
        sr.set_id(pc::NewUuid());
        sr.set_title(req.title());
        sr.set_description(req.description());
        sr.set_severity(req.severity());
        *sr.mutable_opened_by() = m.actor();
        *sr.mutable_create_time() = ToProto(m.now());
        PC_RETURN_IF_ERROR(m.tx().InsertServiceRequest(m.cloud(), r.partner_id(), r.customer_id(), sr));
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "ServiceRequestOpened",
                .detail = absl::StrCat("service request opened: ", sr.title(), " (",
                                       common::ServiceRequestSeverity_Name(sr.severity()), ")"),
                .set_payload = [&](ev::EventEnvelope& e) {
                  *e.mutable_service_request_opened()->mutable_service_request() = sr;
                }}));
        return sr;
      });
}

absl::StatusOr<v1::Relationship> RelationshipDomain::AssignSupportContact(
    const CallContext& call, const v1::AssignSupportContactRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRolePartnerAdmin}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  const common::SupportContact& c = req.contact();
  PC_RETURN_IF_ERROR(ValidateId("contact.partner_id", c.partner_id()));
  if (c.name().empty()) return InvalidFieldError("contact.name", "is required");
  PC_RETURN_IF_ERROR(ValidateText("contact.name", c.name(), 200));
  PC_RETURN_IF_ERROR(ValidateEmail("contact.email", c.email()));
  if (c.phone().size() > 40 ||
      c.phone().find_first_not_of("0123456789 +-().") != std::string::npos) {
    return InvalidFieldError("contact.phone", "must be at most 40 of digits, spaces and +-().");
  }
  if (req.version() < 0) return InvalidFieldError("version", "must not be negative");
  return Mutate<v1::Relationship>(
      call, "AssignSupportContact", req, [&](Mutation& m) -> absl::StatusOr<v1::Relationship> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        if (!PartnerSide(call, r, /*admin_only=*/true)) return NotFound();
        PC_RETURN_IF_ERROR(RequireActive(r));
        PC_RETURN_IF_ERROR(CheckVersion(req.version(), r.version()));
        if (c.partner_id() != r.partner_id() && c.partner_id() != r.indirect_reseller_id()) {
          return InvalidFieldError("contact.partner_id",
                                   "must be the partner or its indirect reseller");
        }
        *r.mutable_support_contact() = c;
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "SupportContactAssigned",
                .detail = absl::StrCat("support contact: ", c.name(), " (", c.partner_id(), ")"),
                .set_payload = [&](ev::EventEnvelope& e) {
                  *e.mutable_support_contact_assigned()->mutable_contact() = c;
                }}));
        return r;
      });
}

absl::StatusOr<v1::Relationship> RelationshipDomain::RemoveRelationship(
    const CallContext& call, const v1::RemoveRelationshipRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {kRolePartnerAdmin, kRoleCustomerAdmin}));
  PC_RETURN_IF_ERROR(ValidatePair("partner_id", req.partner_id(), "customer_id", req.customer_id()));
  PC_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 1000));
  if (req.version() < 0) return InvalidFieldError("version", "must not be negative");
  return Mutate<v1::Relationship>(
      call, "RemoveRelationship", req, [&](Mutation& m) -> absl::StatusOr<v1::Relationship> {
        PC_ASSIGN_OR_RETURN(v1::Relationship r,
                            LoadVisible(m.tx(), call, req.partner_id(), req.customer_id()));
        const bool by_customer = CustomerSide(call, r);
        if (!by_customer) {
          if (!PartnerSide(call, r, /*admin_only=*/true)) return NotFound();
          if (call.claims.tenant_id != r.partner_id()) {
            return FailedPreconditionError(
                pc::reason::kIndirectResellerCannotRemove,
                "only the direct partner or the indirect provider can remove the relationship");
          }
        }
        PC_RETURN_IF_ERROR(RequireActive(r));
        PC_RETURN_IF_ERROR(CheckVersion(req.version(), r.version()));
        PC_ASSIGN_OR_RETURN(int64_t active,
                            m.tx().CountActiveServices(m.cloud(), r.partner_id(), r.customer_id()));
        if (active > 0) {
          return FailedPreconditionError(
              pc::reason::kActiveServicesExist,
              absl::StrCat(active, " service(s) are still active or suspended; cancel them first"));
        }
        if (r.admin_access() == common::ADMIN_ACCESS_GRANTED) {
          r.set_admin_access(common::ADMIN_ACCESS_REVOKED);
          PC_RETURN_IF_ERROR(m.Commit(
              r, {.action = "PermissionRevoked",
                  .detail = "admin permission ended with the relationship",
                  .reason = req.reason(),
                  .cause = ev::CAUSE_RELATIONSHIP_REMOVED,
                  .set_payload = [&](ev::EventEnvelope& e) {
                    e.mutable_permission_revoked()->set_reason(req.reason());
                  }}));
        }
        r.set_state(common::RELATIONSHIP_STATE_REMOVED);
        r.set_support_responsible(false);
        r.clear_support_contact();
        PC_RETURN_IF_ERROR(m.Commit(
            r, {.action = "RelationshipRemoved",
                .detail = by_customer ? "the customer removed the relationship"
                                      : "the partner removed the relationship",
                .reason = req.reason(),
                .cause = by_customer ? ev::CAUSE_CUSTOMER_REMOVED : ev::CAUSE_PARTNER_REMOVED,
                .set_payload = [&](ev::EventEnvelope& e) {
                  e.mutable_relationship_removed()->set_reason(req.reason());
                }}));
        return r;
      });
}

}  // namespace pc::relationship
