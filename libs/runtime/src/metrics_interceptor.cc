#include "metrics_interceptor.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace pc::runtime {
namespace {

using grpc::experimental::InterceptionHookPoints;

struct CallMetrics {
  Family<Counter>& requests;
  Family<Histogram>& duration;
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(const CallMetrics& metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  // A call that ends without sending a status (e.g. cancelled) is counted as CANCELLED.
  ~MetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
    metrics_.requests.WithLabels({method_, code_name}).Increment();
    metrics_.duration.WithLabels({method_}).Observe(elapsed.count());
  }

  const CallMetrics& metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(Registry& registry, const std::vector<std::string>* services)
      : services_(services),
        metrics_{registry.AddCounter("pc_grpc_requests_total",
                                     "gRPC calls served, by method and status code.",
                                     {"method", "code"}),
                 registry.AddHistogram("pc_grpc_request_duration_seconds",
                                       "Time from the start of a gRPC call to its status.",
                                       {"method"})} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, MethodLabel(info->method()));
  }

 private:
  // "/package.Service/Method" if the server serves that method; "unknown" for an unknown
  // service, "/package.Service/unknown" for an unknown method of a known one.
  std::string MethodLabel(const char* method) const {
    std::string_view path = method ? method : "";
    size_t slash = path.find('/', 1);
    if (path.empty() || path[0] != '/' || slash == std::string_view::npos) return "unknown";
    std::string service(path.substr(1, slash - 1));
    std::string name(path.substr(slash + 1));
    // Health's descriptors are linked into the generated pool by server.cc.
    bool known = service == "grpc.health.v1.Health" ||
                 service == "grpc.reflection.v1alpha.ServerReflection" ||
                 std::find(services_->begin(), services_->end(), service) != services_->end();
    if (!known) return "unknown";
    const auto* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    const bool served = descriptor != nullptr && descriptor->FindMethodByName(name) != nullptr;
    return served ? std::string(path) : absl::StrCat("/", service, "/unknown");
  }

  const std::vector<std::string>* services_;
  const CallMetrics metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeMetricsInterceptorFactory(
    Registry& registry, const std::vector<std::string>* services) {
  return std::make_unique<MetricsInterceptorFactory>(registry, services);
}

}  // namespace pc::runtime
