#include "pc/common/errors.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"

namespace pc {
namespace {
constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

absl::Status WithBadRequest(absl::Status status,
                            const std::vector<std::pair<std::string, std::string>>& violations) {
  google::rpc::BadRequest bad;
  for (const auto& [field, why] : violations) {
    auto* v = bad.add_field_violations();
    v->set_field(field);
    v->set_description(why);
  }
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

bool ErrorInfoOf(const absl::Status& status, google::rpc::ErrorInfo* info) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  return payload.has_value() && info->ParseFromString(std::string(*payload));
}
}  // namespace

absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(reason::kDomain);
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  return ErrorInfoOf(status, &info) ? info.reason() : "";
}

std::map<std::string, std::string> ReasonMetadataOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (!ErrorInfoOf(status, &info)) return {};
  return {info.metadata().begin(), info.metadata().end()};
}

absl::Status WithDefaultReason(absl::Status status) {
  if (status.ok() || status.GetPayload(kErrorInfoTypeUrl).has_value()) return status;
  const std::string name = absl::StatusCodeToString(status.code());
  return WithReason(std::move(status), name.empty() ? "UNKNOWN" : name);
}

absl::Status InvalidFieldError(std::string_view field, std::string_view why) {
  FieldViolations violations;
  violations.Add(field, why);
  return violations.ToStatus();
}

absl::Status ResourceNotFoundError(std::string_view resource, std::string_view message) {
  return WithReason(absl::NotFoundError(std::string(message)), reason::kNotFound,
                    {{"resource", std::string(resource)}});
}

absl::Status RateLimitedError(std::string_view message, absl::Duration retry_after) {
  const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(retry_after, absl::Seconds(1))));
  absl::Status status = WithReason(absl::ResourceExhaustedError(std::string(message)),
                                   reason::kRateLimited,
                                   {{"retry_after_seconds", std::to_string(seconds)}});
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(seconds);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  google::rpc::RetryInfo retry;
  if (!payload.has_value() || !retry.ParseFromString(std::string(*payload))) return std::nullopt;
  return absl::Seconds(retry.retry_delay().seconds()) +
         absl::Nanoseconds(retry.retry_delay().nanos());
}

std::vector<std::pair<std::string, std::string>> FieldViolationsOf(const absl::Status& status) {
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest bad;
  if (!payload.has_value() || !bad.ParseFromString(std::string(*payload))) return {};
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : bad.field_violations()) out.emplace_back(v.field(), v.description());
  return out;
}

void FieldViolations::Add(const absl::Status& status) {
  if (status.ok()) return;
  auto violations = FieldViolationsOf(status);
  if (status.code() != absl::StatusCode::kInvalidArgument || violations.empty()) {
    if (other_.ok()) other_ = status;
    return;
  }
  for (auto& v : violations) violations_.push_back(std::move(v));
}

void FieldViolations::Add(std::string_view field, std::string_view why) {
  violations_.emplace_back(std::string(field), std::string(why));
}

absl::Status FieldViolations::ToStatus() const {
  if (!other_.ok()) return other_;
  if (violations_.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const auto& [field, why] : violations_) parts.push_back(absl::StrCat(field, ": ", why));
  absl::Status status = WithReason(absl::InvalidArgumentError(absl::StrJoin(parts, "; ")),
                                   reason::kInvalidField, {{"field", violations_[0].first}});
  return WithBadRequest(std::move(status), violations_);
}

absl::Status FailedPreconditionError(std::string_view reason, std::string_view message) {
  return WithReason(absl::FailedPreconditionError(std::string(message)), reason);
}

}  // namespace pc
