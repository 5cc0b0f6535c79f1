// The gRPC face of RelationshipDomain: authenticate the bearer token (verified tokens are
// cached, so the hot CheckAdminAccess pays for a signature once per token), call the domain,
// translate the status. No business rules here.
#pragma once

#include <memory>

#include "domain.h"
#include "grpcpp/channel.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"
#include "pc/auth/token_cache.h"
#include "pc/common/clock.h"

namespace pc::relationship {

// Every RPC once: X(method, request, response). Expanded for the declarations here and the
// definitions in grpc_service.cc, which all authenticate and call the same-named domain method.
#define PC_RELATIONSHIP_RPCS(X)                                                                 \
  X(GetRelationship, v1::GetRelationshipRequest, v1::Relationship)                              \
  X(ListRelationships, v1::ListRelationshipsRequest, v1::ListRelationshipsResponse)             \
  X(ListPartners, v1::ListPartnersRequest, v1::ListRelationshipsResponse)                       \
  X(GetCustomerRecord, v1::GetCustomerRecordRequest, v1::CustomerRecord)                        \
  X(RevokeAdminPermission, v1::RevokeAdminPermissionRequest, v1::Relationship)                  \
  X(ReassignAdminPermission, v1::ReassignAdminPermissionRequest,                                \
    v1::ReassignAdminPermissionResponse)                                                        \
  X(RequestAdminRestore, v1::RequestAdminRestoreRequest, v1::RequestAdminRestoreResponse)       \
  X(ProvisionService, v1::ProvisionServiceRequest, common::CustomerService)                     \
  X(ChangeService, v1::ChangeServiceRequest, common::CustomerService)                           \
  X(CreateUser, v1::CreateUserRequest, v1::CustomerUser)                                        \
  X(ListUsers, v1::ListUsersRequest, v1::ListUsersResponse)                                     \
  X(OpenServiceRequest, v1::OpenServiceRequestRequest, common::ServiceRequest)                  \
  X(AssignSupportContact, v1::AssignSupportContactRequest, v1::Relationship)                    \
  X(RemoveRelationship, v1::RemoveRelationshipRequest, v1::Relationship)                        \
  X(ListHistory, v1::ListHistoryRequest, v1::ListHistoryResponse)                               \
  X(CheckAdminAccess, v1::CheckAdminAccessRequest, v1::CheckAdminAccessResponse)

class RelationshipGrpcService final : public v1::RelationshipService::Service {
 public:
  RelationshipGrpcService(RelationshipDomain& domain, const pc::auth::Verifier& verifier,
                          const pc::Clock& clock)
      : domain_(domain), tokens_(verifier), clock_(clock) {}

#define PC_RELATIONSHIP_RPC(Method, Req, Resp) \
  grpc::Status Method(grpc::ServerContext* ctx, const Req* req, Resp* resp) override;
  PC_RELATIONSHIP_RPCS(PC_RELATIONSHIP_RPC)
#undef PC_RELATIONSHIP_RPC

 private:
  template <typename Req, typename Resp, typename Method>
  grpc::Status Handle(grpc::ServerContext* ctx, const Req* req, Resp* resp, Method method,
                      bool mutates);

  RelationshipDomain& domain_;
  pc::auth::VerifiedTokenCache tokens_;
  const pc::Clock& clock_;
};

// InvitationClient over gRPC: forwards the caller's bearer token and correlation id, with a
// deadline per attempt; UNAVAILABLE / DEADLINE_EXCEEDED are retried (the call is idempotent by
// its request_id).
class GrpcInvitationClient final : public InvitationClient {
 public:
  GrpcInvitationClient(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline,
                       int attempts = 3);
  absl::StatusOr<partnercenter::invitation::v1::CreateInvitationResponse> CreateInvitation(
      const CallContext& call,
      const partnercenter::invitation::v1::CreateInvitationRequest& request) override;

 private:
  std::unique_ptr<partnercenter::invitation::v1::InvitationService::Stub> stub_;
  absl::Duration deadline_;
  int attempts_;
};

}  // namespace pc::relationship
