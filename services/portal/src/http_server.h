// The portal's HTTP side (Boost.Beast on Asio): a few I/O threads own every socket; page
// requests, which make blocking gRPC calls, run on a small worker pool; Server-Sent Events
// connections cost a socket and a queue, never a thread — the FeedHub pushes frames into
// them. The query string is never logged (the accept link carries a token).
//
//   HttpServer http({.port = 8080}, portal, hub);
//   PC_CHECK_OK(http.Start());
//   ...
//   http.Stop();  // stops accepting, ends SSE streams, finishes in-flight pages
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "feed_hub.h"
#include "portal.h"

namespace pc::portal {

class HttpServer {
 public:
  struct Options {
    std::string bind_address = "0.0.0.0";
    int port = 8080;                    // 0: the kernel picks (see port())
    int io_threads = 2;
    int worker_threads = 8;             // concurrent page requests (each may wait on gRPC)
    size_t max_body_bytes = 64 * 1024;  // forms only
    std::string identity_header;        // production: read the user's JWT from this header
    int keepalive_seconds = 15;         // SSE comment lines keep idle proxies from closing
    size_t max_queued_frames = 1024;    // an SSE client further behind is disconnected
  };

  HttpServer(Options options, Portal& portal, FeedHub& hub);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  absl::Status Start();
  int port() const;
  // Open SSE streams (metrics, tests).
  size_t open_streams() const;
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The embedded static files (generated from services/portal/static at build time).
extern const char kAppJs[];
extern const char kAppCss[];

}  // namespace pc::portal
