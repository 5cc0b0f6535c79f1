#include "grpc_service.h"

#include "pc/auth/grpc_auth.h"
#include "pc/common/failpoint.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"

namespace pc::invitation {

template <typename Req, typename Resp, typename Method>
grpc::Status InvitationGrpcService::Handle(grpc::ServerContext* ctx, const Req* req, Resp* resp,
                                           Method method, bool mutates) {
  absl::StatusOr<pc::auth::Claims> claims = pc::auth::Authenticate(*ctx, verifier_, clock_);
  if (!claims.ok()) return pc::ToGrpcStatus(claims.status());
  const CallContext call{*std::move(claims), pc::auth::CorrelationIdOf(*ctx), pc::auth::BearerTokenOf(*ctx)};
  auto result = (domain_.*method)(call, *req);
  if (!result.ok()) return pc::ToGrpcStatus(result.status());
  if (mutates) pc::failpoint::Hit("rpc.after_commit");  // committed; the caller has no answer yet
  *resp = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status InvitationGrpcService::CreateInvitation(grpc::ServerContext* ctx,
                                                     const v1::CreateInvitationRequest* req,
                                                     v1::CreateInvitationResponse* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Create, /*mutates=*/true);
}
grpc::Status InvitationGrpcService::GetInvitation(grpc::ServerContext* ctx,
                                                  const v1::GetInvitationRequest* req,
                                                  v1::Invitation* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Get);
}
grpc::Status InvitationGrpcService::ListInvitations(grpc::ServerContext* ctx,
                                                    const v1::ListInvitationsRequest* req,
                                                    v1::ListInvitationsResponse* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::List);
}
grpc::Status InvitationGrpcService::CancelInvitation(grpc::ServerContext* ctx,
                                                     const v1::CancelInvitationRequest* req,
                                                     v1::Invitation* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Cancel, /*mutates=*/true);
}
grpc::Status InvitationGrpcService::ResendInvitation(grpc::ServerContext* ctx,
                                                     const v1::ResendInvitationRequest* req,
                                                     v1::ResendInvitationResponse* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Resend, /*mutates=*/true);
}
grpc::Status InvitationGrpcService::PreviewInvitation(grpc::ServerContext* ctx,
                                                      const v1::PreviewInvitationRequest* req,
                                                      v1::InvitationPreview* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Preview);
}
grpc::Status InvitationGrpcService::AcceptInvitation(grpc::ServerContext* ctx,
                                                     const v1::AcceptInvitationRequest* req,
                                                     v1::AcceptInvitationResponse* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Accept, /*mutates=*/true);
}
grpc::Status InvitationGrpcService::DeclineInvitation(grpc::ServerContext* ctx,
                                                      const v1::DeclineInvitationRequest* req,
                                                      v1::Invitation* resp) {
  return Handle(ctx, req, resp, &InvitationDomain::Decline, /*mutates=*/true);
}

}  // namespace pc::invitation
