// absl::Status ↔ grpc::Status, in one place. The canonical codes map 1:1; an ErrorInfo
// reason (errors.h) travels as google.rpc.Status in grpc::Status::error_details().
//
//   grpc::Status Get(grpc::ServerContext*, const Req* req, Resp* resp) override {
//     return pc::ToGrpcStatus(domain_.Get(*req, resp));
//   }
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pc {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pc
