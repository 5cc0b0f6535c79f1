#include "pc/runtime/client_channel.h"

#include <string>

#include "pc/runtime/server.h"

namespace pc::runtime {

void UseBalancedHealthChecking(grpc::ChannelArguments* args) {
  args->SetServiceConfigJSON(std::string(R"({"loadBalancingConfig":[{"round_robin":{}}],)") +
                             R"("healthCheckConfig":{"serviceName":")" +
                             Server::kReadinessService + R"("}})");
}

}  // namespace pc::runtime
