// pc-relationship: flags → the store, the outbox relay, the access cache (tailing the
// relationship topic), the invitation-events consumer, the domain and the gRPC service →
// serve until SIGTERM, then shut down in order (runtime::Server).
#include "absl/flags/flag.h"
#include "access_cache.h"
#include "access_freshness.h"
#include "domain.h"
#include "grpc_service.h"
#include "grpcpp/create_channel.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
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
#include "pc/pipeline/outbox_metrics.h"
#include "pc/pipeline/retention.h"
#include "pc/runtime/server.h"
#include "pc/runtime/tls.h"
#include "pc/storage/database.h"
#include "pc/storage/outbox.h"
#include "spdlog/spdlog.h"
#include "store.h"

ABSL_FLAG(std::string, database_url, "sqlite://.local/data/relationship.db",
          "sqlite://<path> (embedded default) or postgresql://user@host:port/db");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092", "Kafka bootstrap servers");
ABSL_FLAG(std::string, invitation_address, "127.0.0.1:50051",
          "host:port of the invitation service (RequestAdminRestore); empty disables restore");
ABSL_FLAG(absl::Duration, invitation_deadline, absl::Seconds(5),
          "Deadline of each call to the invitation service");
ABSL_FLAG(int32_t, consumer_batch, 500,
          "Invitation events already fetched that are applied in one transaction (1 = one "
          "event per transaction)");
ABSL_FLAG(std::string, consumer_group, "relationship",
          "Kafka consumer group (and inbox name) for invitation events");
ABSL_FLAG(absl::Duration, restore_wait, absl::Minutes(10),
          "How long an accepted ADMIN_RESTORE for a relationship not known yet is retried "
          "before it is dead-lettered");
ABSL_FLAG(absl::Duration, access_max_staleness, absl::Seconds(2),
          "CheckAdminAccess answers from memory only while the cache is proven current "
          "within this bound; otherwise it reads the database (and denies with UNAVAILABLE "
          "if that fails too)");
ABSL_FLAG(absl::Duration, access_probe_interval, absl::Milliseconds(200),
          "How often the cache's currency is proven (outbox horizon + topic catch-up)");
ABSL_FLAG(int64_t, access_cache_size, 100000,
          "Most (partner, customer) pairs the CheckAdminAccess cache keeps, negative "
          "answers included (least recently used dropped first)");
ABSL_FLAG(bool, migrate_only, false, "Apply the schema migrations, then exit (Kubernetes Job)");

int main(int argc, char** argv) {
  absl::SetFlag(&FLAGS_grpc_port, 50052);
  absl::SetFlag(&FLAGS_admin_port, 51052);
  pc::runtime::Init(argc, argv, "relationship",
                    {pc::runtime::NonEmptyFlag(FLAGS_database_url),
                     pc::runtime::NonEmptyFlag(FLAGS_kafka_brokers),
                     pc::runtime::NonEmptyFlag(FLAGS_jwt_keys_dir),
                     pc::runtime::NonEmptyFlag(FLAGS_consumer_group),
                     pc::runtime::PositiveDurationFlag(FLAGS_invitation_deadline),
                     pc::runtime::PositiveDurationFlag(FLAGS_restore_wait),
                     pc::runtime::PositiveDurationFlag(FLAGS_access_max_staleness),
                     pc::runtime::PositiveDurationFlag(FLAGS_access_probe_interval),
                     pc::runtime::CheckFlag<int32_t>(FLAGS_consumer_batch,
                                                     [](const int32_t& n) -> std::string {
                                                       return n >= 1 && n <= 10000 ? "" : "must be 1–10000";
                                                     })});
  if (absl::GetFlag(FLAGS_access_cache_size) < 1) {
    spdlog::critical("--access_cache_size must be at least 1");
    return 2;
  }
  const std::string cloud = absl::GetFlag(FLAGS_cloud);

  auto db = pc::storage::Open(absl::GetFlag(FLAGS_database_url));
  PC_CHECK_OK(db.status());
  PC_CHECK_OK(pc::relationship::RelationshipStore::Migrate(**db));
  if (absl::GetFlag(FLAGS_migrate_only)) {
    spdlog::info("relationship: migrations applied");
    return 0;
  }

  auto verifier = pc::runtime::LoadVerifierFromFlags();
  PC_CHECK_OK(verifier.status());

  const std::string brokers = absl::GetFlag(FLAGS_kafka_brokers);
  // Kafka credentials: bad files end the process now; so does a broker refusing them.
  auto kafka_security = pc::kafka::SecurityFromFlags();
  PC_CHECK_OK(kafka_security.status());
  PC_CHECK_OK(pc::kafka::VerifyConnectionAtStart(brokers, *kafka_security));
  auto publisher = pc::kafka::KafkaPublisher::Create(
      {.brokers = brokers, .security = *kafka_security, .client_id = "relationship-" + cloud});
  PC_CHECK_OK(publisher.status());
  pc::storage::OutboxRelay relay(**db, **publisher);

  std::unique_ptr<pc::relationship::GrpcInvitationClient> invitations;
  if (const std::string address = absl::GetFlag(FLAGS_invitation_address); !address.empty()) {
    invitations = std::make_unique<pc::relationship::GrpcInvitationClient>(
        grpc::CreateChannel(address, pc::runtime::ChannelCredentialsFromFlags()),
        absl::GetFlag(FLAGS_invitation_deadline));
  }

  const pc::Clock& clock = pc::SystemClock::Get();
  pc::relationship::RelationshipStore store(**db);
  pc::relationship::RelationshipDomain* domain_ptr = nullptr;
  // The access cache's staleness bound: proven by the outbox horizon and the topic tail
  // (TopicTailer::CatchUp), both of which exist only once `tailer` is created below.
  std::unique_ptr<pc::kafka::TopicTailer> tailer;
  pc::relationship::AccessFreshness freshness(
      {.max_staleness = absl::GetFlag(FLAGS_access_max_staleness),
       .probe_interval = absl::GetFlag(FLAGS_access_probe_interval)},
      clock,
      [&db, &clock]() -> absl::StatusOr<absl::Time> {
        const absl::Time now = clock.Now();
        PC_ASSIGN_OR_RETURN(std::optional<absl::Time> oldest,
                            pc::storage::Outbox::OldestUnsent(**db));
        return oldest.has_value() ? std::min(now, *oldest) : now;
      },
      [&tailer](absl::Duration timeout) { return tailer->CatchUp(timeout); });
  pc::relationship::AccessCache cache(
      [&domain_ptr](const std::string& p, const std::string& c) {
        return domain_ptr->LoadAccess(p, c);
      },
      {.capacity = static_cast<size_t>(absl::GetFlag(FLAGS_access_cache_size)),
       .fresh = [&freshness] { return freshness.Fresh(); }});
  pc::relationship::RelationshipDomain domain(
      {.cloud = cloud,
       .consumer_group = absl::GetFlag(FLAGS_consumer_group),
       .restore_wait = absl::GetFlag(FLAGS_restore_wait)}, store, clock,
      invitations.get(), cache, [&relay] { relay.Notify(); });
  domain_ptr = &domain;
  pc::relationship::RelationshipGrpcService service(domain, *verifier, clock);

  auto& registry = pc::runtime::Registry::Default();
  pc::pipeline::ConsumerCounters counters(registry, absl::GetFlag(FLAGS_consumer_group));
  auto& cache_events = registry.AddCounter(
      "pc_relationship_access_cache_events_total",
      "Relationship events applied to this replica's admin-access cache.");
  registry.AddGauge("pc_relationship_access_cache_entries", "Pairs in the admin-access cache.")
      .WithLabels()
      .SetCallback([&cache] { return static_cast<double>(cache.size()); });
  registry.AddGauge("pc_relationship_access_cache_misses", "Admin-access cache misses (loads).")
      .WithLabels()
      .SetCallback([&cache] { return static_cast<double>(cache.misses()); });
  registry.AddGauge("pc_relationship_access_cache_read_throughs",
                    "CheckAdminAccess answers read from the database because the cache was "
                    "not proven current.")
      .WithLabels()
      .SetCallback([&cache] { return static_cast<double>(cache.read_throughs()); });
  registry.AddGauge("pc_relationship_access_cache_unavailable",
                    "CheckAdminAccess answers denied with UNAVAILABLE (no proven cache, no "
                    "database).")
      .WithLabels()
      .SetCallback([&cache] { return static_cast<double>(cache.unavailable()); });
  registry.AddGauge("pc_relationship_access_cache_evictions",
                    "Pairs dropped from the admin-access cache to stay within its size.")
      .WithLabels()
      .SetCallback([&cache] { return static_cast<double>(cache.evictions()); });
  registry.AddGauge("pc_relationship_access_cache_staleness_seconds",
                    "How far behind the admin-access cache may be: now minus the newest "
                    "time it was proven current (+Inf before the first proof).")
      .WithLabels()
      .SetCallback([&freshness] { return absl::ToDoubleSeconds(freshness.Staleness()); });
  auto& undecodable = registry.AddCounter(
      "pc_relationship_access_tail_undecodable_total",
      "Records on the relationship topic the access cache could not decode (skipped).");
  pc::pipeline::RegisterOutboxMetrics(registry, relay, **db, clock);

  // Every replica follows the relationship topic, so a change committed by another replica
  // reaches this replica's CheckAdminAccess answers.
  auto created_tailer = pc::kafka::TopicTailer::Create(
      {.brokers = brokers, .topic = pc::kafka::RelationshipTopic(cloud), .security = *kafka_security},
      [&](const pc::kafka::ConsumedMessage& message) {
        absl::StatusOr<pc::events::EventEnvelope> e = pc::events::Decode(message.payload);
        if (!e.ok()) {
          undecodable.WithLabels().Increment();
          spdlog::error("access cache: skipped an undecodable record at {}[{}]@{}: {}",
                        message.topic, message.partition, message.offset,
                        e.status().ToString());
          return;
        }
        if (cache.ApplyEvent(*e)) {
          cache_events.WithLabels().Increment();
          spdlog::debug("access cache: {} {} v{} (partition {})", e->type(), e->aggregate_id(),
                        e->aggregate_version(), message.partition);
        }
      });
  PC_CHECK_OK(created_tailer.status());
  tailer = *std::move(created_tailer);

  // After an event's effect committed: counted, and one log line per acceptance (operators
  // and the tests follow an invitation's effect by its event id).
  auto handled = [&counters](const pc::events::EventEnvelope& e, pc::events::Outcome outcome) {
    counters.Count(outcome);
    if (e.payload_case() == pc::events::EventEnvelope::kInvitationAccepted) {
      spdlog::info("handled InvitationAccepted {} ({}:{}): {}", e.event_id(), e.partner_id(),
                   e.customer_id(), pc::events::OutcomeName(outcome));
    }
  };
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers,
       .security = *kafka_security,
       .group_id = absl::GetFlag(FLAGS_consumer_group),
       .topics = {pc::kafka::InvitationTopic(cloud)},
       .dead_letter_topic = pc::kafka::DeadLetterTopic(cloud),
       .membership = pc::kafka::GroupMembershipFromFlags(),
       .max_batch = absl::GetFlag(FLAGS_consumer_batch)},
      [&](const pc::kafka::ConsumedMessage& message) -> absl::Status {
        absl::StatusOr<pc::events::EventEnvelope> e = pc::events::Decode(message.payload);
        if (!e.ok()) return e.status();
        pc::events::Outcome outcome;
        PC_RETURN_IF_ERROR(domain.ApplyInvitationEvent(*e, &outcome));
        handled(*e, outcome);
        return absl::OkStatus();
      },
      publisher->get(), counters.Hooks(),
      // Everything already fetched, up to --consumer_batch, in one transaction; any error and
      // the consumer applies the messages one at a time (the handler above).
      [&](const std::vector<pc::kafka::ConsumedMessage>& batch) -> absl::Status {
        std::vector<pc::events::EventEnvelope> events;
        events.reserve(batch.size());
        for (const auto& m : batch) {
          absl::StatusOr<pc::events::EventEnvelope> e = pc::events::Decode(m.payload);
          if (!e.ok()) return e.status();
          events.push_back(*std::move(e));
        }
        std::vector<pc::events::Outcome> outcomes;
        PC_RETURN_IF_ERROR(domain.ApplyInvitationEvents(events, &outcomes));
        for (size_t i = 0; i < events.size(); ++i) handled(events[i], outcomes[i]);
        return absl::OkStatus();
      });
  PC_CHECK_OK(consumer.status());
  pc::pipeline::ConsumerMonitor monitor(**consumer, registry, clock);
  pc::pipeline::CaughtUp caught_up({.consumer = &monitor, .outbox = db->get()});

  pc::runtime::ServerOptions server_options = pc::runtime::ServerOptions::FromFlags();
  // Ready while CheckAdminAccess can give a current answer: from a proven cache, or else
  // from the database.
  server_options.ready_check = [&freshness, &monitor]() -> absl::Status {
    if (!freshness.Fresh() && !freshness.database_reachable()) {
      return absl::UnavailableError(
          "admin-access cache not proven current and the database is unreachable");
    }
    return monitor.Ready();
  };
  server_options.admin_pages["/caughtup"] = [&caught_up] { return caught_up.Page(); };
  pc::runtime::Server server(std::move(server_options));
  server.AddService(&service);
  // Stop actions run newest first: consumer, tailer, relay, producer, store.
  server.OnStop("database", [&db] { db->reset(); });
  server.OnStop("kafka producer", [&publisher] { (*publisher)->Close(absl::Seconds(10)); });
  server.OnStop("outbox relay", [&relay] {
    if (absl::Status s = relay.Stop(absl::Seconds(10)); !s.ok()) {
      spdlog::warn("outbox relay stopped with undelivered rows: {}", s.ToString());
    }
  });
  server.OnStop("access cache freshness", [&freshness] { freshness.Stop(); });
  server.OnStop("access cache tailer", [&tailer] { tailer->Stop(); });
  server.OnStop("invitation consumer", [&consumer] { (*consumer)->Stop(absl::Seconds(10)); });
  server.OnStop("consumer monitor", [&monitor] { monitor.Stop(); });
  const pc::pipeline::RetentionFlags retention = pc::pipeline::RetentionFlagsFromFlags();
  pc::pipeline::RetentionSweeper pruner(
      {pc::pipeline::OutboxRule(**db, retention.outbox),
       pc::pipeline::InboxRule(**db, retention.inbox),
       {.table = "relationship_requests",
        .keep = retention.idempotency_window,
        .prune = pc::pipeline::DeleteOlderThan(**db, "relationship_requests", "created_at")}},
      registry, clock, retention.interval);
  server.OnStop("retention", [&pruner] { pruner.Stop(); });

  relay.Start();
  PC_CHECK_OK(tailer->Start());
  freshness.Start();
  PC_CHECK_OK((*consumer)->Start());
  monitor.Start();
  pruner.Start();
  PC_CHECK_OK(server.Start());
  spdlog::info("relationship service ({}) serving gRPC on :{}, admin on :{}", cloud,
               server.grpc_port(), server.admin_port());
  server.Wait();
  return 0;
}
