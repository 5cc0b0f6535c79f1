// The relationship service's business rules (design.md §3), free of gRPC, Kafka and SQL.
//
// A relationship (partner, customer, cloud) is created when the customer's global admin
// accepts a RESELLER_RELATIONSHIP invitation (ApplyInvitationEvent), and then changes only
// through the RPC methods below. Each change bumps the relationship's version and commits, in
// one transaction, with its history entry, its idempotency record and its event in the outbox
// (RelationshipEstablished, PermissionRevoked, PermissionGranted, …; aggregate_version = the
// new version).
//
//   RelationshipDomain domain(options, store, clock, invitations, &cache, relay_notify);
//   auto r = domain.RevokeAdminPermission(customer_call, request);
//   auto answer = domain.CheckAdminAccess(service_call, {partner, customer});  // from memory
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "access_cache.h"
#include "partnercenter/events/v1/events.pb.h"
#include "partnercenter/invitation/v1/invitation_service.pb.h"
#include "partnercenter/relationship/v1/relationship_service.pb.h"
#include "pc/auth/claims.h"
#include "pc/common/clock.h"
#include "pc/events/outcome.h"
#include "store.h"

namespace pc::relationship {

// Who is calling, as verified by the adapter, the correlation id for events, and the caller's
// bearer token (forwarded when this service calls another one on the caller's behalf).
struct CallContext {
  pc::auth::Claims claims;
  std::string correlation_id;
  std::string bearer_token;
};

// The invitation service, as RequestAdminRestore needs it.
class InvitationClient {
 public:
  virtual ~InvitationClient() = default;
  virtual absl::StatusOr<partnercenter::invitation::v1::CreateInvitationResponse>
  CreateInvitation(const CallContext& call,
                   const partnercenter::invitation::v1::CreateInvitationRequest& request) = 0;
};

struct DomainOptions {
  std::string cloud = "global";
  // Inbox consumer group for invitation events.
  std::string consumer_group = "relationship";
  // An ADMIN_RESTORE acceptance whose relationship is not known yet is retried (the
  // establishing acceptance may still be in flight on another partition) until the event is
  // this old; then it is dead-lettered.
  absl::Duration restore_wait = absl::Minutes(10);
};

class RelationshipDomain {
 public:
  // `invitations` may be null (RequestAdminRestore then answers UNAVAILABLE). `cache` must
  // outlive the domain. `on_commit` runs after every committed change (wakes the outbox relay).
  RelationshipDomain(DomainOptions options, RelationshipStore& store, const pc::Clock& clock,
                     InvitationClient* invitations, AccessCache& cache,
                     std::function<void()> on_commit = {});

  // Loads the cache entry of a pair from the store (the AccessCache loader).
  absl::StatusOr<AccessEntry> LoadAccess(const std::string& partner_id,
                                         const std::string& customer_id);

  // The invitation-events consumer: applies InvitationAccepted (once, via the inbox);
  // ignores the other invitation events. Errors follow pc::kafka's permanent/transient rules.
  // On OK, `*outcome` (if given) says what it did (applied, duplicate_ignored, …).
  absl::Status ApplyInvitationEvent(const partnercenter::events::v1::EventEnvelope& event,
                                    pc::events::Outcome* outcome = nullptr);
  // Several invitation events in one transaction (what the consumer has already fetched):
  // the same effects as ApplyInvitationEvent on each in order, one commit for all. Any error
  // (an invalid event, a concurrent change) rolls the whole batch back and is returned; the
  // caller then applies the events one at a time so each gets its own outcome. On OK,
  // `outcomes` (if given) holds one outcome per event.
  absl::Status ApplyInvitationEvents(
      const std::vector<partnercenter::events::v1::EventEnvelope>& events,
      std::vector<pc::events::Outcome>* outcomes = nullptr);

  absl::StatusOr<v1::Relationship> GetRelationship(const CallContext& call,
                                                   const v1::GetRelationshipRequest& req);
  absl::StatusOr<v1::ListRelationshipsResponse> ListRelationships(
      const CallContext& call, const v1::ListRelationshipsRequest& req);
  absl::StatusOr<v1::ListRelationshipsResponse> ListPartners(const CallContext& call,
                                                             const v1::ListPartnersRequest& req);
  absl::StatusOr<v1::CustomerRecord> GetCustomerRecord(const CallContext& call,
                                                       const v1::GetCustomerRecordRequest& req);
  absl::StatusOr<v1::Relationship> RevokeAdminPermission(
      const CallContext& call, const v1::RevokeAdminPermissionRequest& req);
  absl::StatusOr<v1::ReassignAdminPermissionResponse> ReassignAdminPermission(
      const CallContext& call, const v1::ReassignAdminPermissionRequest& req);
  absl::StatusOr<v1::RequestAdminRestoreResponse> RequestAdminRestore(
      const CallContext& call, const v1::RequestAdminRestoreRequest& req);
  absl::StatusOr<partnercenter::common::v1::CustomerService> ProvisionService(
      const CallContext& call, const v1::ProvisionServiceRequest& req);
  absl::StatusOr<partnercenter::common::v1::CustomerService> ChangeService(
      const CallContext& call, const v1::ChangeServiceRequest& req);
  absl::StatusOr<v1::CustomerUser> CreateUser(const CallContext& call,
                                              const v1::CreateUserRequest& req);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const CallContext& call,
                                                  const v1::ListUsersRequest& req);
  absl::StatusOr<partnercenter::common::v1::ServiceRequest> OpenServiceRequest(
      const CallContext& call, const v1::OpenServiceRequestRequest& req);
  absl::StatusOr<v1::Relationship> AssignSupportContact(const CallContext& call,
                                                        const v1::AssignSupportContactRequest& req);
  absl::StatusOr<v1::Relationship> RemoveRelationship(const CallContext& call,
                                                      const v1::RemoveRelationshipRequest& req);
  absl::StatusOr<v1::ListHistoryResponse> ListHistory(const CallContext& call,
                                                      const v1::ListHistoryRequest& req);
  absl::StatusOr<v1::CheckAdminAccessResponse> CheckAdminAccess(
      const CallContext& call, const v1::CheckAdminAccessRequest& req);

 private:
  struct Change;
  class Mutation;

  // Runs `fn` in one transaction with request-id idempotency: a retry with the same request
  // replays the stored answer; the same id with a different request is INVALID_ARGUMENT.
  template <typename Resp, typename Req>
  absl::StatusOr<Resp> Mutate(const CallContext& call, const std::string& method, const Req& req,
                              const std::function<absl::StatusOr<Resp>(Mutation&)>& fn);

  // One page of a partner's or a customer's relationships (keyset paging).
  absl::StatusOr<v1::ListRelationshipsResponse> RunList(RelationshipQuery q, int32_t page_size,
                                                        const std::string& page_token);
  // The relationship if the caller may see it, NOT_FOUND otherwise (no hint it exists).
  absl::StatusOr<v1::Relationship> LoadVisible(StoreTx& tx, const CallContext& call,
                                               const std::string& partner_id,
                                               const std::string& customer_id);
  // Checks an invitation event: true if it is an InvitationAccepted to apply, false (with
  // `*outcome` set) if it is ignored, an error if it is invalid.
  absl::StatusOr<bool> CheckInvitationEvent(const partnercenter::events::v1::EventEnvelope& e,
                                            pc::events::Outcome* outcome) const;
  // One transaction of ApplyInvitationEvent (InvitationAccepted, checked).
  absl::Status ApplyAcceptedOnce(const partnercenter::events::v1::EventEnvelope& e,
                                 std::optional<v1::Relationship>* touched,
                                 pc::events::Outcome* outcome);
  // The effect of one checked InvitationAccepted inside `tx`: inbox, version, relationship.
  absl::Status ApplyAcceptedIn(StoreTx& tx, const partnercenter::events::v1::EventEnvelope& e,
                               std::optional<v1::Relationship>* touched,
                               pc::events::Outcome* outcome);
  static constexpr int kConflictAttempts = 3;
  absl::StatusOr<v1::Relationship> ApplyAccepted(StoreTx& tx,
                                                 const partnercenter::events::v1::EventEnvelope& e,
                                                 bool* changed);

  DomainOptions options_;
  RelationshipStore& store_;
  const pc::Clock& clock_;
  InvitationClient* invitations_;
  AccessCache& cache_;
  std::function<void()> on_commit_;
};

}  // namespace pc::relationship
