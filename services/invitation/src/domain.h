// The invitation service's business rules (design.md §3), free of gRPC, Kafka and SQL.
//
// A partner admin creates an invitation and gets an email draft with a personalized,
// single-use link; a customer's global admin previews, accepts or declines it with the token
// from the link. Every state change and its event (InvitationSent, InvitationAccepted, …)
// commit in one transaction through the Repository (outbox).
//
//   InvitationDomain domain(options, repository, clock, /*eligibility=*/nullptr);
//   auto created = domain.Create(call, request);   // call = verified claims + correlation id
//   auto accepted = domain.Accept(customer_call, {token, profile});
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "partnercenter/invitation/v1/invitation_service.pb.h"
#include "pc/auth/claims.h"
#include "pc/common/clock.h"
#include "rate_limiter.h"
#include "repository.h"

namespace pc::invitation {

namespace v1 = partnercenter::invitation::v1;

// Who is calling, as verified by the adapter, and the correlation id to put on events.
struct CallContext {
  pc::auth::Claims claims;
  std::string correlation_id;
  // The caller's raw bearer token: forwarded when asking the relationship service.
  std::string bearer_token = {};
};

// Asks the relationship service whether an invitation makes sense (issue: eligibility at
// invite time). OK if it may be created; ALREADY_EXISTS (RELATIONSHIP_EXISTS) for a
// RESELLER_RELATIONSHIP to an ACTIVE customer; FAILED_PRECONDITION
// (ADMIN_PERMISSION_ALREADY_GRANTED) for an ADMIN_RESTORE where admin is GRANTED.
class EligibilityChecker {
 public:
  virtual ~EligibilityChecker() = default;
  virtual absl::Status Check(const CallContext& call, const std::string& partner_id,
                             const std::string& customer_tenant_id,
                             partnercenter::common::v1::InvitationKind kind) = 0;
};

struct DomainOptions {
  std::string cloud = "global";
  // The accept link is <portal_base_url>/invitations/accept?token=<token>; from config only.
  std::string portal_base_url = "http://localhost:8080";
  absl::Duration default_validity = absl::Hours(24 * 30);
  absl::Duration max_validity = absl::Hours(24 * 90);
  // Failed token uses per customer tenant before RESOURCE_EXHAUSTED.
  int max_token_failures = 10;
  absl::Duration token_failure_window = absl::Minutes(15);
  int max_expire_batch = 100;
};

class InvitationDomain {
 public:
  // `eligibility` may be null (no relationship service configured: nothing is checked).
  // `on_commit` runs after every committed change (wakes the outbox relay); may be empty.
  InvitationDomain(DomainOptions options, Repository& repository, const pc::Clock& clock,
                   EligibilityChecker* eligibility, std::function<void()> on_commit = {});

  absl::StatusOr<v1::CreateInvitationResponse> Create(const CallContext& call,
                                                      const v1::CreateInvitationRequest& req);
  absl::StatusOr<v1::Invitation> Get(const CallContext& call, const v1::GetInvitationRequest& req);
  absl::StatusOr<v1::ListInvitationsResponse> List(const CallContext& call,
                                                   const v1::ListInvitationsRequest& req);
  absl::StatusOr<v1::Invitation> Cancel(const CallContext& call,
                                        const v1::CancelInvitationRequest& req);
  absl::StatusOr<v1::ResendInvitationResponse> Resend(const CallContext& call,
                                                      const v1::ResendInvitationRequest& req);
  absl::StatusOr<v1::InvitationPreview> Preview(const CallContext& call,
                                                const v1::PreviewInvitationRequest& req);
  absl::StatusOr<v1::AcceptInvitationResponse> Accept(const CallContext& call,
                                                      const v1::AcceptInvitationRequest& req);
  absl::StatusOr<v1::Invitation> Decline(const CallContext& call,
                                         const v1::DeclineInvitationRequest& req);
  // Moves due PENDING invitations to EXPIRED (one InvitationExpired each); returns how many.
  // Safe with several replicas: a row another replica expired first is skipped.
  absl::StatusOr<int> ExpireDue();

  // The one error every unusable link gets (unknown, expired, used, canceled, declined,
  // meant for another customer): same code, same message.
  static absl::Status InvalidLinkError();

 private:
  absl::StatusOr<StoredInvitation> LoadOwned(RepositoryTx& tx, const CallContext& call,
                                             const std::string& id);
  absl::StatusOr<StoredInvitation> LoadByToken(RepositoryTx& tx, const CallContext& call,
                                               const std::string& token);
  // Role, rate limit and token format of a customer's token call (Preview/Accept/Decline);
  // a malformed token counts as a failure if `count_failure`.
  absl::Status AdmitTokenCall(const CallContext& call, const std::string& token,
                              bool count_failure = true);
  // Counts an unusable-link answer against the caller's tenant; returns `status`.
  absl::Status CountLinkFailure(const CallContext& call, absl::Status status);
  absl::Status CheckAcceptingCustomer(const CallContext& call, const std::string& token);
  absl::Status CommitChange(const std::function<absl::Status(RepositoryTx&)>& fn);
  // CommitChange for a call on a link (Accept, Decline): if another call on the same link
  // committed first (ABORTED on the invitation's version, PostgreSQL with several replicas),
  // `fn` runs once more and answers from that call's result: the same customer gets the
  // idempotent answer, anyone else the generic invalid-link error.
  absl::Status CommitTokenChange(const std::function<absl::Status(RepositoryTx&)>& fn);
  std::string NewLink(std::string* token_hash) const;

  DomainOptions options_;
  Repository& repository_;
  const pc::Clock& clock_;
  EligibilityChecker* eligibility_;
  std::function<void()> on_commit_;
  FailureRateLimiter token_failures_;
};

}  // namespace pc::invitation
