#include "pc/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace pc {
namespace {
constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";

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

absl::Status InvalidFieldError(std::string_view field, std::string_view why) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", std::string(why))),
                    reason::kInvalidField, {{"field", std::string(field)}});
}

absl::Status FailedPreconditionError(std::string_view reason, std::string_view message) {
  return WithReason(absl::FailedPreconditionError(std::string(message)), reason);
}

}  // namespace pc
