#include "pc/runtime/server.h"

#include <csignal>
#include <future>
#include <thread>

// GCC 12 with -fsanitize reports a false maybe-uninitialized inside Beast's response parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#pragma GCC diagnostic pop
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/support/sync_stream.h"
#include "gtest/gtest.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.pb.h"
#include "partnercenter/testing/v1/echo.grpc.pb.h"
#include "pc/runtime/client_channel.h"
#include "pc/testing/status_matchers.h"

namespace pc::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::partnercenter::testing::v1::EchoRequest;
using ::partnercenter::testing::v1::EchoResponse;
using ::partnercenter::testing::v1::EchoService;
using ::grpc::reflection::v1::ServerReflectionRequest;
using ::grpc::reflection::v1::ServerReflectionResponse;
using ::pc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr auto kPatience = std::chrono::seconds(60);  // generous: a hang fails, never a race

// Thread-safe record of what happened, in order.
class EventLog {
 public:
  void Add(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> Get() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

// Echo whose calls with block_until_released wait until Release().
class BlockingEchoService final : public EchoService::Service {
 public:
  explicit BlockingEchoService(EventLog* events) : events_(events) {}

  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* request,
                    EchoResponse* response) override {
    if (request->block_until_released()) {
      events_->Add("echo started");
      started_.set_value();
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kPatience, [this] { return released_; })) {
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "never released");
      }
      events_->Add("echo returned");
    }
    response->set_message(request->message());
    return grpc::Status::OK;
  }

  bool WaitUntilStarted() {
    return started_future_.wait_for(kPatience) == std::future_status::ready;
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  EventLog* events_;
  std::promise<void> started_;
  std::future<void> started_future_ = started_.get_future();
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

// grpc.health.v1 by hand: a request is field 1
// (service name), a response is field 1 (1 = SERVING, 2 = NOT_SERVING).
enum HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2 };

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

std::string String(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer HealthRequest(const std::string& service) {
  return Bytes(service.empty() ? "" : std::string("\x0a", 1) + char(service.size()) + service);
}

int DecodeHealth(const grpc::ByteBuffer& response) {
  std::string bytes = String(response);
  return bytes.size() == 2 && bytes[0] == 0x08 ? int{bytes[1]} : int{kUnknown};
}

// Health/Check: the status, or -code for a failed call.
int HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                   grpc::internal::RpcMethod::NORMAL_RPC, channel);
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), method, &context, HealthRequest(service), &response);
  return status.ok() ? DecodeHealth(response) : -status.error_code();
}

// A Health/Watch stream opened now; Next() blocks for the next status.
class HealthWatch {
 public:
  explicit HealthWatch(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& service = "")
      : method_("/grpc.health.v1.Health/Watch", grpc::internal::RpcMethod::SERVER_STREAMING,
                channel) {
    context_.set_deadline(std::chrono::system_clock::now() + kPatience);
    reader_.reset(grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
        channel.get(), method_, &context_, HealthRequest(service)));
  }
  int Next() {
    grpc::ByteBuffer response;
    return reader_->Read(&response) ? DecodeHealth(response) : kUnknown;
  }
  // A watch is a stream: left open it would hold the drain until the grace deadline.
  void Cancel() {
    context_.TryCancel();
    grpc::ByteBuffer ignored;
    while (reader_->Read(&ignored)) {
    }
    reader_->Finish();
  }

 private:
  grpc::internal::RpcMethod method_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader_;
};

// One request to grpc.reflection.<version>.ServerReflection ("v1" or "v1alpha"; the messages
// are wire-identical, so the v1 types speak both).
ServerReflectionResponse Reflect(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& version,
                                 const ServerReflectionRequest& request) {
  const std::string path = "/grpc.reflection." + version + ".ServerReflection/ServerReflectionInfo";
  grpc::internal::RpcMethod method(path.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING,
                                   channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kPatience);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, &context));
  stream->Write(Bytes(request.SerializeAsString()));
  stream->WritesDone();
  grpc::ByteBuffer bytes;
  ServerReflectionResponse response;
  EXPECT_TRUE(stream->Read(&bytes)) << version;
  EXPECT_TRUE(response.ParseFromString(String(bytes))) << version;
  EXPECT_FALSE(stream->Read(&bytes)) << version << ": one answer per request";
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << version << ": " << status.error_message();
  return response;
}

std::vector<std::string> ListedServices(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& version) {
  ServerReflectionRequest request;
  request.set_list_services("*");
  const ServerReflectionResponse response = Reflect(channel, version, request);
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

// The names of the files in a file_descriptor_response, in order.
std::vector<std::string> DescribedFiles(const ServerReflectionResponse& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

struct HttpResult {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// Sends `raw` (or a GET/other request for `target`) to the admin port and reads the answer.
HttpResult HttpExchange(int port, http::verb verb, const std::string& target,
                        const std::string& raw = "") {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  if (raw.empty()) {
    http::request<http::empty_body> req(verb, target, 11);
    req.set(http::field::host, "localhost");
    http::write(socket, req);
  } else {
    asio::write(socket, asio::buffer(raw));
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

HttpResult HttpGet(int port, const std::string& target) {
  return HttpExchange(port, http::verb::get, target);
}

ServerOptions TestOptions(Registry* registry) {
  ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.registry = registry;
  options.handle_signals = false;
  return options;
}

std::shared_ptr<grpc::Channel> ChannelTo(const Server& server) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(server.grpc_port()),
                             grpc::InsecureChannelCredentials());
}

TEST(ServerTest, AdminHttpServesMetricsHealthAndReadiness) {
  Registry registry;
  registry.AddCounter("pc_test_events_total", "Test events.").WithLabels().Increment(3);
  Server server(TestOptions(&registry));
  ASSERT_OK(server.Start());
  ASSERT_NE(server.admin_port(), 0);

  HttpResult metrics = HttpGet(server.admin_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE pc_test_events_total counter\npc_test_events_total 3\n"));
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE pc_grpc_requests_total counter\n"));

  EXPECT_EQ(HttpGet(server.admin_port(), "/healthz").status, 200u);
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz").status, 200u);
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz?verbose=1").status, 200u);
  EXPECT_EQ(HttpGet(server.admin_port(), "/nope").status, 404u);
  EXPECT_EQ(HttpExchange(server.admin_port(), http::verb::post, "/metrics").status, 405u);
  EXPECT_EQ(HttpExchange(server.admin_port(), http::verb::get, "", "NOT HTTP AT ALL\r\n\r\n").status,
            400u);
  // Still alive after the bad request.
  EXPECT_EQ(HttpGet(server.admin_port(), "/healthz").status, 200u);
}

TEST(ServerTest, ReadyCheckDrivesReadinessButNotLiveness) {
  Registry registry;
  std::atomic<bool> ready{true};
  ServerOptions options = TestOptions(&registry);
  options.ready_check = [&ready]() -> absl::Status {
    return ready ? absl::OkStatus() : absl::UnavailableError("cache stale and no database");
  };
  options.ready_check_interval = absl::Milliseconds(10);
  Server server(options);
  ASSERT_OK(server.Start());
  auto channel = ChannelTo(server);
  HealthWatch readiness(channel, Server::kReadinessService);
  EXPECT_EQ(readiness.Next(), kServing);
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz").status, 200u);

  ready = false;
  EXPECT_EQ(readiness.Next(), kNotServing);  // the watch is the hook: pushed on the change
  HttpResult readyz = HttpGet(server.admin_port(), "/readyz");
  EXPECT_EQ(readyz.status, 503u);
  EXPECT_THAT(readyz.body, HasSubstr("cache stale and no database"));
  EXPECT_EQ(HealthCheck(channel, ""), kServing) << "liveness must not follow readiness";

  ready = true;
  EXPECT_EQ(readiness.Next(), kServing);
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz").status, 200u);
  readiness.Cancel();
}

TEST(ServerTest, WithoutAReadyCheckReadinessIsServing) {
  Registry registry;
  Server server(TestOptions(&registry));
  ASSERT_OK(server.Start());
  EXPECT_EQ(HealthCheck(ChannelTo(server), Server::kReadinessService), kServing);
}

// A started server with the echo service, and a channel to it.
struct EchoServer {
  EchoServer() {
    server.AddService(&echo);
    EXPECT_OK(server.Start());
    channel = ChannelTo(server);
  }
  Registry registry;
  EventLog events;
  BlockingEchoService echo{&events};
  Server server{TestOptions(&registry)};
  std::shared_ptr<grpc::Channel> channel;
};

TEST(ServerTest, RegistersHealthPerServiceAndReflection) {
  EchoServer echo_server;
  const auto& channel = echo_server.channel;

  EXPECT_EQ(HealthCheck(channel, ""), kServing);
  EXPECT_EQ(HealthCheck(channel, "partnercenter.testing.v1.EchoService"), kServing);
  EXPECT_EQ(HealthCheck(channel, "no.such.Service"), -grpc::StatusCode::NOT_FOUND);
  for (const std::string version : {"v1", "v1alpha"}) {
    EXPECT_THAT(ListedServices(channel, version),
                UnorderedElementsAre("partnercenter.testing.v1.EchoService",
                                     "grpc.health.v1.Health",
                                     "grpc.reflection.v1.ServerReflection",
                                     "grpc.reflection.v1alpha.ServerReflection"))
        << version;
  }
}

// What grpcurl asks: every listed service's file, by symbol, with its imports; the same answers
// from v1 and v1alpha, health included (its descriptors are linked in by the runtime).
TEST(ServerTest, ReflectionV1AndV1alphaDescribeEveryServiceIncludingHealth) {
  EchoServer echo_server;
  const auto& channel = echo_server.channel;

  struct Case {
    std::string symbol;
    std::vector<std::string> files;
  };
  const std::vector<Case> cases = {
      {"grpc.health.v1.Health", {"grpc/health/v1/health.proto"}},
      {"grpc.health.v1.Health.Check", {"grpc/health/v1/health.proto"}},
      {"grpc.health.v1.HealthCheckResponse", {"grpc/health/v1/health.proto"}},
      {"partnercenter.testing.v1.EchoService", {"partnercenter/testing/v1/echo.proto"}},
      {"grpc.reflection.v1.ServerReflection", {"grpc/reflection/v1/reflection.proto"}},
  };
  for (const std::string version : {"v1", "v1alpha"}) {
    for (const Case& c : cases) {
      ServerReflectionRequest request;
      request.set_host("localhost");
      request.set_file_containing_symbol(c.symbol);
      ServerReflectionResponse response = Reflect(channel, version, request);
      EXPECT_EQ(DescribedFiles(response), c.files) << version << " " << c.symbol;
      EXPECT_EQ(response.valid_host(), "localhost") << version;
      EXPECT_EQ(response.original_request().file_containing_symbol(), c.symbol) << version;
    }

    ServerReflectionRequest by_name;
    by_name.set_file_by_filename("google/protobuf/descriptor.proto");
    EXPECT_EQ(DescribedFiles(Reflect(channel, version, by_name)),
              std::vector<std::string>{"google/protobuf/descriptor.proto"})
        << version;

    ServerReflectionRequest unknown;
    unknown.set_file_containing_symbol("no.such.Service");
    ServerReflectionResponse error = Reflect(channel, version, unknown);
    EXPECT_EQ(error.error_response().error_code(), grpc::StatusCode::NOT_FOUND) << version;
    EXPECT_EQ(error.error_response().error_message(), "Symbol not found.") << version;

    ServerReflectionRequest extensions;
    extensions.set_all_extension_numbers_of_type("google.protobuf.FieldOptions");
    EXPECT_EQ(
        Reflect(channel, version, extensions).all_extension_numbers_response().base_type_name(),
        "google.protobuf.FieldOptions")
        << version;
  }
}

TEST(ServerTest, OrderedShutdownDrainsInFlightCallThenRunsStopActionsInReverse) {
  Registry registry;
  EventLog events;
  BlockingEchoService echo(&events);
  std::promise<void> not_serving;
  ServerOptions options = TestOptions(&registry);
  options.shutdown_grace = absl::Seconds(120);  // the call must finish, not be cancelled
  options.on_not_serving = [&] {
    events.Add("not serving");
    not_serving.set_value();
  };
  Server server(options);
  server.AddService(&echo);
  server.OnStop("store", [&] { events.Add("stop store"); });
  server.OnStop("outbox relay", [&] { events.Add("stop outbox relay"); });
  server.OnStop("consumers", [&] { events.Add("stop consumers"); });
  ASSERT_OK(server.Start());
  std::thread waiter([&] {
    server.Wait();
    events.Add("wait returned");
  });

  auto channel = ChannelTo(server);
  HealthWatch watch(channel);  // opened before the shutdown, as a load balancer would
  ASSERT_EQ(watch.Next(), kServing);

  auto stub = EchoService::NewStub(channel);
  EchoRequest request;
  request.set_message("in flight");
  request.set_block_until_released(true);
  EchoResponse response;
  grpc::Status call_status;
  std::thread caller([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kPatience);
    call_status = stub->Echo(&context, request, &response);
  });
  ASSERT_TRUE(echo.WaitUntilStarted());

  server.RequestShutdown();
  ASSERT_EQ(not_serving.get_future().wait_for(kPatience), std::future_status::ready);
  EXPECT_FALSE(server.serving());
  EXPECT_EQ(watch.Next(), kNotServing);
  watch.Cancel();
  // Draining: the admin side is still up and tells probes to stop routing here.
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz").status, 503u);
  EXPECT_EQ(HttpGet(server.admin_port(), "/healthz").status, 200u);
  EXPECT_THAT(events.Get(), ElementsAre("echo started", "not serving"));

  echo.Release();
  caller.join();
  EXPECT_TRUE(call_status.ok()) << call_status.error_message();
  EXPECT_EQ(response.message(), "in flight");
  waiter.join();
  EXPECT_THAT(events.Get(),
              ElementsAre("echo started", "not serving", "echo returned", "stop consumers",
                          "stop outbox relay", "stop store", "wait returned"));

  std::string metrics = registry.Render();
  EXPECT_THAT(metrics, HasSubstr("pc_grpc_requests_total{method=\"/partnercenter.testing.v1."
                                 "EchoService/Echo\",code=\"OK\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("pc_grpc_request_duration_seconds_count{method=\"/partnercenter."
                                 "testing.v1.EchoService/Echo\"} 1\n"));
}

TEST(ServerTest, InterceptorCountsStatusCodes) {
  Registry registry;
  EventLog events;
  BlockingEchoService echo(&events);
  Server server(TestOptions(&registry));
  server.AddService(&echo);
  ASSERT_OK(server.Start());
  auto stub = EchoService::NewStub(ChannelTo(server));
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    EchoRequest request;
    request.set_message("hi");
    EchoResponse response;
    ASSERT_TRUE(stub->Echo(&context, request, &response).ok());
  }
  EXPECT_EQ(HealthCheck(ChannelTo(server), "no.such.Service"), -grpc::StatusCode::NOT_FOUND);
  {
    auto channel = ChannelTo(server);
    grpc::internal::RpcMethod method("/no.such.Service/Method",
                                     grpc::internal::RpcMethod::NORMAL_RPC, channel);
    grpc::ClientContext context;
    grpc::ByteBuffer response;
    grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(), method, &context, Bytes(""), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  std::string metrics = registry.Render();
  EXPECT_THAT(metrics, HasSubstr("pc_grpc_requests_total{method=\"/partnercenter.testing.v1."
                                 "EchoService/Echo\",code=\"OK\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("pc_grpc_requests_total{method=\"/grpc.health.v1.Health/Check\","
                                 "code=\"NOT_FOUND\"} 1\n"));
  // Unknown methods share one series, so callers cannot create series at will.
  EXPECT_THAT(metrics,
              HasSubstr("pc_grpc_requests_total{method=\"unknown\",code=\"UNIMPLEMENTED\"} 1\n"));
  EXPECT_THAT(metrics, Not(HasSubstr("no.such.Service")));
}

TEST(ServerTest, StartFailsWhenPortsAreTaken) {
  Registry registry;
  Server first(TestOptions(&registry));
  ASSERT_OK(first.Start());
  EXPECT_THAT(first.Start(), StatusIs(absl::StatusCode::kFailedPrecondition));

  ServerOptions same_grpc = TestOptions(&registry);
  same_grpc.grpc_port = first.grpc_port();
  Server second(same_grpc);
  absl::Status status = second.Start();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(status.message(), HasSubstr(std::to_string(first.grpc_port())));

  ServerOptions same_admin = TestOptions(&registry);
  same_admin.admin_port = first.admin_port();
  Server third(same_admin);
  EXPECT_THAT(third.Start(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ServerTest, SigtermStartsTheShutdown) {
  Registry registry;
  ServerOptions options = TestOptions(&registry);
  options.handle_signals = true;
  bool stopped = false;
  Server server(options);
  server.OnStop("flag", [&] { stopped = true; });
  ASSERT_OK(server.Start());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  server.Wait();  // returns only because the signal asked for the shutdown
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(server.serving());
}

}  // namespace
}  // namespace pc::runtime

namespace pc::runtime {
namespace {

// Counts its calls; WaitForCalls blocks until it has answered at least n.
class CountingEchoService final : public EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* request,
                    EchoResponse* response) override {
    response->set_message(request->message());
    std::lock_guard lock(mu_);
    ++calls_;
    cv_.notify_all();
    return grpc::Status::OK;
  }
  bool WaitForCalls(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
};

TEST(ServerTest, DrainDelayKeepsServingNewCallsAfterHealthTurnedNotServing) {
  Registry registry;
  CountingEchoService echo;
  std::promise<void> not_serving;
  ServerOptions options = TestOptions(&registry);
  options.drain_delay = absl::Seconds(120);  // cut short below by a second RequestShutdown
  options.on_not_serving = [&] { not_serving.set_value(); };
  Server server(options);
  server.AddService(&echo);
  ASSERT_OK(server.Start());
  std::thread waiter([&] { server.Wait(); });
  server.RequestShutdown();
  ASSERT_EQ(not_serving.get_future().wait_for(kPatience), std::future_status::ready);

  auto channel = ChannelTo(server);  // a new connection, made after NOT_SERVING
  EXPECT_EQ(HealthCheck(channel, ""), kNotServing);
  EXPECT_EQ(HealthCheck(channel, Server::kReadinessService), kNotServing);
  EXPECT_EQ(HttpGet(server.admin_port(), "/readyz").status, 503u);
  auto stub = EchoService::NewStub(channel);
  EchoRequest request;
  request.set_message("still served");
  EchoResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kPatience);
  grpc::Status status = stub->Echo(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.message(), "still served");

  server.RequestShutdown();  // ends the delay
  waiter.join();
  EXPECT_FALSE(server.serving());
}

TEST(ServerTest, AdminPagesAreServed) {
  Registry registry;
  ServerOptions options = TestOptions(&registry);
  options.admin_pages["/caughtup"] = [] {
    return AdminPage{.status = 503, .body = "{\"caught_up\":false}\n"};
  };
  Server server(options);
  ASSERT_OK(server.Start());
  const HttpResult page = HttpGet(server.admin_port(), "/caughtup");
  EXPECT_EQ(page.status, 503u);
  EXPECT_EQ(page.content_type, "application/json");
  EXPECT_EQ(page.body, "{\"caught_up\":false}\n");
  server.RequestShutdown();
  server.Wait();
}

// A rollout seen by a client that balances over both replicas itself (the headless Service)
// and watches their readiness (UseBalancedHealthChecking): replica A shuts down under load
// (NOT_SERVING, drain delay, drain, stop) and its replacement A' starts on the same address.
// Not one call fails, and every replica answered some. (Without the health watch, calls that
// reach A as it stops accepting come back CANCELLED.)
TEST(ServerTest, RollingOneOfTwoReplicasUnderLoadFailsNoCall) {
  Registry registry_a, registry_b, registry_a2;
  CountingEchoService echo_a, echo_b, echo_a2;
  auto start = [](Registry* registry, CountingEchoService* echo, int port) {
    ServerOptions options = TestOptions(registry);
    options.grpc_port = port;
    options.drain_delay = absl::Milliseconds(500);
    auto server = std::make_unique<Server>(options);
    server->AddService(echo);
    EXPECT_OK(server->Start());
    return server;
  };
  std::unique_ptr<Server> a = start(&registry_a, &echo_a, 0);
  std::unique_ptr<Server> b = start(&registry_b, &echo_b, 0);
  const int port_a = a->grpc_port();
  grpc::ChannelArguments args;
  UseBalancedHealthChecking(&args);  // what the services' clients use
  auto channel = grpc::CreateCustomChannel(
      "ipv4:127.0.0.1:" + std::to_string(port_a) + ",127.0.0.1:" + std::to_string(b->grpc_port()),
      grpc::InsecureChannelCredentials(), args);
  auto stub = EchoService::NewStub(channel);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        EchoRequest request;
        request.set_message("call");
        EchoResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        grpc::Status status = stub->Echo(&context, request, &response);
        if (status.ok()) {
          ++ok;
        } else {
          std::lock_guard lock(failures_mu);
          failures.push_back(std::to_string(status.error_code()) + " " + status.error_message());
        }
      }
    });
  }
  ASSERT_TRUE(echo_a.WaitForCalls(50));
  ASSERT_TRUE(echo_b.WaitForCalls(50));
  std::thread rollout([&] {
    a->RequestShutdown();
    a->Wait();  // drain delay, drain, stop actions
  });
  rollout.join();
  const int served_by_a = echo_a.calls();
  const int b_before = echo_b.calls();
  ASSERT_TRUE(echo_b.WaitForCalls(b_before + 50));  // B carries the load alone meanwhile
  std::unique_ptr<Server> a2 = start(&registry_a2, &echo_a2, port_a);
  ASSERT_EQ(a2->grpc_port(), port_a);
  EXPECT_TRUE(echo_a2.WaitForCalls(50)) << "the replacement got no traffic";
  stop = true;
  for (std::thread& t : load) t.join();

  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_EQ(echo_a.calls(), served_by_a) << "A answered after it shut down";
  EXPECT_EQ(ok.load(), echo_a.calls() + echo_b.calls() + echo_a2.calls());
  a2->RequestShutdown();
  a2->Wait();
  b->RequestShutdown();
  b->Wait();
}

}  // namespace
}  // namespace pc::runtime
