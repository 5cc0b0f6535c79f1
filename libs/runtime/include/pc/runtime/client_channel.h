// Channel settings for calling a service that runs as several replicas behind a headless
// Kubernetes Service: the client balances over every address (round_robin) and watches each
// replica's gRPC health "readiness" (Server::kReadinessService), so a replica that turned
// NOT_SERVING — it is draining on SIGTERM, or not ready — gets no new calls while it still
// serves the ones in flight. That is what makes a rollout lose no call.
//
//   grpc::ChannelArguments args;
//   pc::runtime::UseBalancedHealthChecking(&args);
//   auto channel = grpc::CreateCustomChannel("dns:///relationship:50052", creds, args);
#pragma once

#include "grpcpp/support/channel_arguments.h"

namespace pc::runtime {

// Sets the default service config: round_robin with health checking of "readiness".
void UseBalancedHealthChecking(grpc::ChannelArguments* args);

}  // namespace pc::runtime
