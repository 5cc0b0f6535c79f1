#include "pc/auth/grpc_auth.h"

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "partnercenter/testing/v1/echo.grpc.pb.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "test_tokens.h"

namespace pc::auth {
namespace {

using ::partnercenter::testing::v1::EchoRequest;
using ::partnercenter::testing::v1::EchoResponse;
using ::partnercenter::testing::v1::EchoService;
using namespace ::pc::auth::testing;  // NOLINT

TEST(ParseBearerTokenTest, AcceptsBearerSchemeOnly) {
  struct Case {
    std::string header;
    std::string token;  // "" means UNAUTHENTICATED expected
  };
  std::vector<Case> cases = {
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc", "abc"},
      {"BEARER   abc  ", "abc"},
      {"", ""},
      {"Bearer", ""},
      {"Bearer ", ""},
      {"Bearer    ", ""},
      {"Bearerabc", ""},
      {"Basic dXNlcjpwYXNz", ""},
      {"Bearer a b", ""},
      {"Bearer a\tb", ""},
      {"abc.def.ghi", ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string_view> token = ParseBearerToken(c.header);
    if (c.token.empty()) {
      EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << c.header;
      EXPECT_EQ(pc::ReasonOf(token.status()), pc::reason::kInvalidToken) << c.header;
    } else {
      ASSERT_TRUE(token.ok()) << c.header << ": " << token.status();
      EXPECT_EQ(*token, c.token);
    }
  }
}

// Echoes "<sub>@<tid>" of the caller, or the authentication error.
class AuthenticatedEcho final : public EchoService::Service {
 public:
  AuthenticatedEcho(const Verifier& verifier, const pc::Clock& clock)
      : verifier_(verifier), clock_(clock) {}

  grpc::Status Echo(grpc::ServerContext* ctx, const EchoRequest*, EchoResponse* resp) override {
    absl::StatusOr<Claims> claims = Authenticate(*ctx, verifier_, clock_);
    if (!claims.ok()) return pc::ToGrpcStatus(claims.status());
    resp->set_message(claims->subject + "@" + claims->tenant_id);
    return grpc::Status::OK;
  }

 private:
  const Verifier& verifier_;
  const pc::Clock& clock_;
};

class AuthenticateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    stub_ = EchoService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                     grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { server_->Shutdown(); }

  // Calls Echo with the given `authorization` values (none, one or several).
  grpc::Status Call(const std::vector<std::string>& authorization, EchoResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    for (const std::string& value : authorization) ctx.AddMetadata(kAuthorizationHeader, value);
    EchoRequest req;
    req.set_message("hi");
    return stub_->Echo(&ctx, req, resp);
  }

  FakeClock clock_{kNow};
  Verifier verifier_ = MakeVerifier(absl::ZeroDuration());
  AuthenticatedEcho service_{verifier_, clock_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(AuthenticateTest, AttachedTokenAuthenticatesTheCall) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  AttachBearerToken(&ctx, SignEs(GoodPayload()));
  EchoRequest req;
  EchoResponse resp;
  grpc::Status status = stub_->Echo(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.message(), "alice@partner-1");
}

TEST_F(AuthenticateTest, RejectsMissingOrMalformedMetadata) {
  struct Case {
    std::string name;
    std::vector<std::string> authorization;
  };
  std::string good = SignEs(GoodPayload());
  std::vector<Case> cases = {
      {"Missing", {}},
      {"BasicScheme", {"Basic dXNlcjpwYXNz"}},
      {"NoScheme", {good}},
      {"EmptyBearer", {"Bearer"}},
      {"GarbageToken", {"Bearer garbage"}},
      {"Repeated", {"Bearer " + good, "Bearer " + good}},
      {"ForgedToken", {"Bearer " + Sign(GoodPayload(), JWT_ALG_HS256,
                                        Keys().es.public_key_pem, kEsKid)}},
  };
  for (const Case& c : cases) {
    EchoResponse resp;
    grpc::Status status = Call(c.authorization, &resp);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.name;
    EXPECT_EQ(pc::ReasonOf(pc::FromGrpcStatus(status)), pc::reason::kInvalidToken) << c.name;
    EXPECT_EQ(resp.message(), "") << c.name;
  }
}

TEST_F(AuthenticateTest, UsesTheInjectedClock) {
  std::string token = "Bearer " + SignEs(GoodPayload());  // exp = kNow + 1h
  EchoResponse resp;
  clock_.Set(kNow + absl::Hours(1) - absl::Seconds(1));
  EXPECT_TRUE(Call({token}, &resp).ok());
  clock_.Set(kNow + absl::Hours(1));
  grpc::Status expired = Call({token}, &resp);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(expired.error_message(), "token expired");
}

TEST_F(AuthenticateTest, LowerCaseSchemeIsAccepted) {
  EchoResponse resp;
  grpc::Status status = Call({"bearer " + SignEs(GoodPayload())}, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.message(), "alice@partner-1");
}

}  // namespace
}  // namespace pc::auth
