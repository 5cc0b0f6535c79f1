// `make bench` for the notification service (numbers as ratios against baselines measured in
// the same run):
//  1. consumption (P8): the projector (inbox + read model + feed; what is already fetched, up
//     to 1000 events, in one SQLite transaction, synchronous=FULL) behind the group consumer,
//     against the same consumer with a handler that does nothing (the raw librdkafka
//     consume), on the same pre-filled topic, 3 A/B pairs; target ≥ 0.5×. Also against a
//     bare batched insert of the same rows (P8.bare, the storage's own limit).
//     In full mode the same with one pair of 1 000 000 events: P13, the rebuild of a read
//     model from a long topic (goal ≥ 0.5×).
//  2. change-to-watcher latency (P7): from the start of applying an event to a watcher
//     receiving it, p99 with 100 concurrent watchers against 1 watcher, 5 A/B pairs;
//     target p99 ≤ 1.5×.
// Part 1 needs a broker (PC_TEST_KAFKA_BROKERS, set by tools/dev/bench.sh).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "domain.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/kafka/consumer.h"
#include "pc/storage/database.h"
#include "pc/testing/bench_kafka.h"
#include "pc/testing/bench_report.h"
#include "pc/testing/infra.h"
#include "projector.h"
#include "spdlog/spdlog.h"
#include "store.h"

namespace {

namespace ev = partnercenter::events::v1;
namespace v1 = partnercenter::notification::v1;
namespace common = partnercenter::common::v1;
using Clock = std::chrono::steady_clock;
using pc::notification::NotificationStore;

// The service's default --consumer_batch.
constexpr int kServiceBatch = 1000;

ev::EventEnvelope Event(const std::string& partner, const std::string& customer, int64_t version) {
  ev::EventEnvelope e = pc::events::NewEnvelope(
      {.cloud = "global", .partner_id = partner, .customer_id = customer,
       .aggregate_id = pc::events::RelationshipKey(partner, customer), .aggregate_version = version},
      absl::Now());
  if (version == 1) {
    auto* p = e.mutable_relationship_established();
    p->mutable_customer_profile()->set_company_name("Company " + customer);
    p->mutable_customer_profile()->set_primary_domain(customer + ".example.com");
    p->set_admin_access(common::ADMIN_ACCESS_GRANTED);
  } else if (version % 2 == 0) {
    e.mutable_permission_revoked()->set_reason("bench");
  } else {
    e.mutable_permission_granted()->set_restored(true);
  }
  pc::events::Seal(e);
  return e;
}

std::unique_ptr<pc::storage::Database> FreshStore(const std::filesystem::path& path) {
  auto db = pc::storage::Open("sqlite://" + path.string());
  if (!db.ok() || !NotificationStore::Migrate(**db).ok()) {
    std::fprintf(stderr, "bench: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  return *std::move(db);
}

// Consumes `n` messages of `topic` from the start in a fresh group (messages/s); exits on error.
double Consume(const std::string& brokers, const std::string& topic, int n,
               const pc::kafka::MessageHandler& handler,
               const pc::kafka::BatchHandler& batch = {}) {
  absl::StatusOr<double> rate =
      pc::testing::ConsumeRate(brokers, topic, n, handler, batch, kServiceBatch);
  if (!rate.ok()) {
    std::fprintf(stderr, "bench: %s\n", rate.status().ToString().c_str());
    std::exit(1);
  }
  return *rate;
}

// One run's rates, events/s.
struct ConsumptionPair {
  double raw = 0, projected = 0, bare = 0;
};

// The storage's own limit: the rows one projected event writes (inbox, the relationship's
// row, one feed row), of the same sizes, as plain INSERTs with precomputed
// values, in transactions of `batch` events, on a fresh store with the same schema.
double BareBatchedInsert(const std::filesystem::path& path, const std::vector<std::string>& payloads,
                         int batch) {
  auto db = FreshStore(path);
  struct Rows {
    std::string event_id, partner, customer, data;
  };
  std::vector<Rows> rows;
  rows.reserve(payloads.size());
  for (const std::string& payload : payloads) {
    ev::EventEnvelope e;
    (void)e.ParseFromString(payload);
    rows.push_back({e.event_id(), e.partner_id(), e.customer_id(), payload});
  }
  const auto start = Clock::now();
  int64_t seq = 0;
  for (size_t from = 0; from < rows.size(); from += batch) {
    absl::Status s = db->InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      for (size_t i = from; i < std::min(rows.size(), from + batch); ++i) {
        const Rows& r = rows[i];
        const pc::storage::Bytes data{r.data};
        for (const auto& [sql, params] : std::vector<std::pair<const char*, std::vector<pc::storage::Value>>>{
                 {"INSERT INTO inbox (consumer_group, event_id, processed_at) VALUES ($1, $2, $3) "
                  "ON CONFLICT DO NOTHING",
                  {"bench", r.event_id, int64_t{1}}},
                 {"INSERT INTO relationship_rows (cloud, partner_id, customer_id, active, "
                  "admin_access, customer_sort, domain_sort, partner_sort, last_change, "
                  "customer_row, partner_row) VALUES ('global', $1, $2, 1, 1, $3, $3, $1, $4, $5, $5) "
                  "ON CONFLICT (cloud, partner_id, customer_id) DO UPDATE SET "
                  "customer_row = excluded.customer_row, partner_row = excluded.partner_row, "
                  "last_change = excluded.last_change",
                  {r.partner, r.customer, r.customer, ++seq, data}},
                 {"INSERT INTO feed_events (cloud, sequence, partner_id, customer_id, created_at, "
                  "partner_change, customer_change) VALUES ('global', $1, $2, $3, 1, $4, $4)",
                  {seq, r.partner, r.customer, data}}}) {
          auto done = tx.Execute(sql, params);
          if (!done.ok()) return done.status();
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "bench: bare insert: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  return rows.size() / std::chrono::duration<double>(Clock::now() - start).count();
}

// Appends a figure to the `make bench` report; a figure that cannot be written fails the run.
void Report(const pc::testing::BenchFigure& figure) {
  if (absl::Status s = pc::testing::AppendBenchFigure(figure); !s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

double Median(std::vector<double> v) { return pc::testing::Summarize(std::move(v)).median; }

// `id`: the figure ("P8"; "P13" for the rebuild of a read model from a long topic) and
// `title` what the projection is doing.
void ConsumptionBench(const std::filesystem::path& dir, int events, int pairs,
                      const std::string& id, const std::string& title) {
  const char* brokers_env = std::getenv("PC_TEST_KAFKA_BROKERS");
  if (brokers_env == nullptr) {
    std::fprintf(stderr, "bench: PC_TEST_KAFKA_BROKERS is not set (run through make bench)\n");
    std::exit(1);
  }
  const std::string brokers = brokers_env;
  absl::StatusOr<std::string> created = pc::testing::FreshBenchTopic(brokers, "bench.notification");
  if (!created.ok()) {
    std::fprintf(stderr, "bench: %s\n", created.status().ToString().c_str());
    std::exit(1);
  }
  const std::string topic = *created;
  // A quarter of the events establish relationships (20 partners), the rest revoke and
  // restore admin permission on them, in version order.
  const int customers = std::max(1, events / 4);
  std::vector<ev::EventEnvelope> envelopes;
  std::vector<std::string> payloads;
  envelopes.reserve(events);
  payloads.reserve(events);
  size_t bytes = 0;
  for (int i = 0; i < events; ++i) {
    const std::string customer = absl::StrCat("c", i % customers);
    envelopes.push_back(Event(absl::StrCat("p", (i % customers) % 20), customer, i / customers + 1));
    payloads.push_back(envelopes.back().SerializeAsString());
    bytes += payloads.back().size();
  }
  if (absl::Status s = pc::testing::PublishAll(brokers, topic, envelopes); !s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  constexpr int kBatch = kServiceBatch;
  std::vector<ConsumptionPair> runs;
  for (int r = 0; r < pairs; ++r) {
    ConsumptionPair run;
    run.raw = Consume(brokers, topic, events,
                      [](const pc::kafka::ConsumedMessage&) { return absl::OkStatus(); });
    auto db = FreshStore(dir / absl::StrCat("consume-", r, ".db"));
    NotificationStore store(*db);
    pc::notification::Projector projector({.cloud = "global", .consumer_group = "bench"}, store, {});
    // As the service runs it: what is already fetched, up to its --consumer_batch, in one
    // transaction.
    run.projected = Consume(
        brokers, topic, events,
        [&](const pc::kafka::ConsumedMessage& m) { return projector.ApplyBytes(m.payload); },
        [&](const std::vector<pc::kafka::ConsumedMessage>& batch) {
          std::vector<std::string> payloads;
          payloads.reserve(batch.size());
          for (const auto& m : batch) payloads.push_back(m.payload);
          return projector.ApplyBatch(payloads);
        });
    if (projector.applied() != static_cast<uint64_t>(events)) {
      std::fprintf(stderr, "bench: the projection applied %lu of %d events\n",
                   static_cast<unsigned long>(projector.applied()), events);
      std::exit(1);
    }
    run.bare = BareBatchedInsert(dir / absl::StrCat("bare-", r, ".db"), payloads, kBatch);
    runs.push_back(run);
  }
  std::vector<double> vs_raw, vs_bare, raw, projected, bare;
  for (const ConsumptionPair& run : runs) {
    vs_raw.push_back(run.projected / run.raw);
    vs_bare.push_back(run.projected / run.bare);
    raw.push_back(run.raw);
    projected.push_back(run.projected);
    bare.push_back(run.bare);
  }
  std::printf("consumption (%d events, %zu bytes avg, 3 partitions, %d A/B pairs, batch %d)\n",
              events, bytes / events, pairs, kBatch);
  std::printf("  raw consume           %9.0f events/s (median)\n", Median(raw));
  std::printf("  projection + inbox    %9.0f events/s (median)\n", Median(projected));
  std::printf("  bare batched insert   %9.0f events/s (median; the same rows, no logic)\n", Median(bare));
  std::printf("  ratio vs raw  %.3f [%.3f-%.3f] (target >= 0.50)\n", Median(vs_raw),
              *std::min_element(vs_raw.begin(), vs_raw.end()),
              *std::max_element(vs_raw.begin(), vs_raw.end()));
  std::printf("  ratio vs bare %.3f [%.3f-%.3f]\n", Median(vs_bare),
              *std::min_element(vs_bare.begin(), vs_bare.end()),
              *std::max_element(vs_bare.begin(), vs_bare.end()));
  const std::string note = absl::StrCat(events, " events, 3 partitions, batch ", kBatch,
                                        ", SQLite synchronous=FULL");
  Report({.id = id, .title = title + " ÷ raw consume of the same topic",
          .value = Median(projected), .baseline = Median(raw), .unit = "events/s",
          .ratios = vs_raw, .goal = ">=0.5", .note = note});
  Report({.id = id + ".bare", .title = title + " ÷ a bare batched insert of the same rows",
          .value = Median(projected), .baseline = Median(bare), .unit = "events/s",
          .ratios = vs_bare, .note = note});
}

struct LatencyResult {
  double p50_us, p99_us;
};

LatencyResult WatchLatency(const std::filesystem::path& dir, int watchers, int run) {
  auto db = FreshStore(dir / absl::StrCat("watch-", watchers, "-", run, ".db"));
  NotificationStore store(*db);
  pc::notification::FeedSignal signal;
  pc::notification::Projector projector({.cloud = "global"}, store, [&] { signal.Notify(); });
  pc::notification::NotificationDomain domain({.cloud = "global"}, store, signal);
  constexpr int kChanges = 200;
  std::vector<Clock::time_point> applied_at(kChanges + 1);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> latencies;
  int ready = 0, finished = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  pc::notification::CallContext call{{.subject = "b", .tenant_id = "p", .cloud = "global",
                                      .roles = {"partner_agent"}}};
  for (int w = 0; w < watchers; ++w) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      (void)domain.WatchCustomers(
          call, v1::WatchCustomersRequest(),
          [&](const v1::CustomerChange& c) {
            const auto now = Clock::now();
            if (c.kind() == v1::CHANGE_KIND_SNAPSHOT_END) {
              std::lock_guard lock(mu);
              ++ready;
              cv.notify_all();
              return true;
            }
            {
              std::lock_guard lock(mu);
              mine.push_back(std::chrono::duration<double, std::micro>(now - applied_at[c.sequence()]).count());
            }
            if (c.sequence() == kChanges) {
              std::lock_guard lock(mu);
              latencies.insert(latencies.end(), mine.begin(), mine.end());
              ++finished;
              cv.notify_all();
              return false;
            }
            return true;
          },
          [&] { return stop.load(); });
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready == watchers; });
  }
  for (int i = 1; i <= kChanges; ++i) {
    {
      std::lock_guard lock(mu);
      applied_at[i] = Clock::now();
    }
    (void)projector.Apply(Event("p", absl::StrCat("c", i), 1));
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished == watchers; });
  }
  stop = true;
  signal.Shutdown();
  for (auto& t : threads) t.join();
  return {pc::testing::Percentile(latencies, 0.5), pc::testing::Percentile(latencies, 0.99)};
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const auto dir = std::filesystem::temp_directory_path() / ("pc-nbench-" + pc::NewUuid().substr(0, 8));
  std::filesystem::create_directories(dir);
  // --quick: fewer events (make bench QUICK=1).
  const bool quick = pc::testing::BenchQuick(argc, argv);
  ConsumptionBench(dir, quick ? 20000 : 100000, 3, "P8", "Notification projection + inbox");
  // P13: a rebuild reads the whole topic into an empty read model, like --rebuild does; one
  // pair of 1 000 000 events (full mode only: about 4 minutes).
  if (!quick) {
    std::filesystem::remove_all(dir);  // P8's databases: the file names repeat
    std::filesystem::create_directories(dir);
    ConsumptionBench(dir, 1000000, 1, "P13", "Rebuilding the read model from 1 000 000 events");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  // P7: 1 watcher (A) and 100 watchers (B) alternate, 5 pairs, so "stable" is visible as the
  // range of the ratio.
  std::printf("change-to-watcher latency (200 changes, SQLite, one partner)\n");
  int pair = 0;
  auto latency = [&](int watchers) -> absl::StatusOr<double> {
    const LatencyResult r = WatchLatency(dir, watchers, pair);
    std::printf("  %3d watcher(s)  p50 %7.0f us  p99 %7.0f us\n", watchers, r.p50_us, r.p99_us);
    if (watchers > 1) ++pair;
    return r.p99_us;
  };
  auto runs = pc::testing::RunAbPairs(5, [&] { return latency(1); }, [&] { return latency(100); });
  if (!runs.ok()) {
    std::fprintf(stderr, "bench: %s\n", runs.status().ToString().c_str());
    return 1;
  }
  const pc::testing::RatioSummary p7 = pc::testing::Summarize(runs->ratios);
  std::printf("  ratio p99 %.2f [%.2f-%.2f] over %zu pairs (target <= 1.50)\n", p7.median, p7.min,
              p7.max, runs->ratios.size());
  Report({.id = "P7", .title = "Change-to-watcher p99 with 100 watchers ÷ with 1",
          .value = Median(runs->b), .baseline = Median(runs->a), .unit = "us (p99)",
          .ratios = runs->ratios, .goal = "<=1.5",
          .note = "200 changes per run, in-process domain on SQLite"});
  std::filesystem::remove_all(dir);
  return 0;
}
