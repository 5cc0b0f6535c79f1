#include "gtest/gtest.h"
#include "partnercenter/testing/v1/echo.grpc.pb.h"
#include "pc/common/errors.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/grpc_server.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"

namespace pc::testing {
namespace {

using ::testing::Not;

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(StatusMatchers, MatchCodeAndReason) {
  const absl::Status s = pc::FailedPreconditionError("ACTIVE_SERVICES_EXIST", "x");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, "ACTIVE_SERVICES_EXIST"));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kFailedPrecondition, "OTHER")));
  EXPECT_THAT(s, Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(3), IsOk());
}

TEST(Infra, RequiredEnvFailsLoudlyWhenUnset) {
  EXPECT_THROW(RequiredEnv("PC_TEST_DEFINITELY_NOT_SET"), std::runtime_error);
  EXPECT_NE(UniqueName("a"), UniqueName("a"));
}

class EchoImpl final : public partnercenter::testing::v1::EchoService::Service {
  grpc::Status Echo(grpc::ServerContext*, const partnercenter::testing::v1::EchoRequest* req,
                    partnercenter::testing::v1::EchoResponse* resp) override {
    resp->set_message(req->message());
    return grpc::Status::OK;
  }
};

TEST(InProcessServer, ServesOnAKernelChosenPort) {
  EchoImpl impl;
  InProcessServer server({&impl});
  EXPECT_GT(server.port(), 0);
  auto stub = partnercenter::testing::v1::EchoService::NewStub(server.Channel());
  grpc::ClientContext ctx;
  partnercenter::testing::v1::EchoRequest req;
  req.set_message("hello");
  partnercenter::testing::v1::EchoResponse resp;
  ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.message(), "hello");
}

}  // namespace
}  // namespace pc::testing
