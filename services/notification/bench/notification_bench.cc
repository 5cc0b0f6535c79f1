// `make bench` for the notification service (numbers as ratios against baselines measured in
// the same run):
//  1. consumption: the projector (inbox + read models + feeds; what is already fetched, up to
//     200 events, in one SQLite transaction, synchronous=FULL) behind the group consumer, against the same consumer with a
//     handler that does nothing (the raw librdkafka consume), on the same pre-filled topic;
//     target ≥ 0.5×.
//  2. change-to-watcher latency: from the start of applying an event to a watcher receiving
//     it, p50/p99 with 100 concurrent watchers against 1 watcher; target p99 ≤ 1.5×.
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
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/publisher.h"
#include "pc/storage/database.h"
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

// Consumes `n` messages of `topic` from the start in a fresh group; returns messages/second
// from the first message handled to the last (the group join is not counted).
double Consume(const std::string& brokers, const std::string& topic, int n,
               const pc::kafka::MessageHandler& handler,
               const pc::kafka::BatchHandler& batch = {}) {
  std::mutex mu;
  std::condition_variable cv;
  int handled = 0;
  Clock::time_point first;
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers, .security = pc::testing::KafkaSecurity(), .group_id = "bench-" + pc::NewUuid().substr(0, 8), .topics = {topic},
       .max_batch = batch ? 200 : 1},
      handler, nullptr,
      {.on_handled = [&](const pc::kafka::ConsumedMessage&, const absl::Status&) {
        std::lock_guard lock(mu);
        if (handled++ == 0) first = Clock::now();
        if (handled == n) cv.notify_all();
      }},
      batch);
  if (!consumer.ok()) {
    std::fprintf(stderr, "bench: %s\n", consumer.status().ToString().c_str());
    std::exit(1);
  }
  (void)(*consumer)->Start();
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return handled >= n; });
  const double seconds = std::chrono::duration<double>(Clock::now() - first).count();
  lock.unlock();
  (*consumer)->Stop(absl::Seconds(10));
  return n / seconds;
}

void ConsumptionBench(const std::filesystem::path& dir) {
  const char* brokers_env = std::getenv("PC_TEST_KAFKA_BROKERS");
  if (brokers_env == nullptr) {
    std::fprintf(stderr, "bench: PC_TEST_KAFKA_BROKERS is not set (run through make bench)\n");
    std::exit(1);
  }
  const std::string brokers = brokers_env;
  const std::string topic = "bench.notification." + pc::NewUuid().substr(0, 8);
  if (absl::Status s = pc::kafka::CreateTopics(brokers, pc::testing::KafkaSecurity(), {topic}, 3, 1); !s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  constexpr int kEvents = 4000;
  auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = brokers, .security = pc::testing::KafkaSecurity(), .client_id = "bench"});
  size_t bytes = 0;
  for (int i = 0; i < kEvents; ++i) {
    const std::string customer = absl::StrCat("c", i % 500);
    const ev::EventEnvelope e = Event(absl::StrCat("p", i % 20), customer, i / 500 + 1);
    const std::string payload = e.SerializeAsString();
    bytes += payload.size();
    (*publisher)->Publish({.topic = topic, .key = e.aggregate_id(), .payload = payload,
                           .headers = pc::events::KafkaHeaders(e)},
                          [](const absl::Status&) {});
  }
  (void)(*publisher)->Flush(absl::Seconds(60));
  const double raw = Consume(brokers, topic, kEvents,
                             [](const pc::kafka::ConsumedMessage&) { return absl::OkStatus(); });
  auto db = FreshStore(dir / "consume.db");
  NotificationStore store(*db);
  pc::notification::Projector projector({.cloud = "global", .consumer_group = "bench"}, store, {});
  // As the service runs it: what is already fetched, up to 200, in one transaction.
  const double projected = Consume(
      brokers, topic, kEvents,
      [&](const pc::kafka::ConsumedMessage& m) { return projector.ApplyBytes(m.payload); },
      [&](const std::vector<pc::kafka::ConsumedMessage>& batch) {
        std::vector<std::string> payloads;
        for (const auto& m : batch) payloads.push_back(m.payload);
        return projector.ApplyBatch(payloads);
      });
  std::printf("consumption (%d events, %zu bytes avg, 3 partitions)\n", kEvents, bytes / kEvents);
  std::printf("  raw consume           %9.0f events/s\n", raw);
  std::printf("  projection + inbox    %9.0f events/s   (applied %lu)\n", projected,
              static_cast<unsigned long>(projector.applied()));
  std::printf("  ratio %.3f (target >= 0.50)\n", projected / raw);
}

struct LatencyResult {
  double p50_us, p99_us;
};

LatencyResult WatchLatency(const std::filesystem::path& dir, int watchers) {
  auto db = FreshStore(dir / absl::StrCat("watch-", watchers, ".db"));
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
  std::sort(latencies.begin(), latencies.end());
  return {latencies[latencies.size() / 2], latencies[latencies.size() * 99 / 100]};
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  const auto dir = std::filesystem::temp_directory_path() / ("pc-nbench-" + pc::NewUuid().substr(0, 8));
  std::filesystem::create_directories(dir);
  ConsumptionBench(dir);
  const LatencyResult one = WatchLatency(dir, 1);
  const LatencyResult hundred = WatchLatency(dir, 100);
  std::printf("change-to-watcher latency (200 changes, SQLite, one partner)\n");
  std::printf("  1 watcher      p50 %7.0f us  p99 %7.0f us\n", one.p50_us, one.p99_us);
  std::printf("  100 watchers   p50 %7.0f us  p99 %7.0f us\n", hundred.p50_us, hundred.p99_us);
  std::printf("  ratio p99 %.2f (target <= 1.50)\n", hundred.p99_us / one.p99_us);
  std::filesystem::remove_all(dir);
  return 0;
}
