// A gRPC server interceptor that counts every call by method and status code
// (pc_grpc_requests_total) and records its duration (pc_grpc_request_duration_seconds).
// Methods of services outside `services` (plus health and reflection) are labelled
// "unknown", and methods a known service does not have "/<service>/unknown", so clients cannot
// create series at will; `services` must be filled before the first call and not change
// afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/support/server_interceptor.h"
#include "pc/runtime/metrics.h"

namespace pc::runtime {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeMetricsInterceptorFactory(
    Registry& registry, const std::vector<std::string>* services);

}  // namespace pc::runtime
