// The admin HTTP/1.1 server behind Server: GET routes on one io_context thread, plus the
// SIGTERM/SIGINT watch (Asio's signal_set: the handler runs on that thread, not in signal
// context). Unknown paths get 404, other methods 405, malformed requests 400.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace pc::runtime {

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminHttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  explicit AdminHttpServer(std::map<std::string, Handler> routes);
  ~AdminHttpServer();

  // Calls `on_signal(signo)` on the server thread for each SIGINT/SIGTERM. Before Start().
  void HandleSignals(std::function<void(int)> on_signal);
  // Binds `address`:`port` (0 = picked) and starts the thread.
  absl::Status Start(const std::string& address, int port);
  int port() const;
  // Stops accepting, drops open connections and joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::runtime
