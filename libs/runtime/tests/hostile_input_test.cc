// What a hostile caller can send to any service's gRPC port: unknown methods, bytes that are
// not the request message, strings that are not UTF-8. Each gets a precise, machine-readable
// answer; none creates metric series or raw log lines.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/client_unary_call.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "partnercenter/testing/v1/echo.grpc.pb.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/runtime/logging.h"
#include "pc/runtime/metrics.h"
#include "pc/runtime/server.h"
#include "pc/testing/status_matchers.h"

namespace pc::runtime {
namespace {

using ::partnercenter::testing::v1::EchoRequest;
using ::partnercenter::testing::v1::EchoResponse;
using ::partnercenter::testing::v1::EchoService;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEcho[] = "/partnercenter.testing.v1.EchoService/Echo";

// Echo; a message "missing" is answered NOT_FOUND without details, as gRPC code may.
class PlainEcho final : public EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* request,
                    EchoResponse* response) override {
    if (request->message() == "missing") return grpc::Status(grpc::StatusCode::NOT_FOUND, "nope");
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.bind_address = "127.0.0.1";
    options.registry = &registry_;
    options.handle_signals = false;
    server_ = std::make_unique<Server>(options);
    server_->AddService(&echo_);
    ASSERT_TRUE(server_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  // A unary call of `path` with `bytes` as the raw request message.
  absl::Status Call(const std::string& path, const std::string& bytes) {
    grpc::internal::RpcMethod method(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
                                     channel_);
    grpc::ClientContext context;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    return FromGrpcStatus(grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel_.get(), method, &context, request, &response));
  }

  Registry registry_;
  PlainEcho echo_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(HostileInputTest, UnknownMethodsOfAKnownServiceShareOneSeries) {
  std::mt19937 random(17);
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("M" + std::to_string(random()));
  for (const std::string& name : names) {
    absl::Status status = Call("/partnercenter.testing.v1.EchoService/" + name, "");
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(ReasonOf(status), "UNIMPLEMENTED");
  }
  const std::string metrics = registry_.Render();
  EXPECT_THAT(metrics, HasSubstr("pc_grpc_requests_total{method=\"/partnercenter.testing.v1."
                                 "EchoService/unknown\",code=\"UNIMPLEMENTED\"} 20\n"));
  for (const std::string& name : names) EXPECT_THAT(metrics, Not(HasSubstr(name)));
}

TEST_F(HostileInputTest, InvalidUtf8IsInvalidArgumentNamingTheFieldAndLogsNoRawLine) {
  SetupLogging("hostile", LogFormat::kJson, spdlog::level::debug);
  EchoRequest valid;
  valid.set_message("ok");
  ASSERT_TRUE(Call(kEcho, valid.SerializeAsString()).ok());

  ::testing::internal::CaptureStderr();
  // Field 1 (message), length 2: 0xff 0xfe is not UTF-8.
  absl::Status status = Call(kEcho, std::string("\x0a\x02\xff\xfe", 4));
  spdlog::default_logger()->flush();
  const std::string logged = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), "message: must be valid UTF-8");
  EXPECT_EQ(ReasonOf(status), reason::kInvalidField);
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(FieldViolationsOf(status), (std::vector<Pair>{{"message", "must be valid UTF-8"}}));
  EXPECT_THAT(logged, Not(HasSubstr("[libprotobuf")));
  bool routed = false;
  for (absl::string_view line : absl::StrSplit(logged, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << line;  // every line is a JSON log line
    if (j.value("msg", "").find("invalid UTF-8") != std::string::npos) {
      routed = true;
      EXPECT_EQ(j["level"], "debug");
    }
  }
  EXPECT_TRUE(routed) << logged;
  EXPECT_THAT(registry_.Render(),
              HasSubstr("pc_grpc_requests_total{method=\"/partnercenter.testing.v1.EchoService/"
                        "Echo\",code=\"INVALID_ARGUMENT\"} 1\n"));
  SetupLogging("hostile", LogFormat::kJson, spdlog::level::info);
}

TEST_F(HostileInputTest, BytesThatAreNoMessageAreMalformedRequest) {
  for (const std::string& bytes : {std::string("\xff\xff\xff\xff", 4), std::string("\x0a\x10x", 3),
                                   std::string("\x0b", 1)}) {
    absl::Status status = Call(kEcho, bytes);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(ReasonOf(status), reason::kMalformedRequest);
    EXPECT_THAT(std::string(status.message()), HasSubstr("partnercenter.testing.v1.EchoRequest"));
  }
}

TEST_F(HostileInputTest, ErrorsWithoutDetailsGetTheCodeAsReason) {
  EchoRequest missing;
  missing.set_message("missing");
  absl::Status status = Call(kEcho, missing.SerializeAsString());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "nope");
  EXPECT_EQ(ReasonOf(status), "NOT_FOUND");
  EXPECT_EQ(ReasonOf(Call("/no.such.Service/X", "")), "UNIMPLEMENTED");
}

}  // namespace
}  // namespace pc::runtime
