#include "pc/common/grpc_status.h"

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/cord.h"
#include "google/rpc/status.pb.h"
#include "pc/common/errors.h"

namespace pc {
namespace {
constexpr char kTypeUrlPrefix[] = "type.googleapis.com/";
}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& in) {
  if (in.ok()) return grpc::Status::OK;
  const absl::Status status = WithDefaultReason(in);
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    auto* any = details.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (details.details_size() == 0) return grpc::Status(code, message);
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      if (any.type_url().rfind(kTypeUrlPrefix, 0) != 0) continue;
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

bool IsTransient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

grpc::Status RetryTransient(int attempts, const std::function<grpc::Status()>& call) {
  grpc::Status status;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    status = call();
    if (!IsTransient(status)) break;
    if (attempt < attempts) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
  return status;
}

}  // namespace pc
