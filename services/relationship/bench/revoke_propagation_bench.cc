// `make bench`: how long a revoke committed through replica A takes to be honoured by
// CheckAdminAccess on replica B (two pc-relationship processes on one PostgreSQL, the real
// broker, B learning it from the topic), against the broker's own end-to-end latency measured
// in the same run (publish → a TopicTailer's handler on another topic, sequentially).
//   revoke → denied on B:  t0 before RevokeAdminPermission on A, t1 when B first answers
//                          denied (B is asked in a tight loop);
//   broker baseline:       t0 before Publish, t1 in the tailer's handler.
// Reported: p50/p99 of both over kSamples, and their ratio (issue #14).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/tailer.h"
#include "pc/testing/bench_report.h"
#include "pc/testing/infra.h"
#include "pc/testing/subprocess.h"

namespace {

namespace v1 = partnercenter::relationship::v1;
namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
using SteadyClock = std::chrono::steady_clock;

constexpr int kSamples = 200;
constexpr char kCloud[] = "germany";

using pc::testing::Percentile;

double MillisSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

void Die(const std::string& why) {
  std::fprintf(stderr, "revoke_propagation_bench: %s\n", why.c_str());
  std::exit(1);
}

// Publish → handler latency of the broker alone, one message at a time.
std::vector<double> BrokerBaseline(const std::string& brokers) {
  const std::string topic = pc::testing::UniqueName("bench.e2e");
  if (!pc::kafka::CreateTopics(brokers, pc::testing::KafkaSecurity(), {topic}, 1, 1).ok()) Die("cannot create the topic");
  std::mutex mu;
  std::condition_variable cv;
  int seen = 0;
  auto tailer = pc::kafka::TopicTailer::Create({.brokers = brokers, .topic = topic, .security = pc::testing::KafkaSecurity()},
                                               [&](const pc::kafka::ConsumedMessage&) {
                                                 std::lock_guard lock(mu);
                                                 ++seen;
                                                 cv.notify_all();
                                               });
  if (!tailer.ok() || !(*tailer)->Start().ok()) Die("cannot tail the baseline topic");
  auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers, .security = pc::testing::KafkaSecurity(), .client_id = "bench"});
  if (!publisher.ok()) Die("no publisher");
  std::vector<double> samples;
  for (int i = 0; i < kSamples; ++i) {
    const auto t0 = SteadyClock::now();
    (*publisher)->Publish({.topic = topic, .key = absl::StrCat("k", i), .payload = "x"},
                          [](const absl::Status&) {});
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen > i; })) {
      Die("baseline message not seen");
    }
    samples.push_back(MillisSince(t0));
  }
  (*publisher)->Close(absl::Seconds(5));
  (*tailer)->Stop();
  return samples;
}

}  // namespace

int main() {
  const std::string brokers = pc::testing::KafkaBrokers();
  auto pg = pc::testing::TempPostgresDatabase::Create();
  if (!pg.ok()) Die(pg.status().ToString());
  const auto dir = std::filesystem::temp_directory_path() / pc::testing::UniqueName("revoke-bench");
  std::filesystem::create_directories(dir);
  if (!pc::auth::GenerateDevKeyPair((dir / "jwt").string(), "k1").ok()) Die("no keys");
  auto minter = pc::auth::Minter::FromDirectory((dir / "jwt").string(), "k1", "partnercenter-dev",
                                                "partnercenter");
  if (!minter.ok()) Die("no minter");
  if (!pc::kafka::CreateTopics(brokers, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics(kCloud), 3, 1).ok()) {
    Die("cannot create the topics");
  }
  auto token = [&](const std::string& tenant, const std::string& role) {
    return *minter->Mint({.subject = "u-" + tenant, .tenant_id = tenant, .cloud = kCloud,
                          .roles = {role}},
                         absl::Hours(1), absl::Now());
  };
  const std::string group = "relationship." + pc::testing::UniqueName("bench");
  auto start = [&](int port, const std::string& name) {
    auto p = std::make_unique<pc::testing::Subprocess>(
        std::vector<std::string>{PC_RELATIONSHIP_BINARY, absl::StrCat("--cloud=", kCloud),
                                 absl::StrCat("--grpc_port=", port), "--admin_port=0",
                                 "--log_format=text", "--kafka_brokers=" + brokers,
                                 "--jwt_keys_dir=" + (dir / "jwt").string(),
                                 "--database_url=" + (*pg)->url(), "--consumer_group=" + group,
                                 "--invitation_address="},
        pc::testing::KafkaSecurityEnv("relationship"), (dir / (name + ".log")).string());
    if (!p->WaitForLine([](const std::string& l) { return absl::StrContains(l, "serving gRPC on :"); },
                        absl::Seconds(60))
             .ok()) {
      Die(name + " did not start; see " + dir.string());
    }
    return p;
  };
  const int port_a = pc::testing::FreeTcpPort();
  const int port_b = pc::testing::FreeTcpPort();
  auto a = start(port_a, "replica-a");
  auto b = start(port_b, "replica-b");
  auto channel = [](int port) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  };
  auto stub_a = v1::RelationshipService::NewStub(channel(port_a));
  auto stub_b = v1::RelationshipService::NewStub(channel(port_b));
  std::string service_token = *minter->Mint(
      {.subject = "portal", .tenant_id = "partnercenter", .cloud = kCloud, .roles = {"service"}},
      absl::Hours(1), absl::Now());
  auto allowed_on_b = [&](const std::string& partner, const std::string& customer) {
    grpc::ClientContext ctx;
    pc::auth::AttachBearerToken(&ctx, service_token);
    v1::CheckAdminAccessRequest req;
    req.set_partner_id(partner);
    req.set_customer_id(customer);
    v1::CheckAdminAccessResponse resp;
    grpc::Status s = stub_b->CheckAdminAccess(&ctx, req, &resp);
    if (!s.ok()) Die("CheckAdminAccess: " + s.error_message());
    return resp.allowed();
  };

  // kSamples relationships with admin granted, through the invitation topic.
  auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers, .security = pc::testing::KafkaSecurity(), .client_id = "bench"});
  if (!publisher.ok()) Die("no publisher");
  const std::string partner = "p" + pc::NewUuid().substr(0, 8);
  std::vector<std::string> customers;
  for (int i = 0; i < kSamples; ++i) {
    customers.push_back(absl::StrCat("c", i, "-", pc::NewUuid().substr(0, 6)));
    common::Actor actor;
    actor.set_kind(common::ACTOR_KIND_CUSTOMER_ADMIN);
    actor.set_tenant_id(customers.back());
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = kCloud, .partner_id = partner, .customer_id = customers.back(),
         .aggregate_id = pc::NewUuid(), .aggregate_version = 2, .actor = actor},
        absl::Now());
    e.mutable_invitation_accepted()->set_invitation_id(e.aggregate_id());
    e.mutable_invitation_accepted()->set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    e.mutable_invitation_accepted()->set_include_admin_permission(true);
    e.mutable_invitation_accepted()->mutable_customer_profile()->set_company_name("Bench");
    pc::events::Seal(e);
    (*publisher)->Publish({.topic = pc::kafka::InvitationTopic(kCloud), .key = e.aggregate_id(),
                           .payload = e.SerializeAsString(),
                           .headers = pc::events::KafkaHeaders(e)},
                          [](const absl::Status&) {});
  }
  if (!(*publisher)->Flush(absl::Seconds(30)).ok()) Die("flush");
  for (const std::string& c : customers) {
    const auto t0 = SteadyClock::now();
    while (!allowed_on_b(partner, c)) {
      if (MillisSince(t0) > 60'000) Die("relationship " + c + " never reached B");
    }
  }

  std::vector<double> revoke_rpc, propagation;
  for (const std::string& c : customers) {
    grpc::ClientContext ctx;
    pc::auth::AttachBearerToken(&ctx, token(c, "customer_admin"));
    v1::RevokeAdminPermissionRequest req;
    req.set_request_id("revoke-" + c);
    req.set_partner_id(partner);
    req.set_customer_id(c);
    v1::Relationship out;
    const auto t0 = SteadyClock::now();
    grpc::Status s = stub_a->RevokeAdminPermission(&ctx, req, &out);
    if (!s.ok()) Die("revoke: " + s.error_message());
    revoke_rpc.push_back(MillisSince(t0));
    while (allowed_on_b(partner, c)) {
      if (MillisSince(t0) > 60'000) Die("revoke of " + c + " never reached B");
    }
    propagation.push_back(MillisSince(t0));
  }
  std::vector<double> broker = BrokerBaseline(brokers);

  std::printf("revoke on A -> first denied on B (%d revokes, broker up):\n", kSamples);
  std::printf("  %-34s p50 %7.2f ms   p99 %7.2f ms\n", "RevokeAdminPermission RPC on A",
              Percentile(revoke_rpc, 0.5), Percentile(revoke_rpc, 0.99));
  std::printf("  %-34s p50 %7.2f ms   p99 %7.2f ms\n", "revoke -> denied on B",
              Percentile(propagation, 0.5), Percentile(propagation, 0.99));
  std::printf("  %-34s p50 %7.2f ms   p99 %7.2f ms\n", "baseline: broker publish -> tail",
              Percentile(broker, 0.5), Percentile(broker, 0.99));
  std::printf("  ratio revoke->denied / broker e2e: p50 %.2fx  p99 %.2fx\n",
              Percentile(propagation, 0.5) / Percentile(broker, 0.5),
              Percentile(propagation, 0.99) / Percentile(broker, 0.99));
  const double p99_ratio = Percentile(propagation, 0.99) / Percentile(broker, 0.99);
  int status = 0;
  if (absl::Status s = pc::testing::AppendBenchFigure(
          {.id = "R.revoke",
           .title = "Revoke on replica A → denied on replica B ÷ broker publish → tail (p99)",
           .value = Percentile(propagation, 0.99), .baseline = Percentile(broker, 0.99),
           .unit = "ms (p99)", .ratios = {p99_ratio},
           .note = absl::StrCat(kSamples, " revokes, two replicas on one PostgreSQL")});
      !s.ok()) {
    std::fprintf(stderr, "revoke_propagation_bench: %s\n", s.ToString().c_str());
    status = 1;
  }
  a.reset();
  b.reset();
  std::filesystem::remove_all(dir);
  return status;
}
