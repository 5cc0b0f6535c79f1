#include "projector.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "pc/common/errors.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"

namespace pc::notification {
namespace {

namespace ev = partnercenter::events::v1;

v1::LastChange LastChangeOf(const ev::EventEnvelope& e, std::string summary) {
  v1::LastChange c;
  c.set_event_type(e.type());
  *c.mutable_occurred_at() = e.occurred_at();
  *c.mutable_actor() = e.actor();
  c.set_summary(std::move(summary));
  return c;
}

// What AppendChange stores at a sequence: a `Change` (CustomerChange or PartnerChange) of
// `kind`, with the row `set_row` puts in and the event that caused it.
template <typename Change>
std::function<std::string(int64_t)> ChangeAt(v1::ChangeKind kind, const ev::EventEnvelope& e,
                                             std::function<void(Change&)> set_row) {
  return [kind, &e, set_row = std::move(set_row)](int64_t sequence) {
    Change change;
    change.set_sequence(sequence);
    change.set_kind(kind);
    set_row(change);
    change.set_event_id(e.event_id());
    change.set_event_type(e.type());
    return change.SerializeAsString();
  };
}

std::string Summary(const ev::EventEnvelope& e) {
  switch (e.payload_case()) {
    case ev::EventEnvelope::kRelationshipEstablished:
      return e.relationship_established().admin_access() == common::ADMIN_ACCESS_GRANTED
                 ? "Relationship established with admin permission"
                 : "Relationship established without admin permission";
    case ev::EventEnvelope::kPermissionRevoked:
      return e.cause() == ev::CAUSE_CUSTOMER_REASSIGNED
                 ? absl::StrCat("Admin permission reassigned to ",
                                e.permission_revoked().reassigned_to_partner_id(),
                                " — support responsibility retained")
             : e.cause() == ev::CAUSE_RELATIONSHIP_REMOVED
                 ? "Admin permission ended with the relationship"
                 : "Admin permission revoked — support responsibility retained";
    case ev::EventEnvelope::kPermissionGranted:
      return e.permission_granted().restored() ? "Admin permission restored"
                                               : "Admin permission granted";
    case ev::EventEnvelope::kRelationshipRemoved:
      return "Relationship removed";
    case ev::EventEnvelope::kSupportContactAssigned:
      return absl::StrCat("Support contact: ", e.support_contact_assigned().contact().name());
    case ev::EventEnvelope::kServiceProvisioned:
      return absl::StrCat("Provisioned ", e.service_provisioned().service().display_name());
    case ev::EventEnvelope::kServiceChanged:
      return absl::StrCat("Changed ", e.service_changed().service().display_name());
    case ev::EventEnvelope::kServiceRequestOpened:
      return absl::StrCat("Service request: ",
                          e.service_request_opened().service_request().title());
    case ev::EventEnvelope::kInvitationSent:
      return "Invitation sent — awaiting customer";
    case ev::EventEnvelope::kInvitationAccepted:
      return "Invitation accepted";
    case ev::EventEnvelope::kInvitationDeclined:
      return absl::StrCat("Invitation declined: ", e.invitation_declined().reason());
    case ev::EventEnvelope::kInvitationCanceled:
      return "Invitation canceled";
    case ev::EventEnvelope::kInvitationExpired:
      return "Invitation expired";
    case ev::EventEnvelope::kInvitationResent:
      return "Invitation resent — awaiting customer";
    default:
      return e.type();
  }
}

bool IsInvitationEvent(const ev::EventEnvelope& e) {
  return e.payload_case() >= ev::EventEnvelope::kInvitationSent &&
         e.payload_case() <= ev::EventEnvelope::kInvitationResent;
}

}  // namespace

Projector::Projector(ProjectorOptions options, NotificationStore& store,
                     std::function<void()> on_commit)
    : options_(std::move(options)), store_(store), on_commit_(std::move(on_commit)) {}

absl::Status Projector::ApplyBytes(const std::string& payload) {
  ev::EventEnvelope e;
  if (!e.ParseFromString(payload) || e.event_id().empty()) {
    return absl::DataLossError("not an EventEnvelope");
  }
  if (e.payload_case() == ev::EventEnvelope::PAYLOAD_NOT_SET) {
    if (e.type().empty()) return absl::DataLossError("envelope without type or payload");
    // A newer producer's event type: this build has nothing to show for it.
    unknown_types_.fetch_add(1);
    Report(pc::events::Outcome::kIgnoredUnknownType, 1);
    return absl::OkStatus();
  }
  return Apply(e);
}

absl::Status Projector::Admissible(const ev::EventEnvelope& e) const {
  if (pc::events::CloudName(e.cloud()) != options_.cloud) {
    return pc::FailedPreconditionError(pc::reason::kCloudMismatch, "event of another cloud");
  }
  if (e.partner_id().empty() || e.aggregate_id().empty()) {
    return absl::InvalidArgumentError("event without partner_id or aggregate_id");
  }
  if (!IsInvitationEvent(e) && e.customer_id().empty()) {
    return absl::InvalidArgumentError("relationship event without customer_id");
  }
  return absl::OkStatus();
}

absl::Status Projector::ApplyIn(StoreTx& tx, const ev::EventEnvelope& e, bool* duplicate,
                                bool* changed) {
  PC_ASSIGN_OR_RETURN(bool first,
                      tx.FirstDelivery(options_.consumer_group, e.event_id()));
  *duplicate = !first;
  *changed = false;
  if (!first) return absl::OkStatus();
  return IsInvitationEvent(e) ? ApplyInvitation(tx, e, changed) : ApplyRelationship(tx, e, changed);
}

absl::Status Projector::Apply(const ev::EventEnvelope& e) {
  PC_RETURN_IF_ERROR(Admissible(e));
  bool changed = false;
  bool duplicate = false;
  PC_RETURN_IF_ERROR(store_.InTransaction(
      [&](StoreTx& tx) -> absl::Status { return ApplyIn(tx, e, &duplicate, &changed); }));
  if (duplicate) {
    duplicates_.fetch_add(1);
    Report(pc::events::Outcome::kDuplicateIgnored, 1);
  } else if (changed) {
    applied_.fetch_add(1);
    Report(pc::events::Outcome::kApplied, 1);
    if (on_commit_) on_commit_();
  } else {
    stale_.fetch_add(1);
    Report(pc::events::Outcome::kStaleIgnored, 1);
  }
  return absl::OkStatus();
}

absl::Status Projector::ApplyBatch(const std::vector<std::string>& payloads) {
  std::vector<ev::EventEnvelope> events;
  uint64_t unknown = 0;
  for (const std::string& payload : payloads) {
    ev::EventEnvelope e;
    if (!e.ParseFromString(payload) || e.event_id().empty()) {
      return absl::DataLossError("not an EventEnvelope");
    }
    if (e.payload_case() == ev::EventEnvelope::PAYLOAD_NOT_SET) {
      if (e.type().empty()) return absl::DataLossError("envelope without type or payload");
      ++unknown;
      continue;
    }
    PC_RETURN_IF_ERROR(Admissible(e));
    events.push_back(std::move(e));
  }
  uint64_t applied = 0, duplicates = 0, stale = 0;
  PC_RETURN_IF_ERROR(store_.InTransaction([&](StoreTx& tx) -> absl::Status {
    applied = duplicates = stale = 0;
    for (const ev::EventEnvelope& e : events) {
      bool duplicate = false, changed = false;
      PC_RETURN_IF_ERROR(ApplyIn(tx, e, &duplicate, &changed));
      duplicates += duplicate;
      applied += changed;
      stale += !duplicate && !changed;
    }
    return absl::OkStatus();
  }));
  unknown_types_.fetch_add(unknown);
  duplicates_.fetch_add(duplicates);
  applied_.fetch_add(applied);
  stale_.fetch_add(stale);
  Report(pc::events::Outcome::kIgnoredUnknownType, unknown);
  Report(pc::events::Outcome::kDuplicateIgnored, duplicates);
  Report(pc::events::Outcome::kApplied, applied);
  Report(pc::events::Outcome::kStaleIgnored, stale);
  if (applied > 0 && on_commit_) on_commit_();
  return absl::OkStatus();
}

absl::Status Projector::ApplyInvitation(StoreTx& tx, const ev::EventEnvelope& e, bool* changed) {
  const std::string& cloud = options_.cloud;
  PC_ASSIGN_OR_RETURN(std::optional<v1::InvitationRow> found, tx.GetInvitationRow(cloud, e.aggregate_id()));
  v1::InvitationRow r = found.value_or(v1::InvitationRow());
  const bool newer = !found.has_value() || e.aggregate_version() > r.version();
  // Facts only InvitationSent carries (kind, hint, creation) are filled in even from a late,
  // older event; state never goes back.
  if (e.has_invitation_sent()) {
    const ev::InvitationSent& s = e.invitation_sent();
    r.set_kind(s.kind());
    r.set_include_admin_permission(s.include_admin_permission());
    *r.mutable_customer_hint() = s.customer_hint();
    *r.mutable_create_time() = e.occurred_at();
    if (newer || !r.has_expire_time()) *r.mutable_expire_time() = s.expire_time();
  }
  if (!newer) {
    if (e.has_invitation_sent()) PC_RETURN_IF_ERROR(tx.PutInvitationRow(cloud, r));
    return absl::OkStatus();
  }
  r.set_invitation_id(e.aggregate_id());
  r.set_partner_id(e.partner_id());
  switch (e.payload_case()) {
    case ev::EventEnvelope::kInvitationSent:
      r.set_state(common::INVITATION_STATE_PENDING);
      break;
    case ev::EventEnvelope::kInvitationAccepted:
      r.set_state(common::INVITATION_STATE_ACCEPTED);
      r.set_customer_id(e.customer_id());
      r.set_kind(e.invitation_accepted().kind());
      r.set_include_admin_permission(e.invitation_accepted().include_admin_permission());
      break;
    case ev::EventEnvelope::kInvitationDeclined:
      r.set_state(common::INVITATION_STATE_DECLINED);
      r.set_decline_reason(e.invitation_declined().reason());
      break;
    case ev::EventEnvelope::kInvitationCanceled:
      r.set_state(common::INVITATION_STATE_CANCELED);
      break;
    case ev::EventEnvelope::kInvitationExpired:
      r.set_state(common::INVITATION_STATE_EXPIRED);
      break;
    default:  // kInvitationResent
      r.set_state(common::INVITATION_STATE_PENDING);
      *r.mutable_expire_time() = e.invitation_resent().expire_time();
      break;
  }
  if (!r.has_create_time()) *r.mutable_create_time() = e.occurred_at();
  r.set_version(e.aggregate_version());
  *r.mutable_last_change() = LastChangeOf(e, Summary(e));
  PC_RETURN_IF_ERROR(tx.PutInvitationRow(cloud, r));
  PC_RETURN_IF_ERROR(
      tx.AppendChange(cloud, r.partner_id(), /*customer_id=*/"",
                      ChangeAt<v1::CustomerChange>(v1::CHANGE_KIND_UPSERT, e,
                                                   [&](auto& c) { *c.mutable_invitation() = r; }),
                      nullptr)
          .status());
  *changed = true;
  return absl::OkStatus();
}

absl::Status Projector::ApplyRelationship(StoreTx& tx, const ev::EventEnvelope& e, bool* changed) {
  const std::string& cloud = options_.cloud;
  const std::string& partner = e.partner_id();
  const std::string& customer = e.customer_id();
  PC_ASSIGN_OR_RETURN(std::optional<RelationshipRows> found,
                      tx.GetRelationship(cloud, partner, customer));
  if (found.has_value() && e.aggregate_version() <= found->customer.version()) {
    return absl::OkStatus();
  }
  v1::CustomerRow c = found.has_value() ? std::move(found->customer) : v1::CustomerRow();
  v1::PartnerRow p = found.has_value() ? std::move(found->partner) : v1::PartnerRow();
  c.set_partner_id(partner);
  c.set_customer_id(customer);
  p.set_partner_id(partner);
  p.set_customer_id(customer);
  bool removed = false;
  switch (e.payload_case()) {
    case ev::EventEnvelope::kRelationshipEstablished: {
      const ev::RelationshipEstablished& est = e.relationship_established();
      c.set_company_name(est.customer_profile().company_name());
      c.set_primary_domain(est.customer_profile().primary_domain());
      c.set_indirect_reseller_id(est.indirect_reseller_id());
      p.set_partner_display_name(est.partner_display_name());
      p.set_indirect_reseller_id(est.indirect_reseller_id());
      c.set_relationship_state(common::RELATIONSHIP_STATE_ACTIVE);
      c.set_admin_access(est.admin_access());
      c.set_support_responsible(true);
      c.clear_support_contact();
      break;
    }
    case ev::EventEnvelope::kPermissionRevoked:
      c.set_admin_access(common::ADMIN_ACCESS_REVOKED);
      break;
    case ev::EventEnvelope::kPermissionGranted:
      c.set_admin_access(common::ADMIN_ACCESS_GRANTED);
      break;
    case ev::EventEnvelope::kRelationshipRemoved:
      c.set_relationship_state(common::RELATIONSHIP_STATE_REMOVED);
      c.set_support_responsible(false);
      c.clear_support_contact();
      removed = true;
      break;
    case ev::EventEnvelope::kSupportContactAssigned:
      *c.mutable_support_contact() = e.support_contact_assigned().contact();
      break;
    case ev::EventEnvelope::kServiceProvisioned:
      PC_RETURN_IF_ERROR(tx.PutService(cloud, partner, customer, e.service_provisioned().service()));
      break;
    case ev::EventEnvelope::kServiceChanged:
      PC_RETURN_IF_ERROR(tx.PutService(cloud, partner, customer, e.service_changed().service()));
      break;
    default:  // kServiceRequestOpened: only the last change moves
      break;
  }
  if (e.has_service_provisioned() || e.has_service_changed()) {
    PC_ASSIGN_OR_RETURN(auto totals, tx.ServiceTotals(cloud, partner, customer));
    c.set_active_service_count(totals.first);
    c.set_license_total(totals.second);
  }
  c.set_version(e.aggregate_version());
  *c.mutable_last_change() = LastChangeOf(e, Summary(e));
  // The Partners page shows the same relationship facts.
  p.set_relationship_state(c.relationship_state());
  p.set_admin_access(c.admin_access());
  p.set_support_responsible(c.support_responsible());
  *p.mutable_support_contact() = c.support_contact();
  if (!c.has_support_contact()) p.clear_support_contact();
  p.set_active_service_count(c.active_service_count());
  *p.mutable_last_change() = c.last_change();
  p.set_version(c.version());
  PC_RETURN_IF_ERROR(tx.PutRelationship(cloud, c, p));
  const v1::ChangeKind kind = removed ? v1::CHANGE_KIND_REMOVE : v1::CHANGE_KIND_UPSERT;
  PC_RETURN_IF_ERROR(
      tx.AppendChange(cloud, partner, customer,
                      ChangeAt<v1::CustomerChange>(kind, e,
                                                   [&](auto& change) { *change.mutable_customer() = c; }),
                      ChangeAt<v1::PartnerChange>(kind, e,
                                                  [&](auto& change) { *change.mutable_partner() = p; }))
          .status());
  *changed = true;
  return absl::OkStatus();
}

}  // namespace pc::notification
