#include "pc/runtime/server.h"

#include <csignal>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "admin_http.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"
#include "error_details_interceptor.h"
#include "metrics_interceptor.h"
#include "pc/common/status_macros.h"
#include "pc/runtime/flags.h"
#include "pc/runtime/tls.h"
#include "reflection_v1.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

// Keepalive: ping idle clients every minute and drop dead ones; let clients ping every 10s.
// Connections are recycled every 5 minutes (GOAWAY, in-flight calls continue) so clients
// re-resolve the headless Service and spread over new replicas.
constexpr int kKeepaliveTimeMs = 60'000;
constexpr int kKeepaliveTimeoutMs = 20'000;
constexpr int kMinClientPingIntervalMs = 10'000;
constexpr int kMaxConnectionAgeMs = 5 * 60'000;

// Hands the server's list of registered service names (grpc::Server keeps it private; the
// reflection plugin reads it the same way) to `on_list`. InitServer runs after the services
// are registered and before the server starts, so no call sees a half-filled list.
class ServiceListPlugin final : public grpc::ServerBuilderPlugin {
 public:
  using OnList = std::function<void(const std::vector<std::string>*)>;
  explicit ServiceListPlugin(OnList on_list) : on_list_(std::move(on_list)) {}
  std::string name() override { return "pc_service_list"; }
  void InitServer(grpc::ServerInitializer* initializer) override {
    on_list_(initializer->GetServiceList());
  }
  void Finish(grpc::ServerInitializer*) override {}
  void ChangeArguments(const std::string&, void*) override {}

 private:
  OnList on_list_;
};

class ServiceListOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceListOption(ServiceListPlugin::OnList on_list) : on_list_(std::move(on_list)) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceListPlugin>(on_list_));
  }

 private:
  ServiceListPlugin::OnList on_list_;
};

std::string HostPort(const std::string& host, int port) {
  return absl::StrContains(host, ':') ? absl::StrCat("[", host, "]:", port)
                                      : absl::StrCat(host, ":", port);
}

const char* SignalName(int signo) { return signo == SIGTERM ? "SIGTERM" : "SIGINT"; }

}  // namespace

ServerOptions ServerOptions::FromFlags() {
  ServerOptions options;
  options.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  options.admin_port = absl::GetFlag(FLAGS_admin_port);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  options.credentials = ServerCredentialsFromFlags();
  return options;
}

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      registry_(options_.registry ? options_.registry : &Registry::Default()),
      reflection_v1_(std::make_unique<ReflectionV1Service>()) {}

Server::~Server() {
  bool started;
  {
    std::lock_guard lock(mu_);
    started = started_;
  }
  if (!started) return;
  RequestShutdown();
  Shutdown();
}

void Server::AddService(grpc::Service* service) { services_.push_back(service); }

void Server::OnStop(std::string name, std::function<void()> stop) {
  stops_.Add(std::move(name), std::move(stop));
}

absl::Status Server::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return absl::FailedPreconditionError("server already started");
  }
  std::map<std::string, AdminHttpServer::Handler> routes{
      {"/metrics",
       [this] {
         return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry_->Render()};
       }},
      {"/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; }},
      {"/readyz",
       [this] {
         absl::Status ready = this->ready();
         return ready.ok() ? HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                           : HttpResponse{503, "text/plain; charset=utf-8",
                                          std::string(ready.message()) + "\n"};
       }},
  };
  for (const auto& [path, page] : options_.admin_pages) {
    routes[path] = [page = page] {
      AdminPage p = page();
      return HttpResponse{p.status, p.content_type, p.body};
    };
  }
  auto admin = std::make_unique<AdminHttpServer>(std::move(routes));
  if (options_.handle_signals) {
    admin->HandleSignals([this](int signo) {
      bool again;
      {
        std::lock_guard lock(mu_);
        again = ++signals_received_ > 1;
      }
      if (again) {
        spdlog::warn("received {} again while shutting down; exiting now", SignalName(signo));
        spdlog::default_logger()->flush();
        std::_Exit(128 + signo);
      }
      spdlog::info("received {}; shutting down", SignalName(signo));
      RequestShutdown();
    });
  }
  PC_RETURN_IF_ERROR(admin->Start(options_.bind_address, options_.admin_port));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();  // grpc.reflection.v1alpha
  // gRPC implements health without protobuf descriptors; referencing the generated ones links
  // them into the pool, so reflection (both versions) can describe grpc.health.v1.Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(HostPort(options_.bind_address, options_.grpc_port),
                           options_.credentials ? options_.credentials : grpc::InsecureServerCredentials(),
                           &bound_port);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinClientPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, kMaxConnectionAgeMs);
  // Without this a second process could share the port (SO_REUSEPORT) instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(reflection_v1_.get());
  builder.SetOption(
      std::make_unique<ServiceListOption>([this](const std::vector<std::string>* list) {
        service_names_ = *list;                // for the metrics interceptor
        reflection_v1_->SetServiceList(list);  // live: grpc.health.v1.Health is added at start
      }));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeErrorDetailsInterceptorFactory());  // first: metrics see its code
  interceptors.push_back(MakeMetricsInterceptorFactory(*registry_, &service_names_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    admin->Stop();
    return absl::UnavailableError(absl::StrCat(
        "cannot serve gRPC on ", HostPort(options_.bind_address, options_.grpc_port),
        " (port in use or address not available)"));
  }

  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus("", true);
  std::vector<std::string> own_services;  // health and reflection report nothing of their own
  for (const std::string& name : service_names_) {
    if (absl::StartsWith(name, "grpc.")) continue;
    health->SetServingStatus(name, true);
    own_services.push_back(name);
  }
  {
    std::lock_guard lock(mu_);
    grpc_server_ = std::move(server);
    admin_ = std::move(admin);
    grpc_port_ = bound_port;
    admin_port_ = admin_->port();
    started_ = true;
  }
  serving_ = true;
  if (options_.ready_check) {
    {
      std::lock_guard lock(ready_mu_);
      last_ready_check_ = options_.ready_check();
    }
    health->SetServingStatus(kReadinessService, ready().ok());
    ready_thread_ = std::thread([this] { WatchReadiness(); });
  } else {
    health->SetServingStatus(kReadinessService, true);
  }
  spdlog::info("serving gRPC on port {} ({}), admin HTTP on port {}", grpc_port_,
               own_services.empty() ? std::string("no services")
                                    : absl::StrJoin(own_services, ", "),
               admin_port_);
  return absl::OkStatus();
}

absl::Status Server::ready() const {
  if (!serving_) return absl::UnavailableError("not serving");
  std::lock_guard lock(ready_mu_);
  return last_ready_check_;
}

void Server::WatchReadiness() {
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  bool was_ready = ready().ok();
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.ready_check_interval),
                   [this] { return shutdown_requested_ || !serving_; });
      if (shutdown_requested_ || !serving_) return;
    }
    absl::Status check = options_.ready_check();
    {
      std::lock_guard lock(ready_mu_);
      last_ready_check_ = check;
    }
    if (check.ok() != was_ready) {
      if (check.ok()) {
        spdlog::info("ready again");
      } else {
        spdlog::warn("not ready: {}", std::string(check.message()));
      }
      health->SetServingStatus(kReadinessService, check.ok());
      was_ready = check.ok();
    }
  }
}

void Server::RequestShutdown() {
  std::lock_guard lock(mu_);
  if (shutdown_requested_) ++drain_requests_;
  shutdown_requested_ = true;
  cv_.notify_all();
}

void Server::Wait() {
  {
    std::unique_lock lock(mu_);
    if (!started_) return;
    cv_.wait(lock, [this] { return shutdown_requested_; });
  }
  Shutdown();
}

void Server::WaitDrainDelay() {
  // A second RequestShutdown() cuts it short (a second SIGTERM / SIGINT exits at once).
  std::unique_lock lock(mu_);
  drain_requests_ = 0;
  cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.drain_delay),
               [this] { return drain_requests_ > 0; });
}

void Server::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    absl::Time start = absl::Now();
    serving_ = false;
    {
      std::lock_guard lock(mu_);
      shutdown_requested_ = true;  // ends WatchReadiness
      cv_.notify_all();
    }
    if (ready_thread_.joinable()) ready_thread_.join();
    grpc_server_->GetHealthCheckService()->Shutdown();  // NOT_SERVING for all, for good
    spdlog::info("shutdown 1/4: health NOT_SERVING; still serving for {}",
                 absl::FormatDuration(options_.drain_delay));
    if (options_.on_not_serving) options_.on_not_serving();
    WaitDrainDelay();

    spdlog::info("shutdown 2/4: draining in-flight calls for up to {}",
                 absl::FormatDuration(options_.shutdown_grace));
    grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
    spdlog::info("gRPC server stopped after {}", absl::FormatDuration(absl::Now() - start));

    spdlog::info("shutdown 3/4: stop actions");
    stops_.RunAll();

    spdlog::info("shutdown 4/4: admin HTTP");
    admin_->Stop();
    spdlog::info("shutdown complete in {}", absl::FormatDuration(absl::Now() - start));
  });
}

}  // namespace pc::runtime
