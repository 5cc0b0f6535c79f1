// pc-notification: flags → the store, the projector consuming both topics, the watch hub and
// the gRPC service → serve until SIGTERM (watch streams end with UNAVAILABLE first).
// With --rebuild: fill an empty store from the earliest offsets, exit when caught up.
#include <condition_variable>
#include <map>
#include <mutex>

#include "absl/flags/flag.h"
#include "domain.h"
#include "grpc_service.h"
#include "pc/common/ids.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/group_membership.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/security_flags.h"
#include "pc/kafka/tailer.h"
#include "pc/runtime/flags.h"
#include "pc/runtime/identity.h"
#include "pc/runtime/init.h"
#include "pc/runtime/metrics.h"
#include "pc/pipeline/caught_up.h"
#include "pc/pipeline/consumer_counters.h"
#include "pc/pipeline/consumer_monitor.h"
#include "pc/pipeline/retention.h"
#include "pc/runtime/server.h"
#include "pc/storage/database.h"
#include "projector.h"
#include "spdlog/spdlog.h"
#include "store.h"

ABSL_FLAG(std::string, database_url, "sqlite://.local/data/notification.db",
          "sqlite://<path> (embedded default) or postgresql://user@host:port/db");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092", "Kafka bootstrap servers");
ABSL_FLAG(std::string, consumer_group, "notification",
          "Kafka consumer group (and inbox name) for invitation and relationship events");
ABSL_FLAG(int32_t, consumer_batch, 1000,
          "Events already fetched that are applied together in one transaction (1 = one each)");
ABSL_FLAG(int64_t, watch_buffer, 1000,
          "How many changes a caught-up watcher may fall behind before its stream ends with "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, watch_poll_interval, absl::Milliseconds(250),
          "How often idle watchers look for changes committed by other replicas");
ABSL_FLAG(bool, rebuild, false,
          "Rebuild the read models: consume both topics from the earliest offsets into the "
          "(empty) --database_url with a fresh consumer group, exit 0 when caught up");
ABSL_FLAG(absl::Duration, feed_retention, absl::Hours(24 * 7),
          "Change-feed rows are deleted after this long; a watch resuming from before the "
          "oldest kept change gets a fresh snapshot instead");
ABSL_FLAG(bool, migrate_only, false, "Apply the schema migrations, then exit (Kubernetes Job)");

namespace {

// Consumes both topics from the earliest offsets with a fresh group until every partition
// reached the end offset it had when the rebuild started.
int Rebuild(pc::notification::NotificationStore& store, pc::notification::Projector& projector,
            pc::kafka::Publisher& dead_letter, const std::string& brokers,
            const pc::kafka::Security& security, const std::string& cloud) {
  auto existing = store.DumpReadModels();
  PC_CHECK_OK(existing.status());
  if (!existing->empty()) {
    spdlog::error("rebuild: {} rows already in --database_url; rebuild needs an empty database",
                  existing->size());
    return 1;
  }
  const std::vector<std::string> topics = {pc::kafka::InvitationTopic(cloud),
                                           pc::kafka::RelationshipTopic(cloud)};
  std::map<std::pair<std::string, int32_t>, int64_t> remaining;  // next offset to reach
  for (const std::string& topic : topics) {
    auto ends = pc::kafka::EndOffsets(brokers, security, topic);
    PC_CHECK_OK(ends.status());
    for (size_t p = 0; p < ends->size(); ++p) {
      if ((*ends)[p] > 0) remaining[{topic, static_cast<int32_t>(p)}] = (*ends)[p];
    }
  }
  std::mutex mu;
  std::condition_variable done;
  int64_t handled = 0;
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers,
       .security = security,
       .group_id = "notification-rebuild-" + pc::NewUuid().substr(0, 8),
       .topics = topics,
       .dead_letter_topic = pc::kafka::DeadLetterTopic(cloud),
       .auto_offset_reset = "earliest",
       .max_batch = absl::GetFlag(FLAGS_consumer_batch)},
      [&](const pc::kafka::ConsumedMessage& m) { return projector.ApplyBytes(m.payload); },
      &dead_letter,
      {.on_handled = [&](const pc::kafka::ConsumedMessage& m, const absl::Status&) {
        std::lock_guard lock(mu);
        ++handled;
        auto it = remaining.find({m.topic, m.partition});
        if (it != remaining.end() && m.offset + 1 >= it->second) remaining.erase(it);
        if (remaining.empty()) done.notify_all();
      }},
      [&](const std::vector<pc::kafka::ConsumedMessage>& batch) {
        std::vector<std::string> payloads;
        for (const auto& m : batch) payloads.push_back(m.payload);
        return projector.ApplyBatch(payloads);
      });
  PC_CHECK_OK(consumer.status());
  spdlog::info("rebuild: replaying {} partition(s) from the earliest offsets", remaining.size());
  PC_CHECK_OK((*consumer)->Start());
  {
    std::unique_lock lock(mu);
    done.wait(lock, [&] { return remaining.empty(); });
  }
  (*consumer)->Stop(absl::Seconds(10));
  spdlog::info("rebuild: done, {} events handled ({} applied, {} duplicates, {} stale, {} of "
               "unknown types)",
               handled, projector.applied(), projector.duplicates(), projector.stale(),
               projector.unknown_types());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetFlag(&FLAGS_grpc_port, 50053);
  absl::SetFlag(&FLAGS_admin_port, 51053);
  pc::runtime::Init(argc, argv, "notification",
                    {pc::runtime::NonEmptyFlag(FLAGS_database_url),
                     pc::runtime::NonEmptyFlag(FLAGS_kafka_brokers),
                     pc::runtime::NonEmptyFlag(FLAGS_jwt_keys_dir),
                     pc::runtime::NonEmptyFlag(FLAGS_consumer_group),
                     pc::runtime::CheckFlag<int64_t>(FLAGS_watch_buffer,
                                                     [](const int64_t& n) -> std::string {
                                                       return n >= 1 ? "" : "must be at least 1";
                                                     }),
                     pc::runtime::PositiveDurationFlag(FLAGS_watch_poll_interval),
                     pc::runtime::PositiveDurationFlag(FLAGS_feed_retention),
                     pc::runtime::CheckFlag<int32_t>(FLAGS_consumer_batch,
                                                     [](const int32_t& n) -> std::string {
                                                       return n >= 1 && n <= 10000 ? "" : "must be 1–10000";
                                                     })});
  const std::string cloud = absl::GetFlag(FLAGS_cloud);
  const std::string brokers = absl::GetFlag(FLAGS_kafka_brokers);

  auto db = pc::storage::Open(absl::GetFlag(FLAGS_database_url));
  PC_CHECK_OK(db.status());
  PC_CHECK_OK(pc::notification::NotificationStore::Migrate(**db));
  if (absl::GetFlag(FLAGS_migrate_only)) {
    spdlog::info("notification: migrations applied");
    return 0;
  }
  pc::notification::NotificationStore store(**db);
  pc::notification::FeedSignal signal;
  auto& registry = pc::runtime::Registry::Default();
  pc::pipeline::ConsumerCounters counters(registry, absl::GetFlag(FLAGS_consumer_group));
  pc::notification::Projector projector(
      {.cloud = cloud,
       .consumer_group = absl::GetFlag(FLAGS_consumer_group),
       .on_outcome = [&counters](pc::events::Outcome outcome,
                                 uint64_t n) { counters.Count(outcome, static_cast<double>(n)); }},
      store, [&signal] { signal.Notify(); });
  // Kafka credentials: bad files end the process now; so does a broker refusing them.
  auto kafka_security = pc::kafka::SecurityFromFlags();
  PC_CHECK_OK(kafka_security.status());
  PC_CHECK_OK(pc::kafka::VerifyConnectionAtStart(brokers, *kafka_security));
  auto publisher = pc::kafka::KafkaPublisher::Create(
      {.brokers = brokers, .security = *kafka_security, .client_id = "notification-" + cloud});
  PC_CHECK_OK(publisher.status());
  if (absl::GetFlag(FLAGS_rebuild)) {
    const int rc = Rebuild(store, projector, **publisher, brokers, *kafka_security, cloud);
    (*publisher)->Close(absl::Seconds(10));
    return rc;
  }

  auto verifier = pc::runtime::LoadVerifierFromFlags();
  PC_CHECK_OK(verifier.status());

  const pc::Clock& clock = pc::SystemClock::Get();
  pc::notification::NotificationDomain domain(
      {.cloud = cloud,
       .watch_buffer = absl::GetFlag(FLAGS_watch_buffer),
       .poll_interval = absl::GetFlag(FLAGS_watch_poll_interval)},
      store, signal);
  pc::notification::NotificationGrpcService service(domain, *verifier, clock);

  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers,
       .security = *kafka_security,
       .group_id = absl::GetFlag(FLAGS_consumer_group),
       .topics = {pc::kafka::InvitationTopic(cloud), pc::kafka::RelationshipTopic(cloud)},
       .dead_letter_topic = pc::kafka::DeadLetterTopic(cloud),
       .membership = pc::kafka::GroupMembershipFromFlags(),
       .max_batch = absl::GetFlag(FLAGS_consumer_batch)},
      [&](const pc::kafka::ConsumedMessage& m) {
        absl::Status s = projector.ApplyBytes(m.payload);
        if (s.ok()) spdlog::debug("handled {}[{}]@{}", m.topic, m.partition, m.offset);
        return s;
      },
      publisher->get(), counters.Hooks(),
      // Everything already fetched, up to --consumer_batch, in one transaction.
      [&](const std::vector<pc::kafka::ConsumedMessage>& batch) {
        std::vector<std::string> payloads;
        payloads.reserve(batch.size());
        for (const auto& m : batch) payloads.push_back(m.payload);
        return projector.ApplyBatch(payloads);
      });
  PC_CHECK_OK(consumer.status());
  pc::pipeline::ConsumerMonitor monitor(**consumer, registry, clock);
  pc::pipeline::CaughtUp caught_up({.consumer = &monitor});

  pc::runtime::ServerOptions options = pc::runtime::ServerOptions::FromFlags();
  // Watch streams end first (clients see UNAVAILABLE and resume on another replica).
  options.on_not_serving = [&signal] { signal.Shutdown(); };
  options.ready_check = [&monitor] { return monitor.Ready(); };
  options.admin_pages["/caughtup"] = [&caught_up] { return caught_up.Page(); };
  pc::runtime::Server server(options);
  server.AddService(&service);
  server.OnStop("database", [&db] { db->reset(); });
  server.OnStop("kafka producer", [&publisher] { (*publisher)->Close(absl::Seconds(10)); });
  server.OnStop("event consumer", [&consumer] { (*consumer)->Stop(absl::Seconds(10)); });
  server.OnStop("consumer monitor", [&monitor] { monitor.Stop(); });
  const pc::pipeline::RetentionFlags retention = pc::pipeline::RetentionFlagsFromFlags();
  pc::pipeline::RetentionSweeper pruner(
      {pc::pipeline::InboxRule(**db, retention.inbox),
       {.table = "feed_events",
        .keep = absl::GetFlag(FLAGS_feed_retention),
        .prune = [&store](absl::Time cutoff) { return store.PruneFeed(cutoff); }}},
      registry, clock, retention.interval);
  server.OnStop("retention", [&pruner] { pruner.Stop(); });
  PC_CHECK_OK((*consumer)->Start());
  monitor.Start();
  pruner.Start();
  PC_CHECK_OK(server.Start());
  spdlog::info("notification service ({}) serving gRPC on :{}, admin on :{}", cloud,
               server.grpc_port(), server.admin_port());
  server.Wait();
  return 0;
}
