// The gRPC server every service runs, with its admin HTTP side and the ordered shutdown.
//
// Start() binds 0.0.0.0:grpc_port (0 = picked; see grpc_port()), registers grpc.health.v1
// (overall and per service), reflection (grpc.reflection.v1 and v1alpha, both describing
// grpc.health.v1 too) and the metrics interceptor
// (pc_grpc_requests_total{method,code}, pc_grpc_request_duration_seconds), and serves
// GET /metrics, /healthz, /readyz and the admin_pages on admin_port. Wait() blocks until
// SIGTERM / SIGINT or RequestShutdown(), then shuts down in this order:
//   1. health NOT_SERVING for every service, /readyz 503, then the on_not_serving hook;
//      calls are still served for drain_delay, while load balancers and Kubernetes
//      endpoints take the replica out;
//   2. stop accepting calls; in-flight calls and streams drain until shutdown_grace, then
//      the rest are cancelled;
//   3. the OnStop actions, newest first, each logged with its duration;
//   4. the admin HTTP server stops.
//
//   pc::runtime::Server server(pc::runtime::ServerOptions::FromFlags());
//   server.AddService(&invitation_service);
//   server.OnStop("store", [&] { store.Close(); });
//   server.OnStop("outbox relay", [&] { relay.Stop(); });   // runs before "store"
//   PC_CHECK_OK(server.Start());
//   server.Wait();
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "pc/runtime/metrics.h"
#include "pc/runtime/stop_stack.h"

namespace pc::runtime {

class AdminHttpServer;
class ReflectionV1Service;

// One extra GET route of the admin HTTP server (e.g. /caughtup).
struct AdminPage {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ServerOptions {
  int grpc_port = 0;                      // 0: the kernel picks
  int admin_port = 0;                     // 0: the kernel picks
  std::string bind_address = "0.0.0.0";   // both servers
  absl::Duration shutdown_grace = absl::Seconds(20);
  absl::Duration drain_delay = absl::ZeroDuration();  // FromFlags(): --drain_delay (5 s)
  int max_message_bytes = 8 << 20;        // receive and send
  Registry* registry = nullptr;           // nullptr: Registry::Default()
  bool handle_signals = true;             // SIGTERM / SIGINT start the shutdown
  std::function<void()> on_not_serving;   // after step 1, before step 2
  // Readiness beyond "started and not shutting down" (e.g. a cache that can prove neither
  // memory nor its database current). Evaluated every ready_check_interval; while it fails,
  // the gRPC health service "readiness" (what readiness probes ask) is NOT_SERVING and /readyz
  // answers 503 with its message. The overall health "" (liveness) is not affected.
  std::function<absl::Status()> ready_check;
  absl::Duration ready_check_interval = absl::Seconds(1);
  // Extra admin routes by path; each must be thread-safe and valid while the server runs.
  std::map<std::string, std::function<AdminPage()>> admin_pages;
  // How the gRPC port is served; nullptr: plaintext. FromFlags() sets TLS (or mTLS) from the
  // --grpc_tls_* flags (pc/tls/tls.h), with certificate files re-read on rotation.
  std::shared_ptr<grpc::ServerCredentials> credentials;

  // grpc_port, admin_port, shutdown_grace, drain_delay (flags.h) and credentials (--grpc_tls_*)
  // from the flags.
  static ServerOptions FromFlags();
};

class Server {
 public:
  explicit Server(ServerOptions options);
  // Shuts down (as Wait() would) if started and not yet shut down.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a service (not owned; must outlive the server). Before Start().
  void AddService(grpc::Service* service);
  // Registers a stop action for step 3; actions run newest first.
  void OnStop(std::string name, std::function<void()> stop);

  // Binds and starts both servers. UNAVAILABLE if a port cannot be bound,
  // FAILED_PRECONDITION if already started.
  absl::Status Start();
  // The bound ports, after Start().
  int grpc_port() const { return grpc_port_; }
  int admin_port() const { return admin_port_; }

  // Blocks until a signal or RequestShutdown(), then runs the ordered shutdown.
  void Wait();
  // Asks Wait() to shut down; safe from any thread, more than once. A call during the
  // drain_delay ends the delay.
  void RequestShutdown();

  // True between Start() and step 1 of the shutdown.
  bool serving() const { return serving_.load(); }
  // serving() and the last ready_check: what /readyz and health "readiness" report.
  absl::Status ready() const;

  // The gRPC health service name readiness probes ask for.
  static constexpr char kReadinessService[] = "readiness";

 private:
  void Shutdown();
  // Step 1's drain_delay: calls keep being served while endpoints drop the replica.
  void WaitDrainDelay();
  // Re-evaluates ready_check every ready_check_interval until the shutdown starts.
  void WatchReadiness();

  ServerOptions options_;
  Registry* registry_;
  std::vector<grpc::Service*> services_;
  std::vector<std::string> service_names_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;  // outlives grpc_server_
  StopStack stops_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<AdminHttpServer> admin_;
  int grpc_port_ = 0;
  int admin_port_ = 0;
  std::atomic<bool> serving_{false};
  mutable std::mutex ready_mu_;
  absl::Status last_ready_check_;  // guarded by ready_mu_
  std::thread ready_thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool shutdown_requested_ = false;
  int drain_requests_ = 0;  // RequestShutdown() calls since the drain delay began
  int signals_received_ = 0;
  std::once_flag shutdown_once_;
};

}  // namespace pc::runtime
