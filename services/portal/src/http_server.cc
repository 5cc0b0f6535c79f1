#include "http_server.h"

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "pc/auth/grpc_auth.h"
#include "spdlog/spdlog.h"
#include "pc/common/url.h"
#include "web.h"

namespace pc::portal {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

class SseStream;

struct HttpServer::Impl {
  Impl(Options o, Portal& p, FeedHub& h)
      : options(std::move(o)), portal(p), hub(h), workers(options.worker_threads) {}

  void Accept();
  void Track(const std::shared_ptr<SseStream>& s);
  void Forget(const SseStream* s);

  Options options;
  Portal& portal;
  FeedHub& hub;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // The acceptor lives on its own strand: accepts and Stop()'s close never run at once.
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::thread_pool workers;
  std::vector<std::thread> threads;
  int port = 0;
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::map<const SseStream*, std::weak_ptr<SseStream>> streams;  // guarded by mu
  std::condition_variable streams_gone;
  int pending_responses = 0;  // requests read whose response is not yet written; guarded by mu
  std::condition_variable responses_done;

  void Began() {
    std::lock_guard<std::mutex> lock(mu);
    ++pending_responses;
  }
  void Ended() {
    std::lock_guard<std::mutex> lock(mu);
    if (--pending_responses == 0) responses_done.notify_all();
  }
};

// One Server-Sent Events response: frames queue here and are written in order on the
// connection's strand. The hub calls Send/Close from its own threads; both only post.
class SseStream : public FrameSink, public std::enable_shared_from_this<SseStream> {
 public:
  SseStream(tcp::socket socket, HttpServer::Impl& impl, std::string partner_id)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), impl_(impl),
        partner_id_(std::move(partner_id)), opened_(Clock::now()) {}

  // On the strand: the response head, then the subscription (whose replay follows the head).
  // The stream ends when the session does (`expires_at`): the browser then re-authenticates.
  void Begin(const std::string& token, int64_t after, absl::Time expires_at) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n";
    for (const auto& [name, value] : SecurityHeaders()) head += name + ": " + value + "\r\n";
    head += "\r\nretry: 1000\n\n";
    Enqueue(std::move(head));
    FeedHub::Subscription sub = impl_.hub.Subscribe(partner_id_, token, after, shared_from_this());
    if (sub.outcome == FeedHub::Outcome::kReset) {
      // The changes after `after` are no longer held: the page reloads from a fresh snapshot.
      Enqueue(Portal::StatusFrame("reset", "the page is too old to resume; reloading"));
      close_when_drained_ = true;
      return;
    }
    subscription_ = sub.id;
    WatchForClose();
    Keepalive();
    if (expires_at != absl::InfiniteFuture()) {
      expiry_.expires_after(std::chrono::milliseconds(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(expires_at - absl::Now()))));
      expiry_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->Shutdown();
      });
    }
  }

  // After the I/O threads stopped (nothing else touches this object then): leave the hub, so
  // it never holds a stream of a server that is gone.
  void Detach() {
    if (subscription_.has_value()) impl_.hub.Unsubscribe(partner_id_, *subscription_);
    subscription_.reset();
    closed_ = true;
  }

  void Send(std::string frame) override {
    asio::post(socket_.get_executor(), [self = shared_from_this(), f = std::move(frame)]() mutable {
      self->Enqueue(std::move(f));
    });
  }
  void Close() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Shutdown(); });
  }

 private:
  void Enqueue(std::string frame) {
    if (closed_) return;
    if (queue_.size() >= impl_.options.max_queued_frames) {
      spdlog::warn("sse: client of {} fell {} frames behind; disconnecting it (it resumes)",
                   partner_id_, queue_.size());
      Shutdown();
      return;
    }
    queue_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    write_started_ = Clock::now();
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->queue_.pop_front();
                        if (ec) return self->Shutdown();
                        if (self->queue_.empty()) {
                          self->writing_ = false;
                          if (self->close_when_drained_) self->Shutdown();
                        } else {
                          self->WriteNext();
                        }
                      });
  }

  // A browser never sends on an SSE connection: a read completes only when it goes away.
  void WatchForClose() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Shutdown();
                              self->WatchForClose();
                            });
  }

  void Keepalive() {
    timer_.expires_after(std::chrono::seconds(impl_.options.keepalive_seconds));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->writing_ && Clock::now() - self->write_started_ > kStalledWrite) {
        spdlog::warn("sse: a write to a client of {} stalled; disconnecting it", self->partner_id_);
        return self->Shutdown();
      }
      self->Enqueue(": keepalive\n\n");
      self->Keepalive();
    });
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    expiry_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (subscription_.has_value()) impl_.hub.Unsubscribe(partner_id_, *subscription_);
    impl_.Forget(this);
    spdlog::info("http sse closed partner={} open_for={:.0f}ms", partner_id_, MillisSince(opened_));
  }

  static constexpr auto kStalledWrite = std::chrono::seconds(30);

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer expiry_{socket_.get_executor()};
  HttpServer::Impl& impl_;
  const std::string partner_id_;
  const Clock::time_point opened_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closed_ = false;
  bool close_when_drained_ = false;
  Clock::time_point write_started_;
  std::optional<uint64_t> subscription_;
  char scratch_[512];
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& impl) : stream_(std::move(socket)), impl_(impl) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(impl_.options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit ||
          (ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message)) {
        impl_.Began();
      }
      if (ec == http::error::body_limit) return WriteError(413, "request body too large");
      if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return WriteError(400, "malformed HTTP request");
      }
      return Close();
    }
    started_ = Clock::now();
    impl_.Began();  // every path below ends in Write() or a stream, which call Ended()
    auto req = parser_->release();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpRequest r;
    r.method = std::string(req.method_string());
    const std::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = pc::ParseUrlEncoded(target.substr(q + 1));
    const auto header = [&](std::string_view name) {
      auto it = req.find(beast::string_view(name.data(), name.size()));
      return it == req.end() ? std::string() : std::string(it->value());
    };
    r.cookie_header = header("Cookie");
    r.last_event_id = header("Last-Event-ID");
    r.correlation_id = pc::auth::CorrelationIdOr(header("X-Correlation-Id"));
    r.fetch_site = absl::AsciiStrToLower(header("Sec-Fetch-Site"));
    if (!impl_.options.identity_header.empty()) {
      r.identity_header = header(impl_.options.identity_header);
      if (absl::StartsWithIgnoreCase(r.identity_header, "Bearer ")) {
        r.identity_header = r.identity_header.substr(7);
      }
    }
    if (r.method == "POST" &&
        absl::StartsWithIgnoreCase(header("Content-Type"), "application/x-www-form-urlencoded")) {
      r.form = pc::ParseUrlEncoded(req.body());
    }
    method_ = r.method;
    path_ = r.path;

    if (impl_.stopped) {
      keep_alive_ = false;
      return WriteError(503, "the portal is restarting; try again");
    }
    if (r.method == "GET" && (r.path == "/static/app.js" || r.path == "/static/app.css")) {
      HttpResponse res;
      const bool js = r.path == "/static/app.js";
      res.content_type = js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
      res.body = js ? kAppJs : kAppCss;
      res.headers = SecurityHeaders();
      return Write(std::move(res));
    }
    if (r.method == "GET" && r.path == Portal::kCustomerStreamPath) return OpenStream(std::move(r));

    asio::post(impl_.workers, [self = shared_from_this(), r = std::move(r)]() mutable {
      HttpResponse res;
      try {
        res = self->impl_.portal.Handle(r);
      } catch (const std::exception& e) {
        // A bug must cost one page, not the process.
        spdlog::error("http {} {}: {}", r.method, r.path, e.what());
        res.status = 500;
        res.body = "<!doctype html><title>Error</title><p>Something went wrong on our side. "
                   "Go back and try again.</p>";
        res.headers = SecurityHeaders();
      }
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->Write(std::move(res));
      });
    });
  }

  // Authorizing a stream checks its resume point with the notification service (blocking),
  // so it runs on the worker pool; the stream is then opened back on this connection's strand.
  void OpenStream(HttpRequest r) {
    asio::post(impl_.workers, [self = shared_from_this(), r = std::move(r)]() mutable {
      auto grant = self->impl_.portal.AuthorizeCustomerStream(r);
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r), grant = std::move(grant)]() mutable {
                   self->StartStream(r, std::move(grant));
                 });
    });
  }

  void StartStream(const HttpRequest& r, std::variant<Portal::StreamGrant, HttpResponse> grant) {
    if (auto* refused = std::get_if<HttpResponse>(&grant)) {
      refused->headers = SecurityHeaders();
      keep_alive_ = false;
      return Write(std::move(*refused));
    }
    if (impl_.stopped) {
      keep_alive_ = false;
      return WriteError(503, "the portal is restarting; try again");
    }
    const auto& g = std::get<Portal::StreamGrant>(grant);
    spdlog::info("http GET {} 200 sse partner={} after={} correlation_id={}", path_,
                 g.partner_id, g.after_sequence, r.correlation_id);
    stream_.expires_never();
    auto sse = std::make_shared<SseStream>(stream_.release_socket(), impl_, g.partner_id);
    impl_.Track(sse);
    impl_.Ended();
    sse->Begin(g.token, g.after_sequence, g.expires_at);
  }

  void WriteError(int status, const char* text) {
    keep_alive_ = false;
    HttpResponse res;
    res.status = status;
    res.content_type = "text/plain; charset=utf-8";
    res.body = text;
    res.headers = SecurityHeaders();
    Write(std::move(res));
  }

  void Write(HttpResponse res) {
    auto msg = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(res.status), version_ == 0 ? 11 : version_);
    msg->set(http::field::content_type, res.content_type);
    msg->set(http::field::server, "pc-portal");
    for (const auto& [name, value] : res.headers) msg->insert(name, value);
    if (method_ != "HEAD") msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive_);
    msg->prepare_payload();
    if (!path_.empty()) {
      spdlog::info("http {} {} {} {:.1f}ms", method_, path_, res.status, MillisSince(started_));
    }
    http::async_write(stream_, *msg, [self = shared_from_this(), msg](beast::error_code ec, size_t) {
      self->impl_.Ended();
      if (ec || !self->keep_alive_ || self->impl_.stopped) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& impl_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::string method_;
  std::string path_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->Read();
    Accept();
  });
}

void HttpServer::Impl::Track(const std::shared_ptr<SseStream>& s) {
  std::lock_guard<std::mutex> lock(mu);
  streams[s.get()] = s;
}

void HttpServer::Impl::Forget(const SseStream* s) {
  std::lock_guard<std::mutex> lock(mu);
  streams.erase(s);
  if (streams.empty()) streams_gone.notify_all();
}

HttpServer::HttpServer(Options options, Portal& portal, FeedHub& hub)
    : impl_(std::make_unique<Impl>(std::move(options), portal, hub)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.bind_address, ec);
  if (ec) return absl::InvalidArgumentError("bad bind address " + impl_->options.bind_address);
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(impl_->options.port));
  auto fail = [&](const char* what) {
    return absl::UnavailableError(std::string("http ") + what + " " +
                                  std::to_string(impl_->options.port) + ": " + ec.message());
  };
  if (impl_->acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("configure");
  if (impl_->acceptor.bind(endpoint, ec)) return fail("bind");
  if (impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  spdlog::info("portal http listening on {}:{}", impl_->options.bind_address, impl_->port);
  return absl::OkStatus();
}

int HttpServer::port() const { return impl_->port; }

size_t HttpServer::open_streams() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->streams.size();
}

void HttpServer::Stop() {
  if (impl_->threads.empty() || impl_->stopped.exchange(true)) return;
  // 1. Stop accepting.
  std::promise<void> closed;
  asio::post(impl_->acceptor.get_executor(), [this, &closed] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  // 2. End the SSE streams (browsers reconnect to another replica and resume).
  std::vector<std::shared_ptr<SseStream>> open;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [_, weak] : impl_->streams) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->Close();
  open.clear();
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->streams_gone.wait_for(lock, std::chrono::seconds(5),
                                 [&] { return impl_->streams.empty(); });
  }
  // 3. Let in-flight requests finish and their responses be written (connections close
  //    after them; nothing new is read).
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->responses_done.wait_for(lock, std::chrono::seconds(10),
                                   [&] { return impl_->pending_responses == 0; });
  }
  impl_->workers.join();
  // 4. Stop the I/O threads; a stream that did not close in time leaves the hub now.
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  std::vector<std::shared_ptr<SseStream>> left;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [_, weak] : impl_->streams) {
      if (auto s = weak.lock()) left.push_back(std::move(s));
    }
    impl_->streams.clear();
  }
  for (auto& s : left) s->Detach();
}

}  // namespace pc::portal
