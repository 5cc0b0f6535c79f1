// The HTTP server over real loopback sockets: pages, the SSE stream (head, replay after
// Last-Event-ID, live frames), hostile bytes (malformed, oversized) answered without harm, and
// Stop() ending open streams. The portal behind it uses mocked stubs; the feed a scripted source.
#include "http_server.h"
#include "fake_watch.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "partnercenter/invitation/v1/invitation_service_mock.grpc.pb.h"
#include "partnercenter/notification/v1/notification_service_mock.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service_mock.grpc.pb.h"
#include "pc/auth/keys.h"
#include "pc/auth/verifier.h"
#include "pc/common/clock.h"

namespace pc::portal {
namespace {

namespace nv1 = ::partnercenter::notification::v1;
using ::pc::portal::testing::ScriptedSource;
using ::testing::HasSubstr;
using ::testing::Not;

// A blocking loopback client.
class Client {
 public:
  explicit Client(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{.tv_sec = 20, .tv_usec = 0};  // an upper bound, never waited out on success
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~Client() { close(fd_); }
  void Send(const std::string& bytes) { ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  // Reads until `needle` appeared or the peer closed; returns everything read.
  std::string ReadUntil(const std::string& needle) {
    while (data_.find(needle) == std::string::npos) {
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      data_.append(buf, static_cast<size_t>(n));
    }
    return data_;
  }
  // True once the server closed the connection.
  bool Closed() {
    char buf[4096];
    while (true) {
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n == 0) return true;
      if (n < 0) return false;
      data_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string data_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest()
      : pair_(*pc::auth::GenerateKeyPair()),
        verifier_([this] {
          pc::auth::KeySet keys;
          EXPECT_TRUE(keys.Add("k1", pair_.public_key_pem).ok());
          return *pc::auth::Verifier::Create({.issuer = "i", .audience = "a", .cloud = "global"}, keys);
        }()),
        minter_(*pc::auth::Minter::Create(
            {.private_key_pem = pair_.private_key_pem, .kid = "k1", .issuer = "i", .audience = "a"})),
        tokens_(verifier_),
        source_(new ScriptedSource),
        hub_(std::unique_ptr<WatchSource>(source_), &Portal::ChangeFrame, &Portal::StatusFrame, {}) {
    Backends b;
    b.invitation = std::make_shared<partnercenter::invitation::v1::MockInvitationServiceStub>();
    b.relationship = std::make_shared<partnercenter::relationship::v1::MockRelationshipServiceStub>();
    auto notification = std::make_shared<::testing::NiceMock<nv1::MockNotificationServiceStub>>();
    nv1::CustomersPage head;  // the feed's head, as the stream's resume check sees it
    head.set_as_of_sequence(1000);
    ON_CALL(*notification, GetCustomersPage(::testing::_, ::testing::_, ::testing::_))
        .WillByDefault(::testing::DoAll(::testing::SetArgPointee<2>(head),
                                        ::testing::Return(grpc::Status::OK)));
    b.notification = notification;
    portal_ = std::make_unique<Portal>(
        Portal::Options{.csrf_secret = "s", .insecure_cookies = true, .dev_minter = minter_},
        std::move(b), tokens_, pc::SystemClock::Get());
    http_ = std::make_unique<HttpServer>(
        HttpServer::Options{.bind_address = "127.0.0.1", .port = 0, .max_body_bytes = 1024},
        *portal_, hub_);
    EXPECT_TRUE(http_->Start().ok());
    token_ = *minter_.Mint({.subject = "u", .tenant_id = "p1", .cloud = "global",
                            .roles = {"partner_admin"}},
                           absl::Hours(1), absl::Now());
  }
  ~HttpServerTest() override { http_->Stop(); }

  std::string Stream(const std::string& extra_headers) {
    return "GET /customers/events?after=0 HTTP/1.1\r\nHost: x\r\nCookie: pc_session=" + token_ +
           "\r\n" + extra_headers + "\r\n";
  }

  pc::auth::KeyPairPem pair_;
  pc::auth::Verifier verifier_;
  pc::auth::Minter minter_;
  pc::auth::VerifiedTokenCache tokens_;
  ScriptedSource* source_;
  FeedHub hub_;
  std::unique_ptr<Portal> portal_;
  std::unique_ptr<HttpServer> http_;
  std::string token_;
};

TEST_F(HttpServerTest, ServesPagesWithSecurityHeadersAndStaticFiles) {
  Client c(http_->port());
  c.Send("GET /signin HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string page = c.ReadUntil("</html>");
  EXPECT_THAT(page, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(page, HasSubstr("Content-Security-Policy: default-src 'none'"));
  Client js(http_->port());
  js.Send("GET /static/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string script = js.ReadUntil("DOMContentLoaded");
  EXPECT_THAT(script, HasSubstr("Content-Type: text/javascript"));
  EXPECT_THAT(script, HasSubstr("new EventSource"));
}

TEST_F(HttpServerTest, StreamsChangesAndResumesAfterLastEventId) {
  {
    Client first(http_->port());
    first.Send(Stream(""));
    first.ReadUntil("retry: 1000");
    source_->Push(1, "One");
    source_->Push(2, "Two <b>");
    const std::string got = first.ReadUntil("id: 2\n");
    EXPECT_THAT(got, HasSubstr("Content-Type: text/event-stream"));
    EXPECT_THAT(got, HasSubstr("id: 1\nevent: change\n"));
    EXPECT_THAT(got, HasSubstr("Two &lt;b&gt;"));
  }
  // The browser reconnects saying it saw 1: it gets 2 (from the ring) and then 3, not 1 again.
  Client again(http_->port());
  again.Send(Stream("Last-Event-ID: 1\r\n"));
  again.ReadUntil("id: 2\n");
  source_->Push(3, "Three");
  const std::string got = again.ReadUntil("id: 3\n");
  EXPECT_THAT(got, Not(HasSubstr("id: 1\n")));
  EXPECT_THAT(got, HasSubstr("id: 2\n"));
}

TEST_F(HttpServerTest, AStreamNeedsASignedInPartner) {
  Client c(http_->port());
  c.Send("GET /customers/events?after=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("sign in first"), HasSubstr("HTTP/1.1 401"));
  EXPECT_EQ(http_->open_streams(), 0u);
}

TEST_F(HttpServerTest, HostileBytesGetAnErrorAndTheServerKeepsServing) {
  const std::vector<std::string> hostile = {
      std::string("\x00\xff\x01garbage\r\n\r\n", 14),
      "GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n",
      "POST /invitations HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 5000\r\n\r\n" + std::string(5000, '%'),
      "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /invitations/accept?token=%ff%00%zz HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  const std::vector<std::string> expected = {"HTTP/1.1 400", "HTTP/1.1 400", "HTTP/1.1 413",
                                             "HTTP/1.1 405", "HTTP/1.1 200"};
  for (size_t i = 0; i < hostile.size(); ++i) {
    Client c(http_->port());
    c.Send(hostile[i]);
    EXPECT_THAT(c.ReadUntil("\r\n\r\n"), HasSubstr(expected[i])) << i;
  }
  Client after(http_->port());
  after.Send("GET /signin HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(after.ReadUntil("</html>"), HasSubstr("HTTP/1.1 200 OK"));
}

TEST_F(HttpServerTest, StopEndsOpenStreams) {
  Client c(http_->port());
  c.Send(Stream(""));
  c.ReadUntil("retry: 1000");
  EXPECT_EQ(http_->open_streams(), 1u);
  http_->Stop();
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(http_->open_streams(), 0u);
}

}  // namespace
}  // namespace pc::portal
