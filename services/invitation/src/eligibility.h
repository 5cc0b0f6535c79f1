// EligibilityChecker over gRPC: asks RelationshipService.GetRelationship (a deadline per
// attempt, retries on UNAVAILABLE / DEADLINE_EXCEEDED) whether an invitation to (or an
// acceptance by) a customer tenant makes sense. It calls as the invitation service's own
// identity when given a token source (`--service_token_file`: the one RPC that identity is
// admitted to), else with the caller's bearer token.
//   RESELLER_RELATIONSHIP to a customer already ACTIVE with this partner → ALREADY_EXISTS
//     (RELATIONSHIP_EXISTS)
//   ADMIN_RESTORE with admin already GRANTED → FAILED_PRECONDITION
//     (ADMIN_PERMISSION_ALREADY_GRANTED); with no ACTIVE relationship → FAILED_PRECONDITION
//     (RELATIONSHIP_NOT_ACTIVE)
// If the relationship service can't be reached after the retries: UNAVAILABLE (nothing is
// drafted; the partner retries).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "domain.h"
#include "grpcpp/channel.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"

namespace pc::invitation {

class GrpcEligibilityChecker final : public EligibilityChecker {
 public:
  using TokenSource = std::function<absl::StatusOr<std::string>()>;
  GrpcEligibilityChecker(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline,
                         int attempts = 3, TokenSource service_token = nullptr);
  absl::Status Check(const CallContext& call, const std::string& partner_id,
                     const std::string& customer_tenant_id,
                     partnercenter::common::v1::InvitationKind kind) override;

 private:
  std::unique_ptr<partnercenter::relationship::v1::RelationshipService::Stub> stub_;
  absl::Duration deadline_;
  int attempts_;
  TokenSource service_token_;
};

}  // namespace pc::invitation
