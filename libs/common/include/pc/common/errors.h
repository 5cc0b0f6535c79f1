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
//
// Every error a service sends carries an ErrorInfo (ToGrpcStatus adds the code's own name,
// e.g. NOT_FOUND, where the code path gave none); invalid fields also carry a
// google.rpc.BadRequest listing every violation, and rate limits a google.rpc.RetryInfo:
//
//   pc::FieldViolations violations;
//   violations.Add(pc::ValidateDomain("customer_profile.primary_domain", domain));
//   violations.Add(pc::ValidateCountryCode("customer_profile.country", country));
//   PC_RETURN_IF_ERROR(violations.ToStatus());  // all of them at once
//   return pc::RateLimitedError("too many invalid links; try again later", absl::Minutes(15));
//
// docs/errors.md lists every reason, what it means and what a caller should do.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

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
inline constexpr char kNotFound[] = "NOT_FOUND";
inline constexpr char kMalformedRequest[] = "MALFORMED_REQUEST";
}  // namespace reason

// Returns `status` with an ErrorInfo payload carrying `reason` and `metadata`.
absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata = {});
// The ErrorInfo reason of `status`, or "" if it has none.
std::string ReasonOf(const absl::Status& status);
// The ErrorInfo metadata of `status` (e.g. {"field": "page_size"}).
std::map<std::string, std::string> ReasonMetadataOf(const absl::Status& status);

// `status` itself if it has an ErrorInfo (or is OK), else with one whose reason is the
// code's name ("NOT_FOUND", "INTERNAL", …). What ToGrpcStatus sends.
absl::Status WithDefaultReason(absl::Status status);

// INVALID_ARGUMENT "<field>: <why>", reason INVALID_FIELD, metadata {field}, and a
// google.rpc.BadRequest with that one field violation.
absl::Status InvalidFieldError(std::string_view field, std::string_view why);
// FAILED_PRECONDITION with `reason`.
absl::Status FailedPreconditionError(std::string_view reason, std::string_view message);
// NOT_FOUND with reason NOT_FOUND and metadata {resource} (e.g. "relationship").
absl::Status ResourceNotFoundError(std::string_view resource, std::string_view message);
// RESOURCE_EXHAUSTED with reason RATE_LIMITED and a google.rpc.RetryInfo saying when the
// caller may try again (also ErrorInfo metadata retry_after_seconds).
absl::Status RateLimitedError(std::string_view message, absl::Duration retry_after);
// The RetryInfo delay of `status`, if it has one.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

// The google.rpc.BadRequest field violations of `status` as (field, description) pairs.
std::vector<std::pair<std::string, std::string>> FieldViolationsOf(const absl::Status& status);

// Collects every invalid field of a request so one answer names them all.
class FieldViolations {
 public:
  // Adds the violations of an InvalidFieldError (OK adds nothing). Any other error is kept
  // and returned by ToStatus() instead, as it is not about a field.
  void Add(const absl::Status& status);
  void Add(std::string_view field, std::string_view why);
  bool empty() const { return violations_.empty() && other_.ok(); }

  // OK if nothing was added; else INVALID_ARGUMENT "<f1>: <why1>; <f2>: <why2>", reason
  // INVALID_FIELD with metadata {field: <f1>} and a BadRequest listing every violation.
  absl::Status ToStatus() const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
  absl::Status other_;
};

}  // namespace pc
