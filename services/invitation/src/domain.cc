#include "domain.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "email_draft.h"
#include "google/protobuf/util/time_util.h"
#include "pc/auth/authorization.h"
#include "pc/common/errors.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
#include "validation.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

constexpr int kTokenBytes = 32;  // 256 bits
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;

Timestamp ToProto(absl::Time t) { return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t)); }
// Exact for every valid Timestamp (0001–9999), unlike a detour through int64 nanoseconds.
absl::Time FromProto(const Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

common::Actor ActorOf(const CallContext& call) {
  common::Actor actor;
  actor.set_kind(call.claims.HasRole(pc::auth::kRoleCustomerAdmin)
                     ? common::ACTOR_KIND_CUSTOMER_ADMIN
                 : call.claims.HasRole(pc::auth::kRoleService) ? common::ACTOR_KIND_SYSTEM
                                                                : common::ACTOR_KIND_PARTNER_USER);
  actor.set_id(call.claims.subject);
  actor.set_tenant_id(call.claims.tenant_id);
  actor.set_display_name(call.claims.display_name.value_or(""));
  return actor;
}

// The customer's tenant once it responded, or before that the tenant the hint names.
std::string KnownCustomerId(const Invitation& inv) {
  if (!inv.customer_id().empty()) return inv.customer_id();
  if (inv.customer_hint().hint_case() == common::CustomerHint::kTenantId) {
    return inv.customer_hint().tenant_id();
  }
  return "";
}

ev::EventEnvelope NewEvent(const Invitation& inv, const CallContext* call, ev::Cause cause,
                           absl::Time now) {
  common::Actor actor;
  if (call != nullptr) {
    actor = ActorOf(*call);
  } else {
    actor.set_kind(common::ACTOR_KIND_SYSTEM);
    actor.set_id("invitation-expiry");
  }
  return pc::events::NewEnvelope(
      {.cloud = pc::events::CloudName(inv.cloud()),
       .partner_id = inv.partner_id(),
       .customer_id = KnownCustomerId(inv),
       .aggregate_id = inv.id(),
       .aggregate_version = inv.version(),
       .actor = actor,
       .cause = cause,
       .correlation_id = call != nullptr && !call->correlation_id.empty() ? call->correlation_id
                                                                          : pc::NewUuid()},
      now);
}

// What must match on an idempotent retry: the request without its request_id.
std::string RequestHash(v1::CreateInvitationRequest req) {
  req.clear_request_id();
  return pc::Sha256Hex(req.SerializeAsString());
}

absl::Status CheckVersion(int64_t requested, int64_t current) {
  if (requested > 0 && requested != current) {
    return pc::WithReason(
        absl::AbortedError(absl::StrCat("the invitation changed (version ", current,
                                        "); reload and retry")),
        pc::reason::kVersionConflict);
  }
  return absl::OkStatus();
}

absl::Status NotPending(const Invitation& inv) {
  return pc::FailedPreconditionError(
      pc::reason::kInvitationNotPending,
      absl::StrCat("the invitation is ", common::InvitationState_Name(inv.state()),
                   ", not PENDING"));
}

// Page tokens are opaque to callers: base64url("v1|<order>|<key>|<id>").
std::string EncodePageToken(ListOrder order, int64_t key, const std::string& id) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1|", static_cast<int>(order), "|", key, "|", id));
}

absl::Status DecodePageToken(const std::string& token, ListOrder order, ListQuery* q) {
  std::string raw;
  const absl::Status bad = InvalidFieldError("page_token", "is not a token this list returned");
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 3));
  int order_value = 0;
  int64_t key = 0;
  if (parts.size() != 4 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], &order_value) ||
      order_value != static_cast<int>(order) || !absl::SimpleAtoi(parts[2], &key) ||
      !pc::IsUuid(parts[3])) {
    return bad;
  }
  q->after_key = key;
  q->after_id = parts[3];
  return absl::OkStatus();
}

absl::StatusOr<ListOrder> ParseOrder(const std::string& order_by) {
  if (order_by.empty() || order_by == "create_time desc") return ListOrder::kCreateTimeDesc;
  if (order_by == "create_time asc" || order_by == "create_time") return ListOrder::kCreateTimeAsc;
  if (order_by == "expire_time asc" || order_by == "expire_time") return ListOrder::kExpireTimeAsc;
  if (order_by == "expire_time desc") return ListOrder::kExpireTimeDesc;
  return InvalidFieldError("order_by",
                           "must be one of 'create_time desc', 'create_time asc', "
                           "'expire_time asc', 'expire_time desc'");
}

absl::Status ValidatePageSize(int32_t page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return InvalidFieldError("page_size", "must be between 1 and 200 (0 means 50)");
  }
  return absl::OkStatus();
}

// Every invalid field at once (a BadRequest with one violation per field).
absl::Status ValidateProfile(const common::CustomerProfile& p) {
  pc::FieldViolations violations;
  if (p.company_name().empty()) {
    violations.Add("customer_profile.company_name", "is required");
  } else {
    violations.Add(ValidateText("customer_profile.company_name", p.company_name(), 200));
  }
  violations.Add(ValidateDomain("customer_profile.primary_domain", p.primary_domain()));
  violations.Add(pc::ValidateCountryCode("customer_profile.country", p.country()));
  return violations.ToStatus();
}

// created_after / created_before: valid Timestamps, the range not reversed.
absl::Status ValidateCreatedRange(const v1::ListInvitationsRequest& req) {
  pc::FieldViolations violations;
  if (req.has_created_after()) {
    violations.Add(pc::ValidateTimestamp("created_after", req.created_after().seconds(),
                                         req.created_after().nanos()));
  }
  if (req.has_created_before()) {
    violations.Add(pc::ValidateTimestamp("created_before", req.created_before().seconds(),
                                         req.created_before().nanos()));
  }
  PC_RETURN_IF_ERROR(violations.ToStatus());
  if (req.has_created_after() && req.has_created_before() &&
      FromProto(req.created_after()) > FromProto(req.created_before())) {
    return InvalidFieldError("created_before", "must not be earlier than created_after");
  }
  return absl::OkStatus();
}

// True if the calling customer is the one the invitation's hint names (or there is no hint).
// An email-domain hint is satisfied only by a domain the identity provider verified for the
// caller's tenant (claim `verified_domains`), never by a typed value. A partner's own tenant
// is never its customer.
bool HintAdmits(const Invitation& inv, const pc::auth::Claims& caller) {
  if (caller.tenant_id == inv.partner_id()) return false;
  switch (inv.customer_hint().hint_case()) {
    case common::CustomerHint::kTenantId:
      return inv.customer_hint().tenant_id() == caller.tenant_id;
    case common::CustomerHint::kEmailDomain:
      return caller.HasVerifiedDomain(inv.customer_hint().email_domain());
    default:
      return true;
  }
}

}  // namespace

InvitationDomain::InvitationDomain(DomainOptions options, Repository& repository,
                                   const pc::Clock& clock, EligibilityChecker* eligibility,
                                   std::function<void()> on_commit)
    : options_(std::move(options)),
      repository_(repository),
      clock_(clock),
      eligibility_(eligibility),
      on_commit_(std::move(on_commit)),
      token_failures_(options_.max_token_failures, options_.token_failure_window, clock) {}

absl::Status InvitationDomain::InvalidLinkError() {
  return pc::WithReason(
      absl::NotFoundError("this invitation link is not valid; ask the partner for a new one"),
      pc::reason::kInvalidInvitationLink);
}

std::string InvitationDomain::NewLink(std::string* token_hash) const {
  const std::string token = pc::RandomUrlSafeToken(kTokenBytes);
  *token_hash = pc::Sha256Hex(token);
  return absl::StrCat(options_.portal_base_url, "/invitations/accept?token=", token);
}

absl::Status InvitationDomain::CommitChange(
    const std::function<absl::Status(RepositoryTx&)>& fn) {
  PC_RETURN_IF_ERROR(repository_.InTransaction(fn));
  if (on_commit_) on_commit_();
  return absl::OkStatus();
}

absl::Status InvitationDomain::CommitTokenChange(
    const std::function<absl::Status(RepositoryTx&)>& fn) {
  absl::Status status = CommitChange(fn);
  if (absl::IsAborted(status)) status = CommitChange(fn);
  return status;
}

absl::Status InvitationDomain::AdmitTokenCall(const CallContext& call, const std::string& token,
                                              bool count_failure) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {pc::auth::kRoleCustomerAdmin}));
  const absl::Duration wait = token_failures_.RetryAfter(call.claims.tenant_id);
  if (wait > absl::ZeroDuration()) {
    return pc::RateLimitedError("too many invalid invitation links; try again later", wait);
  }
  absl::Status valid = ValidateToken("token", token);
  if (!valid.ok() && count_failure) token_failures_.RecordFailure(call.claims.tenant_id);
  return valid;
}

absl::Status InvitationDomain::CountLinkFailure(const CallContext& call, absl::Status status) {
  if (pc::ReasonOf(status) == pc::reason::kInvalidInvitationLink) {
    token_failures_.RecordFailure(call.claims.tenant_id);
  }
  return status;
}

absl::StatusOr<StoredInvitation> InvitationDomain::LoadOwned(RepositoryTx& tx,
                                                             const CallContext& call,
                                                             const std::string& id) {
  const absl::Status not_found = pc::ResourceNotFoundError("invitation", "no such invitation");
  if (!pc::IsUuid(id)) return InvalidFieldError("id", "must be an invitation id (UUID)");
  PC_ASSIGN_OR_RETURN(std::optional<StoredInvitation> found, tx.Get(id));
  // Another tenant's or another cloud's invitation is indistinguishable from a missing one.
  if (!found.has_value() || pc::events::CloudName(found->invitation.cloud()) != options_.cloud ||
      found->invitation.partner_id() != call.claims.tenant_id) {
    return not_found;
  }
  return *std::move(found);
}

absl::StatusOr<StoredInvitation> InvitationDomain::LoadByToken(RepositoryTx& tx,
                                                               const CallContext& call,
                                                               const std::string& token) {
  PC_ASSIGN_OR_RETURN(std::optional<StoredInvitation> found,
                      tx.GetByTokenHash(pc::Sha256Hex(token)));
  if (!found.has_value() || pc::events::CloudName(found->invitation.cloud()) != options_.cloud) {
    return InvalidLinkError();
  }
  return *std::move(found);
}

absl::StatusOr<v1::CreateInvitationResponse> InvitationDomain::Create(
    const CallContext& call, const v1::CreateInvitationRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {pc::auth::kRolePartnerAdmin}));
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.kind() != common::INVITATION_KIND_RESELLER_RELATIONSHIP &&
      req.kind() != common::INVITATION_KIND_ADMIN_RESTORE) {
    return InvalidFieldError("kind", "must be RESELLER_RELATIONSHIP or ADMIN_RESTORE");
  }
  if (!req.indirect_reseller_id().empty()) {
    PC_RETURN_IF_ERROR(ValidateId("indirect_reseller_id", req.indirect_reseller_id()));
    if (req.indirect_reseller_id() == call.claims.tenant_id) {
      return InvalidFieldError("indirect_reseller_id", "must not be the partner itself");
    }
  }
  PC_RETURN_IF_ERROR(ValidateCustomerHint("customer_hint", req.customer_hint()));
  if (req.customer_hint().tenant_id() == call.claims.tenant_id) {
    return InvalidFieldError("customer_hint.tenant_id", "must not be your own tenant");
  }
  if (req.kind() == common::INVITATION_KIND_ADMIN_RESTORE &&
      req.customer_hint().hint_case() != common::CustomerHint::kTenantId) {
    return InvalidFieldError("customer_hint.tenant_id",
                             "is required for ADMIN_RESTORE (the existing customer)");
  }
  PC_RETURN_IF_ERROR(ValidateText("message", req.message(), 2000));
  PC_RETURN_IF_ERROR(ValidateText("custom_body", req.custom_body(), 10000));
  PC_RETURN_IF_ERROR(ValidateText("partner_display_name", req.partner_display_name(), 200));
  const std::string locale = req.locale().empty() ? kDefaultLocale : req.locale();
  if (!IsSupportedLocale(locale)) return InvalidFieldError("locale", "must be 'en' or 'pt-BR'");
  absl::Duration validity = options_.default_validity;
  if (req.validity_days() != 0) {
    validity = absl::Hours(24) * req.validity_days();
    if (req.validity_days() < 0 || validity > options_.max_validity) {
      return InvalidFieldError("validity_days", "must be between 1 and 90 (0 means 30)");
    }
  }

  const std::string& partner_id = call.claims.tenant_id;
  const std::string hint_key = HintKey(req.customer_hint());
  const bool restore = req.kind() == common::INVITATION_KIND_ADMIN_RESTORE;
  const std::string request_hash = RequestHash(req);

  // Eligibility is asked before any email is drafted (and outside the transaction).
  if (eligibility_ != nullptr && req.customer_hint().has_tenant_id()) {
    PC_RETURN_IF_ERROR(
        eligibility_->Check(call, partner_id, req.customer_hint().tenant_id(), req.kind()));
  }

  v1::CreateInvitationResponse response;
  // The new invitation's writes: row, idempotency record, InvitationSent (deferred: on
  // PostgreSQL they go out with the COMMIT).
  auto write_new = [&](RepositoryTx& tx, absl::Time now) -> absl::Status {
    StoredInvitation stored;
    Invitation& inv = stored.invitation;
    inv.set_id(pc::NewUuid());
    inv.set_cloud(pc::events::CloudFromName(options_.cloud));
    inv.set_partner_id(partner_id);
    inv.set_partner_display_name(!req.partner_display_name().empty()
                                     ? req.partner_display_name()
                                     : call.claims.display_name.value_or(partner_id));
    inv.set_indirect_reseller_id(req.indirect_reseller_id());
    inv.set_kind(req.kind());
    inv.set_include_admin_permission(restore || req.include_admin_permission());
    *inv.mutable_customer_hint() = req.customer_hint();
    if (inv.customer_hint().has_email_domain()) {
      inv.mutable_customer_hint()->set_email_domain(
          absl::AsciiStrToLower(inv.customer_hint().email_domain()));
    }
    inv.set_message(req.message());
    inv.set_locale(locale);
    inv.set_state(common::INVITATION_STATE_PENDING);
    *inv.mutable_create_time() = ToProto(now);
    *inv.mutable_update_time() = ToProto(now);
    *inv.mutable_expire_time() = ToProto(now + validity);
    inv.set_version(1);
    const EmailText text = ComposeEmail({.locale = locale,
                                         .partner_name = inv.partner_display_name(),
                                         .kind = req.kind(),
                                         .include_admin = inv.include_admin_permission(),
                                         .message = req.message(),
                                         .custom_body = req.custom_body(),
                                         .expire_time = now + validity});
    inv.set_email_subject(text.subject);
    inv.set_email_body(text.body);
    stored.hint_key = hint_key;
    const std::string link = NewLink(&stored.token_hash);
    PC_RETURN_IF_ERROR(tx.Insert(stored));
    PC_RETURN_IF_ERROR(tx.PutRequest(partner_id, req.request_id(),
                                     {"CreateInvitation", request_hash, inv.id()}, now));
    ev::EventEnvelope event = NewEvent(inv, &call, ev::CAUSE_UNSPECIFIED, now);
    ev::InvitationSent* sent = event.mutable_invitation_sent();
    sent->set_invitation_id(inv.id());
    sent->set_kind(inv.kind());
    sent->set_include_admin_permission(inv.include_admin_permission());
    sent->set_indirect_reseller_id(inv.indirect_reseller_id());
    *sent->mutable_customer_hint() = inv.customer_hint();
    sent->set_partner_display_name(inv.partner_display_name());
    *sent->mutable_expire_time() = inv.expire_time();
    sent->set_locale(locale);
    pc::events::Seal(event);
    PC_RETURN_IF_ERROR(tx.Emit(event));
    *response.mutable_invitation() = inv;
    *response.mutable_email_draft() = RenderDraft(text, link, "", locale);
    return absl::OkStatus();
  };
  // Most creates are new, so the first try writes without looking: the request's primary key
  // refuses a retry (or a reused request_id) and the one-pending index a second pending
  // invitation, both as ALREADY_EXISTS; then the checked transaction below answers exactly as
  // if it had run first. On PostgreSQL a new create is then one round trip.
  absl::Status fast = CommitChange([&](RepositoryTx& tx) { return write_new(tx, clock_.Now()); });
  if (!absl::IsAlreadyExists(fast)) {
    PC_RETURN_IF_ERROR(fast);
    return response;
  }
  response.Clear();
  PC_RETURN_IF_ERROR(CommitChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    // One statement for both lookups: the request seen before? a pending invitation?
    PC_ASSIGN_OR_RETURN(RepositoryTx::CreateCheck check,
                        tx.CheckCreate(partner_id, req.request_id(), options_.cloud, hint_key,
                                       req.kind()));
    const std::optional<RequestRecord>& seen = check.seen;
    if (seen.has_value()) {
      // A retry: same invitation, no second event. The first answer may never have arrived,
      // so its link may never have been seen: issue a fresh one (the token is not stored).
      if (seen->method != "CreateInvitation" || seen->request_hash != request_hash) {
        return InvalidFieldError("request_id", "was already used for a different request");
      }
      PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadOwned(tx, call, seen->invitation_id));
      *response.mutable_invitation() = stored.invitation;
      if (stored.invitation.state() == common::INVITATION_STATE_PENDING) {
        const std::string link = NewLink(&stored.token_hash);
        PC_RETURN_IF_ERROR(tx.Update(stored, stored.invitation.version()));
        *response.mutable_email_draft() = RenderDraft(
            {stored.invitation.email_subject(), stored.invitation.email_body()}, link, "",
            stored.invitation.locale());
      }
      return absl::OkStatus();
    }
    const std::optional<std::string>& pending = check.pending;
    if (pending.has_value()) {
      return pc::WithReason(
          absl::AlreadyExistsError(absl::StrCat(
              "a pending invitation for this customer already exists: ", *pending)),
          pc::reason::kPendingInvitationExists, {{"invitation_id", *pending}});
    }
    return write_new(tx, now);
  }));
  return response;
}

absl::StatusOr<v1::Invitation> InvitationDomain::Get(const CallContext& call,
                                                     const v1::GetInvitationRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(
      call.claims, {pc::auth::kRolePartnerAdmin, pc::auth::kRolePartnerAgent}, {}));
  Invitation out;
  PC_RETURN_IF_ERROR(repository_.InTransaction([&](RepositoryTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadOwned(tx, call, req.id()));
    out = std::move(stored.invitation);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListInvitationsResponse> InvitationDomain::List(
    const CallContext& call, const v1::ListInvitationsRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(
      call.claims, {pc::auth::kRolePartnerAdmin, pc::auth::kRolePartnerAgent}));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  PC_ASSIGN_OR_RETURN(ListOrder order, ParseOrder(req.order_by()));
  ListQuery q{.cloud = options_.cloud, .partner_id = call.claims.tenant_id, .order = order};
  for (int s : req.states()) {
    if (!common::InvitationState_IsValid(s) || s == common::INVITATION_STATE_UNSPECIFIED) {
      return InvalidFieldError("states", "contains an unknown state");
    }
    if (std::find(q.states.begin(), q.states.end(), s) == q.states.end()) q.states.push_back(s);
  }
  PC_RETURN_IF_ERROR(ValidateCustomerHint("customer_hint", req.customer_hint()));
  q.hint_key = HintKey(req.customer_hint());
  PC_RETURN_IF_ERROR(ValidateCreatedRange(req));
  if (req.has_created_after()) q.created_after = FromProto(req.created_after());
  if (req.has_created_before()) q.created_before = FromProto(req.created_before());
  if (!req.page_token().empty()) PC_RETURN_IF_ERROR(DecodePageToken(req.page_token(), order, &q));
  const int page_size = req.page_size() == 0 ? kDefaultPageSize : req.page_size();
  q.limit = page_size + 1;

  v1::ListInvitationsResponse out;
  PC_RETURN_IF_ERROR(repository_.InTransaction([&](RepositoryTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(std::vector<StoredInvitation> rows, tx.List(q));
    const bool more = static_cast<int>(rows.size()) > page_size;
    if (more) rows.resize(page_size);
    for (auto& row : rows) *out.add_invitations() = std::move(row.invitation);
    if (more) {
      const Invitation& last = out.invitations(out.invitations_size() - 1);
      const bool by_create =
          order == ListOrder::kCreateTimeAsc || order == ListOrder::kCreateTimeDesc;
      const absl::Time key = FromProto(by_create ? last.create_time() : last.expire_time());
      out.set_next_page_token(EncodePageToken(order, absl::ToUnixMicros(key), last.id()));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Invitation> InvitationDomain::Cancel(const CallContext& call,
                                                        const v1::CancelInvitationRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {pc::auth::kRolePartnerAdmin}));
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  PC_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 1000));
  Invitation out;
  PC_RETURN_IF_ERROR(CommitChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadOwned(tx, call, req.id()));
    PC_ASSIGN_OR_RETURN(std::optional<RequestRecord> seen,
                        tx.GetRequest(call.claims.tenant_id, req.request_id()));
    if (seen.has_value()) {
      if (seen->method != "CancelInvitation" || seen->invitation_id != req.id()) {
        return InvalidFieldError("request_id", "was already used for a different request");
      }
      out = stored.invitation;  // the retry of a cancel that already happened
      return absl::OkStatus();
    }
    Invitation& inv = stored.invitation;
    if (inv.state() != common::INVITATION_STATE_PENDING) return NotPending(inv);
    PC_RETURN_IF_ERROR(CheckVersion(req.version(), inv.version()));
    const int64_t expected = inv.version();
    inv.set_state(common::INVITATION_STATE_CANCELED);
    inv.set_version(expected + 1);
    *inv.mutable_update_time() = ToProto(now);
    stored.token_hash.clear();  // the link dies with the invitation
    PC_RETURN_IF_ERROR(tx.Update(stored, expected));
    PC_RETURN_IF_ERROR(tx.PutRequest(call.claims.tenant_id, req.request_id(),
                                     {"CancelInvitation", "", inv.id()}, now));
    ev::EventEnvelope event = NewEvent(inv, &call, ev::CAUSE_PARTNER_CANCELED, now);
    event.mutable_invitation_canceled()->set_invitation_id(inv.id());
    event.mutable_invitation_canceled()->set_reason(req.reason());
    pc::events::Seal(event);
    PC_RETURN_IF_ERROR(tx.Emit(event));
    out = inv;
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ResendInvitationResponse> InvitationDomain::Resend(
    const CallContext& call, const v1::ResendInvitationRequest& req) {
  PC_RETURN_IF_ERROR(pc::auth::RequireRole(call.claims, {pc::auth::kRolePartnerAdmin}));
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  PC_RETURN_IF_ERROR(ValidateText("custom_body", req.custom_body(), 10000));
  if (!req.locale().empty() && !IsSupportedLocale(req.locale())) {
    return InvalidFieldError("locale", "must be 'en' or 'pt-BR'");
  }
  v1::ResendInvitationResponse out;
  PC_RETURN_IF_ERROR(CommitChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadOwned(tx, call, req.id()));
    Invitation& inv = stored.invitation;
    PC_ASSIGN_OR_RETURN(std::optional<RequestRecord> seen,
                        tx.GetRequest(call.claims.tenant_id, req.request_id()));
    if (seen.has_value() &&
        (seen->method != "ResendInvitation" || seen->invitation_id != req.id())) {
      return InvalidFieldError("request_id", "was already used for a different request");
    }
    if (inv.state() != common::INVITATION_STATE_PENDING) return NotPending(inv);
    const int64_t expected = inv.version();
    if (seen.has_value()) {
      // A retry: a fresh link again (the first answer may have been lost), no second event.
      const std::string link = NewLink(&stored.token_hash);
      PC_RETURN_IF_ERROR(tx.Update(stored, expected));
      *out.mutable_invitation() = inv;
      *out.mutable_email_draft() =
          RenderDraft({inv.email_subject(), inv.email_body()}, link, "", inv.locale());
      return absl::OkStatus();
    }
    PC_RETURN_IF_ERROR(CheckVersion(req.version(), inv.version()));
    const absl::Duration validity = FromProto(inv.expire_time()) - FromProto(inv.create_time());
    if (!req.locale().empty()) inv.set_locale(req.locale());
    const EmailText text = ComposeEmail({.locale = inv.locale(),
                                         .partner_name = inv.partner_display_name(),
                                         .kind = inv.kind(),
                                         .include_admin = inv.include_admin_permission(),
                                         .message = inv.message(),
                                         .custom_body = req.custom_body(),
                                         .expire_time = now + validity});
    inv.set_email_subject(text.subject);
    inv.set_email_body(text.body);
    *inv.mutable_expire_time() = ToProto(now + validity);
    *inv.mutable_update_time() = ToProto(now);
    inv.set_version(expected + 1);
    const std::string link = NewLink(&stored.token_hash);
    PC_RETURN_IF_ERROR(tx.Update(stored, expected));
    PC_RETURN_IF_ERROR(tx.PutRequest(call.claims.tenant_id, req.request_id(),
                                     {"ResendInvitation", "", inv.id()}, now));
    ev::EventEnvelope event = NewEvent(inv, &call, ev::CAUSE_UNSPECIFIED, now);
    event.mutable_invitation_resent()->set_invitation_id(inv.id());
    *event.mutable_invitation_resent()->mutable_expire_time() = inv.expire_time();
    pc::events::Seal(event);
    PC_RETURN_IF_ERROR(tx.Emit(event));
    *out.mutable_invitation() = inv;
    *out.mutable_email_draft() = RenderDraft(text, link, "", inv.locale());
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::InvitationPreview> InvitationDomain::Preview(
    const CallContext& call, const v1::PreviewInvitationRequest& req) {
  // A preview is what a plain GET of the accept link asks for, which another site can make
  // the customer's browser send: its failures are not counted (docs/decisions.md).
  PC_RETURN_IF_ERROR(AdmitTokenCall(call, req.token(), /*count_failure=*/false));
  v1::InvitationPreview out;
  absl::Status status = repository_.InTransaction([&](RepositoryTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadByToken(tx, call, req.token()));
    const Invitation& inv = stored.invitation;
    if (inv.state() != common::INVITATION_STATE_PENDING ||
        clock_.Now() >= FromProto(inv.expire_time()) || !HintAdmits(inv, call.claims)) {
      return InvalidLinkError();
    }
    out.set_invitation_id(inv.id());
    out.set_partner_id(inv.partner_id());
    out.set_partner_display_name(inv.partner_display_name());
    out.set_indirect_reseller_id(inv.indirect_reseller_id());
    out.set_kind(inv.kind());
    out.set_include_admin_permission(inv.include_admin_permission());
    out.set_message(inv.message());
    *out.mutable_expire_time() = inv.expire_time();
    return absl::OkStatus();
  });
  PC_RETURN_IF_ERROR(status);
  return out;
}

absl::StatusOr<v1::AcceptInvitationResponse> InvitationDomain::Accept(
    const CallContext& call, const v1::AcceptInvitationRequest& req) {
  PC_RETURN_IF_ERROR(AdmitTokenCall(call, req.token()));
  const std::string& tenant = call.claims.tenant_id;
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  PC_RETURN_IF_ERROR(ValidateProfile(req.customer_profile()));
  PC_RETURN_IF_ERROR(CountLinkFailure(call, CheckAcceptingCustomer(call, req.token())));
  v1::AcceptInvitationResponse out;
  absl::Status status = CommitTokenChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadByToken(tx, call, req.token()));
    Invitation& inv = stored.invitation;
    if (inv.state() == common::INVITATION_STATE_ACCEPTED && inv.customer_id() == tenant) {
      *out.mutable_invitation() = inv;  // the same customer accepting again: same result
      return absl::OkStatus();
    }
    if (inv.state() != common::INVITATION_STATE_PENDING ||
        now >= FromProto(inv.expire_time()) ||
        !HintAdmits(inv, call.claims)) {
      return InvalidLinkError();
    }
    const int64_t expected = inv.version();
    inv.set_state(common::INVITATION_STATE_ACCEPTED);
    inv.set_customer_id(tenant);
    inv.set_version(expected + 1);
    *inv.mutable_update_time() = ToProto(now);
    // The token stays (hashed) so the same customer's retry finds the same invitation.
    PC_RETURN_IF_ERROR(tx.Update(stored, expected));
    ev::EventEnvelope event = NewEvent(inv, &call, ev::CAUSE_UNSPECIFIED, now);
    ev::InvitationAccepted* accepted = event.mutable_invitation_accepted();
    accepted->set_invitation_id(inv.id());
    accepted->set_kind(inv.kind());
    accepted->set_include_admin_permission(inv.include_admin_permission());
    accepted->set_indirect_reseller_id(inv.indirect_reseller_id());
    *accepted->mutable_customer_profile() = req.customer_profile();
    accepted->set_partner_display_name(inv.partner_display_name());
    pc::events::Seal(event);
    PC_RETURN_IF_ERROR(tx.Emit(event));
    *out.mutable_invitation() = inv;
    return absl::OkStatus();
  });
  PC_RETURN_IF_ERROR(CountLinkFailure(call, status));
  return out;
}

// A customer already ACTIVE with the partner cannot accept another reseller invitation:
// tenant hints are refused when drafted; invitations without one (email-domain hint, or
// none) are refused here, before the acceptance commits. Asked outside the transaction.
absl::Status InvitationDomain::CheckAcceptingCustomer(const CallContext& call,
                                                      const std::string& token) {
  if (eligibility_ == nullptr) return absl::OkStatus();
  std::optional<Invitation> pending;
  PC_RETURN_IF_ERROR(repository_.InTransaction([&](RepositoryTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadByToken(tx, call, token));
    const Invitation& inv = stored.invitation;
    if (inv.state() == common::INVITATION_STATE_PENDING &&
        clock_.Now() < FromProto(inv.expire_time()) && HintAdmits(inv, call.claims) &&
        inv.kind() == common::INVITATION_KIND_RESELLER_RELATIONSHIP &&
        !inv.customer_hint().has_tenant_id()) {
      pending = inv;
    }
    return absl::OkStatus();  // anything else: the transaction gives the usual answer
  }));
  if (!pending.has_value()) return absl::OkStatus();
  absl::Status eligible =
      eligibility_->Check(call, pending->partner_id(), call.claims.tenant_id, pending->kind());
  if (absl::IsAlreadyExists(eligible)) {
    return pc::WithReason(
        absl::AlreadyExistsError("your organization already has an active relationship with "
                                 "this partner"),
        pc::reason::kRelationshipExists);
  }
  return eligible;
}

absl::StatusOr<v1::Invitation> InvitationDomain::Decline(const CallContext& call,
                                                         const v1::DeclineInvitationRequest& req) {
  PC_RETURN_IF_ERROR(AdmitTokenCall(call, req.token()));
  const std::string& tenant = call.claims.tenant_id;
  PC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  PC_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 1000));
  Invitation out;
  absl::Status status = CommitTokenChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(StoredInvitation stored, LoadByToken(tx, call, req.token()));
    Invitation& inv = stored.invitation;
    if (inv.state() == common::INVITATION_STATE_DECLINED && inv.customer_id() == tenant) {
      out = inv;  // the same customer declining again: same result
      return absl::OkStatus();
    }
    if (inv.state() != common::INVITATION_STATE_PENDING ||
        now >= FromProto(inv.expire_time()) || !HintAdmits(inv, call.claims)) {
      return InvalidLinkError();
    }
    const int64_t expected = inv.version();
    inv.set_state(common::INVITATION_STATE_DECLINED);
    inv.set_customer_id(tenant);
    inv.set_decline_reason(req.reason());
    inv.set_version(expected + 1);
    *inv.mutable_update_time() = ToProto(now);
    PC_RETURN_IF_ERROR(tx.Update(stored, expected));
    ev::EventEnvelope event = NewEvent(inv, &call, ev::CAUSE_CUSTOMER_DECLINED, now);
    event.mutable_invitation_declined()->set_invitation_id(inv.id());
    event.mutable_invitation_declined()->set_kind(inv.kind());
    event.mutable_invitation_declined()->set_reason(req.reason());
    pc::events::Seal(event);
    PC_RETURN_IF_ERROR(tx.Emit(event));
    out = inv;
    return absl::OkStatus();
  });
  PC_RETURN_IF_ERROR(CountLinkFailure(call, status));
  return out;
}

absl::StatusOr<int> InvitationDomain::ExpireDue() {
  int expired = 0;
  PC_RETURN_IF_ERROR(CommitChange([&](RepositoryTx& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    PC_ASSIGN_OR_RETURN(std::vector<StoredInvitation> due,
                        tx.DuePending(options_.cloud, now, options_.max_expire_batch));
    for (StoredInvitation& stored : due) {
      Invitation& inv = stored.invitation;
      const int64_t expected = inv.version();
      inv.set_state(common::INVITATION_STATE_EXPIRED);
      inv.set_version(expected + 1);
      *inv.mutable_update_time() = ToProto(now);
      stored.token_hash.clear();
      absl::Status updated = tx.Update(stored, expected);
      if (absl::IsAborted(updated)) continue;  // another replica got there first
      PC_RETURN_IF_ERROR(updated);
      ev::EventEnvelope event = NewEvent(inv, nullptr, ev::CAUSE_EXPIRED, now);
      event.mutable_invitation_expired()->set_invitation_id(inv.id());
      *event.mutable_invitation_expired()->mutable_expire_time() = inv.expire_time();
      pc::events::Seal(event);
      PC_RETURN_IF_ERROR(tx.Emit(event));
      ++expired;
    }
    return absl::OkStatus();
  }));
  return expired;
}

}  // namespace pc::invitation
