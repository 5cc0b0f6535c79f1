#include "pc/testing/http_get.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio.hpp"
#include "boost/beast.hpp"

namespace pc::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::pair<unsigned, std::string> HttpGet(int port, const std::string& target) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "localhost");
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return {res.result_int(), res.body()};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

absl::Status WaitForHttp200(int port, const std::string& target, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const std::pair<unsigned, std::string> page = HttpGet(port, target);
    if (page.first == 200) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(target, " on port ", port, " still answers ", page.first, ": ", page.second));
    }
    // Asking again after a short pause is how an operator waits on this endpoint too.
    absl::SleepFor(absl::Milliseconds(200));
  }
}

}  // namespace pc::testing
