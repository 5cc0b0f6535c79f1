// `make bench`: how long a consumer replica killed with kill -9 takes, once restarted, to apply
// its first event (issue #15), with static group membership (--consumer_instance_id, the same
// id after the restart) and without it, against the baseline of a cold start (a fresh process
// in a fresh group: joining plus reading cannot be faster than that).
//   t0: the restarted process is spawned (the event is already on the topic);
//   t1: its log line "InvitationAccepted <id> …: applied".
// One pc-relationship process on SQLite, the real broker, --consumer_session_timeout=10s.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pc/auth/keys.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/publisher.h"
#include "pc/testing/bench_report.h"
#include "pc/testing/infra.h"
#include "pc/testing/subprocess.h"

namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
using SteadyClock = std::chrono::steady_clock;

constexpr int kSamples = 3;
constexpr char kCloud[] = "usgov";

void Die(const std::string& why) {
  std::fprintf(stderr, "consumer_recovery_bench: %s\n", why.c_str());
  std::exit(1);
}

double MillisSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

class Bench {
 public:
  Bench() : brokers_(pc::testing::KafkaBrokers()) {
    dir_ = std::filesystem::temp_directory_path() / pc::testing::UniqueName("recovery-bench");
    std::filesystem::create_directories(dir_);
    if (!pc::auth::GenerateDevKeyPair((dir_ / "jwt").string(), "k1").ok()) Die("no keys");
    if (!pc::kafka::CreateTopics(brokers_, pc::testing::KafkaSecurity(), pc::kafka::CloudTopics(kCloud), 3, 1).ok()) {
      Die("cannot create the topics");
    }
    auto publisher = pc::kafka::KafkaPublisher::Create(
        {.brokers = brokers_, .security = pc::testing::KafkaSecurity(), .client_id = "bench"});
    if (!publisher.ok()) Die("no publisher");
    publisher_ = *std::move(publisher);
  }
  ~Bench() {
    publisher_->Close(absl::Seconds(5));
    std::filesystem::remove_all(dir_);
  }

  // Publishes an InvitationAccepted of a new pair; returns its event id.
  std::string PublishAcceptance() {
    const std::string customer = "c-" + pc::NewUuid().substr(0, 8);
    common::Actor actor;
    actor.set_kind(common::ACTOR_KIND_CUSTOMER_ADMIN);
    actor.set_tenant_id(customer);
    ev::EventEnvelope e = pc::events::NewEnvelope(
        {.cloud = kCloud, .partner_id = "p-bench", .customer_id = customer,
         .aggregate_id = pc::NewUuid(), .aggregate_version = 2, .actor = actor},
        absl::Now());
    e.mutable_invitation_accepted()->set_invitation_id(e.aggregate_id());
    e.mutable_invitation_accepted()->set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    e.mutable_invitation_accepted()->mutable_customer_profile()->set_company_name("Bench");
    pc::events::Seal(e);
    publisher_->Publish({.topic = pc::kafka::InvitationTopic(kCloud), .key = e.aggregate_id(),
                         .payload = e.SerializeAsString(), .headers = pc::events::KafkaHeaders(e)},
                        [](const absl::Status&) {});
    if (!publisher_->Flush(absl::Seconds(30)).ok()) Die("flush");
    return e.event_id();
  }

  std::unique_ptr<pc::testing::Subprocess> Start(const std::string& group,
                                                 const std::string& instance_id,
                                                 const std::string& name) {
    std::vector<std::string> argv = {
        PC_RELATIONSHIP_BINARY, absl::StrCat("--cloud=", kCloud), "--grpc_port=0",
        "--admin_port=0", "--log_format=text", "--kafka_brokers=" + brokers_,
        "--jwt_keys_dir=" + (dir_ / "jwt").string(),
        "--database_url=sqlite://" + (dir_ / (group + ".db")).string(),
        "--consumer_group=" + group, "--invitation_address=", "--drain_delay=0s",
        "--consumer_session_timeout=10s", "--consumer_instance_id=" + instance_id};
    return std::make_unique<pc::testing::Subprocess>(
        argv, pc::testing::KafkaSecurityEnv("relationship"), (dir_ / (name + ".log")).string());
  }

  static void WaitApplied(pc::testing::Subprocess& p, const std::string& event_id) {
    auto line = p.WaitForLine(
        [&](const std::string& l) {
          return absl::StrContains(l, event_id) && absl::StrContains(l, ": applied");
        },
        absl::Seconds(180));
    if (!line.ok()) Die("event " + event_id + " not applied: " + line.status().ToString());
  }

  // Cold start: spawn → first event applied, fresh group.
  double ColdStart() {
    const std::string group = "relationship." + pc::testing::UniqueName("recovery-cold");
    const std::string id = PublishAcceptance();
    const auto t0 = SteadyClock::now();
    auto p = Start(group, "", group);
    WaitApplied(*p, id);
    const double ms = MillisSince(t0);
    p->Kill(SIGTERM);
    p->Wait();
    return ms;
  }

  // Applies one event, dies with SIGKILL, restarts under the same instance id (empty:
  // dynamic member); spawn of the restart → its first event applied.
  double KillAndRestart(const std::string& instance_id) {
    const std::string group = "relationship." + pc::testing::UniqueName("recovery");
    auto first = Start(group, instance_id, group + "-1");
    WaitApplied(*first, PublishAcceptance());
    first->Kill(SIGKILL);
    first->Wait();
    const std::string id = PublishAcceptance();
    const auto t0 = SteadyClock::now();
    auto second = Start(group, instance_id, group + "-2");
    WaitApplied(*second, id);
    const double ms = MillisSince(t0);
    second->Kill(SIGTERM);
    second->Wait();
    return ms;
  }

 private:
  std::string brokers_;
  std::filesystem::path dir_;
  std::unique_ptr<pc::kafka::KafkaPublisher> publisher_;
};

void Print(const char* what, const std::vector<double>& ms, double baseline) {
  std::printf("  %-44s", what);
  double sum = 0;
  for (double m : ms) {
    std::printf(" %8.0f", m);
    sum += m;
  }
  const double mean = sum / ms.size();
  std::printf("   mean %8.0f ms  (%.1fx cold start)\n", mean, mean / baseline);
}

}  // namespace

int main() {
  Bench bench;
  std::vector<double> cold, with_static, with_dynamic;
  for (int i = 0; i < kSamples; ++i) cold.push_back(bench.ColdStart());
  for (int i = 0; i < kSamples; ++i) with_static.push_back(bench.KillAndRestart("replica-0"));
  for (int i = 0; i < kSamples; ++i) with_dynamic.push_back(bench.KillAndRestart(""));
  double cold_mean = 0;
  for (double m : cold) cold_mean += m / cold.size();
  std::printf("kill -9 of a consumer → restarted process applies its first event "
              "(session timeout 10s, ms per sample):\n");
  Print("baseline: cold start, fresh group", cold, cold_mean);
  Print("restart, static membership (same instance id)", with_static, cold_mean);
  Print("restart, dynamic membership", with_dynamic, cold_mean);
  // Per-sample ratios against the cold start's mean (the samples are not interleaved pairs:
  // a restart needs the previous process's group state).
  std::vector<double> static_ratios, dynamic_ratios;
  for (double m : with_static) static_ratios.push_back(m / cold_mean);
  for (double m : with_dynamic) dynamic_ratios.push_back(m / cold_mean);
  const std::string note = "kill -9, restart, first event applied; session timeout 10 s";
  int status = 0;
  for (const pc::testing::BenchFigure& f : std::vector<pc::testing::BenchFigure>{
           {.id = "R.recovery.static",
            .title = "Consumer restart after kill -9 (static membership) ÷ cold start",
            .value = pc::testing::Summarize(with_static).median, .baseline = cold_mean,
            .unit = "ms", .ratios = static_ratios, .goal = "<=2", .note = note},
           {.id = "R.recovery.dynamic",
            .title = "Consumer restart after kill -9 (dynamic membership) ÷ cold start",
            .value = pc::testing::Summarize(with_dynamic).median, .baseline = cold_mean,
            .unit = "ms", .ratios = dynamic_ratios, .note = note}}) {
    if (absl::Status s = pc::testing::AppendBenchFigure(f); !s.ok()) {
      std::fprintf(stderr, "consumer_recovery_bench: %s\n", s.ToString().c_str());
      status = 1;
    }
  }
  return status;
}
