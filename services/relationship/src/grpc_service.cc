#include "grpc_service.h"

#include <string_view>

#include "pc/auth/grpc_auth.h"
#include "pc/common/failpoint.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"

namespace pc::relationship {

template <typename Req, typename Resp, typename Method>
grpc::Status RelationshipGrpcService::Handle(grpc::ServerContext* ctx, const Req* req, Resp* resp,
                                             Method method, bool mutates) {
  absl::StatusOr<pc::auth::Claims> claims = pc::auth::Authenticate(*ctx, tokens_, clock_);
  if (!claims.ok()) return pc::ToGrpcStatus(claims.status());
  const CallContext call{*std::move(claims), pc::auth::CorrelationIdOf(*ctx), pc::auth::BearerTokenOf(*ctx)};
  auto result = (domain_.*method)(call, *req);
  if (!result.ok()) return pc::ToGrpcStatus(result.status());
  if (mutates) pc::failpoint::Hit("rpc.after_commit");  // committed; the caller has no answer yet
  *resp = *std::move(result);
  return grpc::Status::OK;
}

// Reads are the RPCs named Get…, List… and Check…; every other one commits a change.
constexpr bool IsRead(std::string_view method) {
  return method.starts_with("Get") || method.starts_with("List") || method.starts_with("Check");
}

#define PC_RELATIONSHIP_RPC(Method, Req, Resp)                                                  \
  grpc::Status RelationshipGrpcService::Method(grpc::ServerContext* ctx, const Req* req,        \
                                               Resp* resp) {                                    \
    return Handle(ctx, req, resp, &RelationshipDomain::Method, !IsRead(#Method));               \
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
  partnercenter::invitation::v1::CreateInvitationResponse response;
  const grpc::Status status = pc::RetryTransient(attempts_, [&] {
    grpc::ClientContext ctx;
    pc::auth::PrepareOutgoingCall(&ctx, call.bearer_token, call.correlation_id, deadline_);
    response.Clear();
    return stub_->CreateInvitation(&ctx, request, &response);
  });
  if (status.ok()) return response;
  absl::Status out = pc::FromGrpcStatus(status);
  if (out.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError("the invitation service did not answer in time; retry");
  }
  return out;
}

}  // namespace pc::relationship
