#include "grpc_service.h"

#include <chrono>
#include <thread>

#include "pc/auth/grpc_auth.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"

namespace pc::relationship {

template <typename Req, typename Resp, typename Method>
grpc::Status RelationshipGrpcService::Handle(grpc::ServerContext* ctx, const Req* req, Resp* resp,
                                             Method method) {
  absl::StatusOr<pc::auth::Claims> claims = pc::auth::Authenticate(*ctx, tokens_, clock_);
  if (!claims.ok()) return pc::ToGrpcStatus(claims.status());
  const CallContext call{*std::move(claims), pc::auth::CorrelationIdOf(*ctx), pc::auth::BearerTokenOf(*ctx)};
  auto result = (domain_.*method)(call, *req);
  if (!result.ok()) return pc::ToGrpcStatus(result.status());
  *resp = *std::move(result);
  return grpc::Status::OK;
}

#define PC_RELATIONSHIP_RPC(Method, Req, Resp)                                                  \
  grpc::Status RelationshipGrpcService::Method(grpc::ServerContext* ctx, const Req* req,        \
                                               Resp* resp) {                                    \
    return Handle(ctx, req, resp, &RelationshipDomain::Method);                                 \
  }
PC_RELATIONSHIP_RPC(GetRelationship, v1::GetRelationshipRequest, v1::Relationship)
PC_RELATIONSHIP_RPC(ListRelationships, v1::ListRelationshipsRequest, v1::ListRelationshipsResponse)
PC_RELATIONSHIP_RPC(ListPartners, v1::ListPartnersRequest, v1::ListRelationshipsResponse)
PC_RELATIONSHIP_RPC(GetCustomerRecord, v1::GetCustomerRecordRequest, v1::CustomerRecord)
PC_RELATIONSHIP_RPC(RevokeAdminPermission, v1::RevokeAdminPermissionRequest, v1::Relationship)
PC_RELATIONSHIP_RPC(ReassignAdminPermission, v1::ReassignAdminPermissionRequest,
                    v1::ReassignAdminPermissionResponse)
PC_RELATIONSHIP_RPC(RequestAdminRestore, v1::RequestAdminRestoreRequest,
                    v1::RequestAdminRestoreResponse)
PC_RELATIONSHIP_RPC(ProvisionService, v1::ProvisionServiceRequest, common::CustomerService)
PC_RELATIONSHIP_RPC(ChangeService, v1::ChangeServiceRequest, common::CustomerService)
PC_RELATIONSHIP_RPC(CreateUser, v1::CreateUserRequest, v1::CustomerUser)
PC_RELATIONSHIP_RPC(ListUsers, v1::ListUsersRequest, v1::ListUsersResponse)
PC_RELATIONSHIP_RPC(OpenServiceRequest, v1::OpenServiceRequestRequest, common::ServiceRequest)
PC_RELATIONSHIP_RPC(AssignSupportContact, v1::AssignSupportContactRequest, v1::Relationship)
PC_RELATIONSHIP_RPC(RemoveRelationship, v1::RemoveRelationshipRequest, v1::Relationship)
PC_RELATIONSHIP_RPC(ListHistory, v1::ListHistoryRequest, v1::ListHistoryResponse)
PC_RELATIONSHIP_RPC(CheckAdminAccess, v1::CheckAdminAccessRequest, v1::CheckAdminAccessResponse)
#undef PC_RELATIONSHIP_RPC

GrpcInvitationClient::GrpcInvitationClient(std::shared_ptr<grpc::Channel> channel,
                                           absl::Duration deadline, int attempts)
    : stub_(partnercenter::invitation::v1::InvitationService::NewStub(std::move(channel))),
      deadline_(deadline),
      attempts_(attempts) {}

absl::StatusOr<partnercenter::invitation::v1::CreateInvitationResponse>
GrpcInvitationClient::CreateInvitation(
    const CallContext& call, const partnercenter::invitation::v1::CreateInvitationRequest& request) {
  grpc::Status status;
  for (int attempt = 1; attempt <= attempts_; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline_));
    pc::auth::AttachBearerToken(&ctx, call.bearer_token);
    ctx.AddMetadata(pc::auth::kCorrelationHeader, call.correlation_id);
    partnercenter::invitation::v1::CreateInvitationResponse response;
    status = stub_->CreateInvitation(&ctx, request, &response);
    if (status.ok()) return response;
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      break;
    }
    if (attempt < attempts_) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
  absl::Status out = pc::FromGrpcStatus(status);
  if (out.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError("the invitation service did not answer in time; retry");
  }
  return out;
}

}  // namespace pc::relationship
