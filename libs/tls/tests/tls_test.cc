#include "pc/tls/tls.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "partnercenter/testing/v1/echo.grpc.pb.h"

namespace pc::tls {
namespace {

namespace fs = std::filesystem;
using ::partnercenter::testing::v1::EchoRequest;
using ::partnercenter::testing::v1::EchoResponse;
using ::partnercenter::testing::v1::EchoService;
using ::testing::HasSubstr;

class EchoImpl final : public EchoService::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* req, EchoResponse* resp) override {
    resp->set_message(req->message());
    return grpc::Status::OK;
  }
};

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA and certificates for `names` in `dir`, made by the script `make run` uses.
void MakeCerts(const fs::path& dir, const std::string& names) {
  const std::string cmd = std::string("bash ") + PC_GRPC_CERTS_SCRIPT + " " + dir.string() + " " +
                          names + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("tls_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    MakeCerts(root_ / "a", "server client");
    MakeCerts(root_ / "b", "server client");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  std::string A(const std::string& f) const { return (root_ / "a" / f).string(); }
  std::string B(const std::string& f) const { return (root_ / "b" / f).string(); }

  void StartServer(const Files& files) {
    auto creds = ServerCredentials(files);
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(&echo_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  std::shared_ptr<grpc::Channel> Channel(const Files& files) {
    auto creds = ChannelCredentials(files);
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own connection, its own handshake
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_), *creds, args);
  }

  grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, std::string* peer_pem = nullptr,
                    absl::Duration timeout = absl::Seconds(5), bool wait_for_ready = false) {
    auto stub = EchoService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.set_wait_for_ready(wait_for_ready);
    EchoRequest req;
    req.set_message("hi");
    EchoResponse resp;
    grpc::Status s = stub->Echo(&ctx, req, &resp);
    if (s.ok()) {
      EXPECT_EQ(resp.message(), "hi");
    }
    if (s.ok() && peer_pem != nullptr) {
      auto pem = ctx.auth_context()->FindPropertyValues("x509_pem_cert");
      *peer_pem = pem.empty() ? "" : std::string(pem.front().data(), pem.front().size());
    }
    return s;
  }

  Files ServerTls() const { return {.cert_file = A("server.pem"), .key_file = A("server.key")}; }
  Files ServerMtls() const {
    Files f = ServerTls();
    f.client_ca_file = A("ca.pem");
    return f;
  }

  fs::path root_;
  EchoImpl echo_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(TlsTest, ClientTrustingTheCaIsServedAndSeesTheServerCertificate) {
  StartServer(ServerTls());
  std::string pem;
  ASSERT_TRUE(Call(Channel({.ca_file = A("ca.pem")}), &pem).ok());
  EXPECT_EQ(pem, Read(A("server.pem")));
}

TEST_F(TlsTest, PlaintextClientToTlsServerIsRefused) {
  StartServer(ServerTls());
  EXPECT_EQ(Call(Channel({})).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  StartServer(ServerTls());
  EXPECT_EQ(Call(Channel({.ca_file = B("ca.pem")})).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TlsClientToPlaintextServerIsRefused) {
  StartServer({});
  EXPECT_EQ(Call(Channel({.ca_file = A("ca.pem")})).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(Channel({})).ok());
}

TEST_F(TlsTest, MtlsRefusesClientsWithoutACertificateOfTheClientCa) {
  StartServer(ServerMtls());
  EXPECT_EQ(Call(Channel({.ca_file = A("ca.pem")})).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(Channel({.cert_file = B("client.pem"),
                          .key_file = B("client.key"),
                          .ca_file = A("ca.pem")}))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(Channel({.cert_file = A("client.pem"),
                            .key_file = A("client.key"),
                            .ca_file = A("ca.pem")}))
                  .ok());
}

TEST_F(TlsTest, RotatedCertificateIsServedWithoutRestart) {
  Files files = ServerTls();
  files.cert_file = (root_ / "served.pem").string();
  files.key_file = (root_ / "served.key").string();
  files.refresh_interval = absl::Seconds(1);
  fs::copy_file(A("server.pem"), files.cert_file);
  fs::copy_file(A("server.key"), files.key_file);
  StartServer(files);
  ASSERT_TRUE(Call(Channel({.ca_file = A("ca.pem")})).ok());
  ASSERT_EQ(Call(Channel({.ca_file = B("ca.pem")})).error_code(), grpc::StatusCode::UNAVAILABLE);

  // Rotate in place, as cert-manager does: a certificate of CA b, same paths.
  fs::copy_file(B("server.key"), files.key_file + ".new");
  fs::copy_file(B("server.pem"), files.cert_file + ".new");
  fs::rename(files.key_file + ".new", files.key_file);
  fs::rename(files.cert_file + ".new", files.cert_file);

  // A client trusting only CA b waits (wait_for_ready: gRPC keeps re-handshaking) until the
  // server serves the new certificate; the bound only turns a failure into a clear one.
  std::string pem;
  const grpc::Status s =
      Call(Channel({.ca_file = B("ca.pem")}), &pem, absl::Seconds(60), /*wait_for_ready=*/true);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(pem, Read(B("server.pem")));
  EXPECT_EQ(Call(Channel({.ca_file = A("ca.pem")})).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ValidateNamesTheFlagOfAnUnusableFile) {
  const std::string not_pem = (root_ / "not.pem").string();
  std::ofstream(not_pem) << "hello";
  struct Case {
    Files files;
    std::string message;
  } cases[] = {
      {{.cert_file = A("server.pem")}, "--grpc_tls_cert_file and --grpc_tls_key_file"},
      {{.key_file = A("server.key")}, "--grpc_tls_cert_file and --grpc_tls_key_file"},
      {{.client_ca_file = A("ca.pem")}, "--grpc_tls_client_ca_file: mTLS needs"},
      {{.cert_file = A("nope.pem"), .key_file = A("server.key")}, "--grpc_tls_cert_file: cannot read"},
      {{.cert_file = A("server.pem"), .key_file = not_pem}, "--grpc_tls_key_file: '"},
      {{.ca_file = A("missing.pem")}, "--grpc_tls_ca_file: cannot read"},
      {{.ca_file = A("ca.pem"), .refresh_interval = absl::ZeroDuration()},
       "--grpc_tls_refresh_interval"},
  };
  for (const Case& c : cases) {
    const absl::Status s = Validate(c.files);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
    EXPECT_EQ(ServerCredentials(c.files).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ChannelCredentials(c.files).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(Validate(ServerMtls()).ok());
  EXPECT_TRUE(Validate({}).ok());
}

}  // namespace
}  // namespace pc::tls
