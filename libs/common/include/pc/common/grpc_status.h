// absl::Status ↔ grpc::Status, in one place. The canonical codes map 1:1; an ErrorInfo
// reason (errors.h) travels as google.rpc.Status in grpc::Status::error_details().
//
//   grpc::Status Get(grpc::ServerContext*, const Req* req, Resp* resp) override {
//     return pc::ToGrpcStatus(domain_.Get(*req, resp));
//   }
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pc {

// Every error leaves with an ErrorInfo: the code's name is the reason where `status` has
// none (WithDefaultReason, errors.h).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// UNAVAILABLE or DEADLINE_EXCEEDED: the answers worth retrying (same request_id) later.
bool IsTransient(const grpc::Status& status);

// Runs `call` (which makes one gRPC call with a fresh ClientContext) up to `attempts` times
// while it answers UNAVAILABLE or DEADLINE_EXCEEDED, waiting 100 ms × attempt in between;
// returns the last answer. For idempotent calls only (reads, or writes with a request_id).
//
//   grpc::Status s = pc::RetryTransient(3, [&] {
//     grpc::ClientContext ctx;
//     pc::auth::PrepareOutgoingCall(&ctx, token, correlation_id, absl::Seconds(2));
//     return stub->GetRelationship(&ctx, request, &response);
//   });
grpc::Status RetryTransient(int attempts, const std::function<grpc::Status()>& call);

}  // namespace pc
