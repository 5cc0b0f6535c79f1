// Errors with a machine-readable reason (design.md §5).
//
// A reason travels inside absl::Status as a google.rpc.ErrorInfo payload and reaches gRPC
// clients as `grpc-status-details-bin` (see grpc_status.h), so callers can branch on
// `ADMIN_PERMISSION_REVOKED` instead of parsing messages.
//
//   return pc::InvalidFieldError("page_size", "must be between 1 and 200");
//   return pc::FailedPreconditionError(pc::reason::kAdminPermissionRevoked,
//                                      "the customer revoked admin permission");
//   if (pc::ReasonOf(status) == pc::reason::kCloudMismatch) ...
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace pc {

namespace reason {
inline constexpr char kDomain[] = "partnercenter";
inline constexpr char kInvalidField[] = "INVALID_FIELD";
inline constexpr char kAdminPermissionRevoked[] = "ADMIN_PERMISSION_REVOKED";
inline constexpr char kAdminPermissionNotRequested[] = "ADMIN_PERMISSION_NOT_REQUESTED";
inline constexpr char kAdminPermissionAlreadyGranted[] = "ADMIN_PERMISSION_ALREADY_GRANTED";
inline constexpr char kActiveServicesExist[] = "ACTIVE_SERVICES_EXIST";
inline constexpr char kInvitationNotPending[] = "INVITATION_NOT_PENDING";
inline constexpr char kInvalidInvitationLink[] = "INVALID_INVITATION_LINK";
inline constexpr char kCloudMismatch[] = "CLOUD_MISMATCH";
inline constexpr char kRelationshipNotActive[] = "RELATIONSHIP_NOT_ACTIVE";
inline constexpr char kRelationshipExists[] = "RELATIONSHIP_EXISTS";
inline constexpr char kPendingInvitationExists[] = "PENDING_INVITATION_EXISTS";
inline constexpr char kIndirectResellerCannotRemove[] = "INDIRECT_RESELLER_CANNOT_REMOVE";
inline constexpr char kVersionConflict[] = "VERSION_CONFLICT";
inline constexpr char kRateLimited[] = "RATE_LIMITED";
inline constexpr char kWrongTenant[] = "WRONG_TENANT";
inline constexpr char kMissingRole[] = "MISSING_ROLE";
inline constexpr char kInvalidToken[] = "INVALID_TOKEN";
}  // namespace reason

// Returns `status` with an ErrorInfo payload carrying `reason` and `metadata`.
absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata = {});
// The ErrorInfo reason of `status`, or "" if it has none.
std::string ReasonOf(const absl::Status& status);
// The ErrorInfo metadata of `status` (e.g. {"field": "page_size"}).
std::map<std::string, std::string> ReasonMetadataOf(const absl::Status& status);

// INVALID_ARGUMENT "<field>: <why>", reason INVALID_FIELD, metadata {field}.
absl::Status InvalidFieldError(std::string_view field, std::string_view why);
// FAILED_PRECONDITION with `reason`.
absl::Status FailedPreconditionError(std::string_view reason, std::string_view message);

}  // namespace pc
