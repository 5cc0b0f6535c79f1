#include "eligibility.h"

#include "pc/auth/grpc_auth.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"

namespace pc::invitation {

namespace common = partnercenter::common::v1;
namespace rel = partnercenter::relationship::v1;

GrpcEligibilityChecker::GrpcEligibilityChecker(std::shared_ptr<grpc::Channel> channel,
                                               absl::Duration deadline, int attempts,
                                               TokenSource service_token)
    : stub_(rel::RelationshipService::NewStub(std::move(channel))),
      deadline_(deadline),
      attempts_(attempts),
      service_token_(std::move(service_token)) {}

absl::Status GrpcEligibilityChecker::Check(const CallContext& call, const std::string& partner_id,
                                           const std::string& customer_tenant_id,
                                           common::InvitationKind kind) {
  rel::GetRelationshipRequest request;
  request.set_partner_id(partner_id);
  request.set_customer_id(customer_tenant_id);
  std::string bearer = call.bearer_token;
  if (service_token_) {
    absl::StatusOr<std::string> own = service_token_();
    if (!own.ok()) {
      return absl::UnavailableError(
          "the invitation service has no usable service token to check this customer; retry");
    }
    bearer = *std::move(own);
  }
  rel::Relationship r;
  const grpc::Status status = pc::RetryTransient(attempts_, [&] {
    grpc::ClientContext ctx;
    pc::auth::PrepareOutgoingCall(&ctx, bearer, call.correlation_id, deadline_);
    return stub_->GetRelationship(&ctx, request, &r);
  });
  const bool active = status.ok() && r.state() == common::RELATIONSHIP_STATE_ACTIVE;
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
    if (pc::IsTransient(status)) {
      return absl::UnavailableError(
          "the relationship service could not be reached to check this customer; retry");
    }
    return pc::FromGrpcStatus(status);
  }
  if (kind == common::INVITATION_KIND_RESELLER_RELATIONSHIP) {
    if (active) {
      return pc::WithReason(
          absl::AlreadyExistsError("this customer already has an active relationship with you"),
          pc::reason::kRelationshipExists);
    }
    return absl::OkStatus();
  }
  if (!active) {
    return pc::FailedPreconditionError(pc::reason::kRelationshipNotActive,
                                       "admin restore needs an active relationship");
  }
  if (r.admin_access() == common::ADMIN_ACCESS_GRANTED) {
    return pc::FailedPreconditionError(pc::reason::kAdminPermissionAlreadyGranted,
                                       "you already have admin permission for this customer");
  }
  return absl::OkStatus();
}

}  // namespace pc::invitation
