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
PC_RELATIONSHIP_RPCS(PC_RELATIONSHIP_RPC)
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
