// `make bench`: the relationship service's invitation-events consumer against a raw consume
// of the same topic (issue #18's pipeline throughput: events on the topic → relationships).
//
// N InvitationAccepted events (distinct pairs, 20 partners, customer profile as the invitation
// service sends it) are pre-filled into a fresh 3-partition topic, then consumed from the start,
// each time by pc::kafka::KafkaConsumer in a fresh group, three ways per pair:
//   raw       a handler that does nothing (librdkafka's consume, offsets stored);
//   batched   as the service runs it: RelationshipDomain::ApplyInvitationEvents on what is
//             already fetched, up to 500 events (the default --consumer_batch), in one SQLite
//             transaction (synchronous=FULL): inbox row, applied-version row, relationship,
//             history, outbox event per acceptance;
//   single    RelationshipDomain::ApplyInvitationEvent, one transaction per event (the
//             service before batching; --consumer_batch=1).
// Figures: P8.relationship = batched ÷ raw (goal ≥ 0.5, as for the notification projection),
// P8.relationship.single = batched ÷ single (the batching's speed-up, no goal).
//
//   build/bench/relationship_consume_bench [--quick]
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "access_cache.h"
#include "domain.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/common/clock.h"
#include "pc/common/ids.h"
#include "pc/storage/database.h"
#include "pc/storage/test_database.h"
#include "pc/testing/bench_kafka.h"
#include "pc/testing/bench_report.h"
#include "spdlog/spdlog.h"
#include "store.h"

namespace pc::relationship {
namespace {

namespace ev = partnercenter::events::v1;

constexpr int kBatch = 500;  // the service's default --consumer_batch

// A fresh store and domain, as one relationship replica has them.
struct Replica {
  explicit Replica(const std::filesystem::path& path) {
    auto opened = pc::storage::Open("sqlite://" + path.string());
    if (!opened.ok() || !RelationshipStore::Migrate(**opened).ok()) {
      std::fprintf(stderr, "bench: cannot open %s\n", path.c_str());
      std::exit(1);
    }
    db = *std::move(opened);
    store = std::make_unique<RelationshipStore>(*db);
    cache = std::make_unique<AccessCache>(
        [this](const std::string& p, const std::string& c) { return domain->LoadAccess(p, c); });
    domain = std::make_unique<RelationshipDomain>(DomainOptions{.cloud = "global"}, *store,
                                                  pc::SystemClock::Get(), nullptr, *cache);
  }
  std::unique_ptr<pc::storage::Database> db;
  std::unique_ptr<RelationshipStore> store;
  std::unique_ptr<AccessCache> cache;
  std::unique_ptr<RelationshipDomain> domain;
};

absl::StatusOr<ev::EventEnvelope> Decode(const pc::kafka::ConsumedMessage& m) {
  ev::EventEnvelope e;
  if (!e.ParseFromString(m.payload)) return absl::InvalidArgumentError("not an envelope");
  return e;
}

int Main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const bool quick = pc::testing::BenchQuick(argc, argv);
  const int n = quick ? 5000 : 20000;
  const char* brokers_env = std::getenv("PC_TEST_KAFKA_BROKERS");
  if (brokers_env == nullptr) {
    std::fprintf(stderr, "bench: PC_TEST_KAFKA_BROKERS is not set (run through make bench)\n");
    return 1;
  }
  const std::string brokers = brokers_env;
  const auto dir =
      std::filesystem::temp_directory_path() / ("pc-rconsume-" + pc::NewUuid().substr(0, 8));
  std::filesystem::create_directories(dir);
  auto fail = [&](const absl::Status& s) {
    std::fprintf(stderr, "relationship_consume_bench: %s\n", s.ToString().c_str());
    std::filesystem::remove_all(dir);
    return 1;
  };
  auto topic = pc::testing::FreshBenchTopic(brokers, "bench.relationship");
  if (!topic.ok()) return fail(topic.status());
  std::vector<ev::EventEnvelope> events;
  events.reserve(n);
  for (int i = 0; i < n; ++i) {
    events.push_back(pc::testing::BenchAcceptance("global", absl::StrCat("partner-", i % 20),
                                                  absl::StrCat("customer-", i), i));
  }
  if (absl::Status s = pc::testing::PublishAll(brokers, *topic, events); !s.ok()) return fail(s);

  int run = 0;
  // Consumes the topic into a fresh replica; checks every pair became a relationship.
  auto applied = [&](bool batched) -> absl::StatusOr<double> {
    Replica replica(dir / absl::StrCat("relationship-", run++, ".db"));
    RelationshipDomain& domain = *replica.domain;
    pc::kafka::BatchHandler batch;
    if (batched) {
      batch = [&](const std::vector<pc::kafka::ConsumedMessage>& messages) -> absl::Status {
        std::vector<ev::EventEnvelope> decoded;
        decoded.reserve(messages.size());
        for (const auto& m : messages) {
          absl::StatusOr<ev::EventEnvelope> e = Decode(m);
          if (!e.ok()) return e.status();
          decoded.push_back(*std::move(e));
        }
        return domain.ApplyInvitationEvents(decoded);
      };
    }
    absl::StatusOr<double> rate = pc::testing::ConsumeRate(
        brokers, *topic, n,
        [&](const pc::kafka::ConsumedMessage& m) -> absl::Status {
          absl::StatusOr<ev::EventEnvelope> e = Decode(m);
          if (!e.ok()) return e.status();
          return domain.ApplyInvitationEvent(*e);
        },
        batch, kBatch);
    if (!rate.ok()) return rate.status();
    auto count = pc::storage::QueryInt64(*replica.db, "SELECT COUNT(*) FROM relationships");
    if (!count.ok()) return count.status();
    if (*count != n) {
      return absl::InternalError(absl::StrCat(*count, " relationships for ", n, " events"));
    }
    return *rate;
  };
  auto raw = [&]() {
    return pc::testing::ConsumeRate(brokers, *topic, n,
                                    [](const pc::kafka::ConsumedMessage&) { return absl::OkStatus(); });
  };
  std::printf("relationship consumption (%d InvitationAccepted, 3 partitions, batch %d, SQLite "
              "synchronous=FULL)\n", n, kBatch);
  auto vs_raw = pc::testing::RunAbPairs(3, raw, [&] { return applied(true); });
  if (!vs_raw.ok()) return fail(vs_raw.status());
  // One transaction per event is slow: one pair after the warm-up pair is enough to show it.
  auto vs_single = pc::testing::RunAbPairs(1, [&] { return applied(false); },
                                           [&] { return applied(true); });
  if (!vs_single.ok()) return fail(vs_single.status());
  const double raw_rate = pc::testing::Summarize(vs_raw->a).median;
  const double batched_rate = pc::testing::Summarize(vs_raw->b).median;
  const double single_rate = pc::testing::Summarize(vs_single->a).median;
  const pc::testing::RatioSummary r = pc::testing::Summarize(vs_raw->ratios);
  std::printf("  raw consume          %9.0f events/s (median)\n", raw_rate);
  std::printf("  batched (service)    %9.0f events/s (median)\n", batched_rate);
  std::printf("  one per transaction  %9.0f events/s\n", single_rate);
  std::printf("  ratio vs raw %.3f [%.3f-%.3f] (target >= 0.50); batching x%.1f\n", r.median,
              r.min, r.max, pc::testing::Summarize(vs_single->ratios).median);
  const std::string note = absl::StrCat(n, " events, 3 partitions, batch ", kBatch,
                                        ", SQLite synchronous=FULL, relay not running");
  int status = 0;
  for (const pc::testing::BenchFigure& f : std::vector<pc::testing::BenchFigure>{
           {.id = "P8.relationship",
            .title = "Relationship consumer (InvitationAccepted → relationship) ÷ raw consume",
            .value = batched_rate, .baseline = raw_rate, .unit = "events/s",
            .ratios = vs_raw->ratios, .goal = ">=0.5", .note = note},
           {.id = "P8.relationship.single",
            .title = "Relationship consumer batched ÷ one transaction per event",
            .value = pc::testing::Summarize(vs_single->b).median, .baseline = single_rate,
            .unit = "events/s", .ratios = vs_single->ratios, .note = note}}) {
    if (absl::Status s = pc::testing::AppendBenchFigure(f); !s.ok()) {
      std::fprintf(stderr, "relationship_consume_bench: %s\n", s.ToString().c_str());
      status = 1;
    }
  }
  std::filesystem::remove_all(dir);
  return status;
}

}  // namespace
}  // namespace pc::relationship

int main(int argc, char** argv) { return pc::relationship::Main(argc, argv); }
