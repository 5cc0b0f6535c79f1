// The gRPC face of InvitationDomain: authenticate the bearer token, call the domain, translate
// the status. No business rules here.
#pragma once

#include "domain.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "pc/auth/verifier.h"
#include "pc/common/clock.h"

namespace pc::invitation {

class InvitationGrpcService final : public v1::InvitationService::Service {
 public:
  InvitationGrpcService(InvitationDomain& domain, const pc::auth::Verifier& verifier,
                        const pc::Clock& clock)
      : domain_(domain), verifier_(verifier), clock_(clock) {}

  grpc::Status CreateInvitation(grpc::ServerContext* ctx, const v1::CreateInvitationRequest* req,
                                v1::CreateInvitationResponse* resp) override;
  grpc::Status GetInvitation(grpc::ServerContext* ctx, const v1::GetInvitationRequest* req,
                             v1::Invitation* resp) override;
  grpc::Status ListInvitations(grpc::ServerContext* ctx, const v1::ListInvitationsRequest* req,
                               v1::ListInvitationsResponse* resp) override;
  grpc::Status CancelInvitation(grpc::ServerContext* ctx, const v1::CancelInvitationRequest* req,
                                v1::Invitation* resp) override;
  grpc::Status ResendInvitation(grpc::ServerContext* ctx, const v1::ResendInvitationRequest* req,
                                v1::ResendInvitationResponse* resp) override;
  grpc::Status PreviewInvitation(grpc::ServerContext* ctx,
                                 const v1::PreviewInvitationRequest* req,
                                 v1::InvitationPreview* resp) override;
  grpc::Status AcceptInvitation(grpc::ServerContext* ctx, const v1::AcceptInvitationRequest* req,
                                v1::AcceptInvitationResponse* resp) override;
  grpc::Status DeclineInvitation(grpc::ServerContext* ctx,
                                 const v1::DeclineInvitationRequest* req,
                                 v1::Invitation* resp) override;

 private:
  template <typename Req, typename Resp, typename Method>
  grpc::Status Handle(grpc::ServerContext* ctx, const Req* req, Resp* resp, Method method,
                      bool mutates = false);

  InvitationDomain& domain_;
  const pc::auth::Verifier& verifier_;
  const pc::Clock& clock_;
};

}  // namespace pc::invitation
