#include "admin_http.h"

#include <csignal>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kBodyLimit = 64 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::map<std::string, AdminHttpServer::Handler>* routes)
      : stream_(std::move(socket)), routes_(routes) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Write(Respond(400, "bad request\n", false, 11));
    }
    if (ec) return;  // timeout, reset, shutdown: the socket closes with this session
    const auto& req = parser_->get();
    bool keep_alive = req.keep_alive();
    if (req.method() != http::verb::get) {
      return Write(Respond(405, "method not allowed\n", keep_alive, req.version()));
    }
    std::string target(req.target().data(), req.target().size());
    std::string path = target.substr(0, target.find('?'));
    auto route = routes_->find(path);
    if (route == routes_->end()) {
      return Write(Respond(404, "not found\n", keep_alive, req.version()));
    }
    HttpResponse out;
    try {
      out = route->second();
    } catch (const std::exception& e) {
      spdlog::error("admin http {}: {}", path, e.what());
      out = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
    auto res = Respond(out.status, std::move(out.body), keep_alive, req.version());
    res->set(http::field::content_type, out.content_type);
    Write(std::move(res));
  }

  std::shared_ptr<http::response<http::string_body>> Respond(unsigned status, std::string body,
                                                             bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), version);
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->keep_alive(keep_alive);
    res->body() = std::move(body);
    res->prepare_payload();
    return res;
  }

  void Write(std::shared_ptr<http::response<http::string_body>> res) {
    res_ = std::move(res);
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      if (!self->res_->keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  const std::map<std::string, AdminHttpServer::Handler>* routes_;
};

}  // namespace

struct AdminHttpServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_backoff{ioc};
  std::optional<asio::signal_set> signals;
  std::function<void(int)> on_signal;
  std::map<std::string, Handler> routes;
  std::thread thread;
  int port = 0;

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // E.g. out of file descriptors: try again shortly instead of spinning.
        spdlog::warn("admin http accept: {}", ec.message());
        accept_backoff.expires_after(std::chrono::milliseconds(100));
        accept_backoff.async_wait([this](beast::error_code e) {
          if (!e) Accept();
        });
        return;
      }
      std::make_shared<Session>(std::move(s), &routes)->Read();
      Accept();
    });
  }

  void WaitForSignal() {
    signals->async_wait([this](beast::error_code ec, int signo) {
      if (ec) return;
      on_signal(signo);
      WaitForSignal();
    });
  }
};

AdminHttpServer::AdminHttpServer(std::map<std::string, Handler> routes)
    : impl_(std::make_unique<Impl>()) {
  impl_->routes = std::move(routes);
}

AdminHttpServer::~AdminHttpServer() { Stop(); }

void AdminHttpServer::HandleSignals(std::function<void(int)> on_signal) {
  impl_->on_signal = std::move(on_signal);
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
}

absl::Status AdminHttpServer::Start(const std::string& address, int port) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad bind address '", address, "'"));
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  auto fail = [&](const char* what) {
    return absl::UnavailableError(
        absl::StrCat("admin http: cannot ", what, " ", address, ":", port, ": ", ec.message()));
  };
  if (impl_->acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("configure");
  if (impl_->acceptor.bind(endpoint, ec)) return fail("bind");
  if (impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  if (impl_->signals) impl_->WaitForSignal();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return absl::OkStatus();
}

int AdminHttpServer::port() const { return impl_->port; }

void AdminHttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->accept_backoff.cancel();
    if (impl_->signals) impl_->signals->cancel(ignored);
    impl_->ioc.stop();
  });
  impl_->thread.join();
}

}  // namespace pc::runtime
