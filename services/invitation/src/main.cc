// pc-invitation: flags → wire the store, the outbox relay, the domain and the gRPC service →
// serve until SIGTERM, then shut down in order (runtime::Server).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "domain.h"
#include "eligibility.h"
#include "grpcpp/create_channel.h"
#include "grpc_service.h"
#include "pc/kafka/publisher.h"
#include "pc/kafka/security_flags.h"
#include "pc/auth/token_file.h"
#include "pc/runtime/flags.h"
#include "pc/runtime/identity.h"
#include "pc/runtime/init.h"
#include "pc/runtime/metrics.h"
#include "pc/pipeline/caught_up.h"
#include "pc/pipeline/outbox_metrics.h"
#include "pc/pipeline/retention.h"
#include "pc/runtime/server.h"
#include "pc/runtime/tls.h"
#include "pc/storage/database.h"
#include "pc/storage/outbox.h"
#include "spdlog/spdlog.h"
#include "sql_repository.h"

ABSL_FLAG(std::string, database_url, "sqlite://.local/data/invitation.db",
          "sqlite://<path> (embedded default) or postgresql://user@host:port/db");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092", "Kafka bootstrap servers");
ABSL_FLAG(std::string, portal_base_url, "http://localhost:8080",
          "Base URL of this cloud's portal: links are <base>/invitations/accept?token=…");
ABSL_FLAG(std::string, relationship_address, "",
          "host:port of the relationship service, asked before an invitation to a named "
          "customer tenant is drafted (eligibility); empty skips the check");
ABSL_FLAG(absl::Duration, relationship_deadline, absl::Seconds(2),
          "Deadline of each eligibility call to the relationship service");
ABSL_FLAG(bool, migrate_only, false, "Apply the schema migrations, then exit (Kubernetes Job)");
ABSL_FLAG(int32_t, invitation_validity_days, 30, "Default link validity in days (1–90)");
ABSL_FLAG(absl::Duration, expiry_sweep_interval, absl::Minutes(1),
          "How often PENDING invitations past their expiry are moved to EXPIRED");

namespace {

// Runs `fn` every `interval` on its own thread until Stop().
class Ticker {
 public:
  Ticker(absl::Duration interval, std::function<void()> fn)
      : thread_([this, interval, fn = std::move(fn)] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            lock.unlock();
            fn();
            lock.lock();
            cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return stop_; });
          }
        }) {}
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ~Ticker() { Stop(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetFlag(&FLAGS_grpc_port, 50051);
  absl::SetFlag(&FLAGS_admin_port, 51051);
  pc::runtime::Init(
      argc, argv, "invitation",
      {pc::runtime::NonEmptyFlag(FLAGS_database_url), pc::runtime::NonEmptyFlag(FLAGS_kafka_brokers),
       pc::runtime::NonEmptyFlag(FLAGS_jwt_keys_dir),
       pc::runtime::CheckFlag<std::string>(
           FLAGS_portal_base_url,
           [](const std::string& url) -> std::string {
             return (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) &&
                            url.back() != '/'
                        ? ""
                        : "must be an http(s) URL without a trailing '/'";
           }),
       pc::runtime::CheckFlag<int32_t>(FLAGS_invitation_validity_days,
                                       [](const int32_t& d) -> std::string {
                                         return d >= 1 && d <= 90 ? "" : "must be 1–90";
                                       }),
       pc::runtime::PositiveDurationFlag(FLAGS_expiry_sweep_interval),
       pc::runtime::PositiveDurationFlag(FLAGS_relationship_deadline)});
  const std::string cloud = absl::GetFlag(FLAGS_cloud);

  auto db = pc::storage::Open(absl::GetFlag(FLAGS_database_url));
  PC_CHECK_OK(db.status());
  PC_CHECK_OK(pc::invitation::SqlRepository::Migrate(**db));
  if (absl::GetFlag(FLAGS_migrate_only)) {
    spdlog::info("invitation: migrations applied");
    return 0;
  }

  auto verifier = pc::runtime::LoadVerifierFromFlags();
  PC_CHECK_OK(verifier.status());

  // Kafka credentials: bad files end the process now; so does a broker refusing them.
  auto kafka_security = pc::kafka::SecurityFromFlags();
  PC_CHECK_OK(kafka_security.status());
  PC_CHECK_OK(pc::kafka::VerifyConnectionAtStart(absl::GetFlag(FLAGS_kafka_brokers), *kafka_security));
  auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = absl::GetFlag(FLAGS_kafka_brokers),
                                                      .security = *kafka_security,
                                                      .client_id = "invitation-" + cloud});
  PC_CHECK_OK(publisher.status());
  pc::storage::OutboxRelay relay(**db, **publisher);

  std::unique_ptr<pc::auth::TokenFile> service_token;
  std::unique_ptr<pc::invitation::GrpcEligibilityChecker> eligibility;
  if (const std::string address = absl::GetFlag(FLAGS_relationship_address); !address.empty()) {
    if (!absl::GetFlag(FLAGS_service_token_file).empty()) {
      service_token = std::make_unique<pc::auth::TokenFile>(absl::GetFlag(FLAGS_service_token_file));
      PC_CHECK_OK(service_token->Get().status());
    }
    eligibility = std::make_unique<pc::invitation::GrpcEligibilityChecker>(
        grpc::CreateChannel(address, pc::runtime::ChannelCredentialsFromFlags()),
        absl::GetFlag(FLAGS_relationship_deadline), 3,
        service_token ? pc::invitation::GrpcEligibilityChecker::TokenSource(
                            [t = service_token.get()] { return t->Get(); })
                      : nullptr);
  }

  const pc::Clock& clock = pc::SystemClock::Get();
  pc::invitation::SqlRepository repository(**db);
  pc::invitation::InvitationDomain domain(
      {.cloud = cloud,
       .portal_base_url = absl::GetFlag(FLAGS_portal_base_url),
       .default_validity = absl::Hours(24) * absl::GetFlag(FLAGS_invitation_validity_days)},
      repository, clock, eligibility.get(), [&relay] { relay.Notify(); });
  pc::invitation::InvitationGrpcService service(domain, *verifier, clock);

  auto& registry = pc::runtime::Registry::Default();
  pc::pipeline::RegisterOutboxMetrics(registry, relay, **db, clock);
  pc::pipeline::CaughtUp caught_up({.outbox = db->get()});
  auto& expired = registry.AddCounter("pc_invitations_expired_total",
                                      "Invitations moved to EXPIRED by the sweeper.");

  pc::runtime::ServerOptions server_options = pc::runtime::ServerOptions::FromFlags();
  server_options.admin_pages["/caughtup"] = [&caught_up] { return caught_up.Page(); };
  pc::runtime::Server server(std::move(server_options));
  server.AddService(&service);
  // Stop actions run newest first: sweeper, relay, producer, store.
  server.OnStop("database", [&db] { db->reset(); });
  server.OnStop("kafka producer", [&publisher] { (*publisher)->Close(absl::Seconds(10)); });
  server.OnStop("outbox relay", [&relay] {
    if (absl::Status s = relay.Stop(absl::Seconds(10)); !s.ok()) {
      spdlog::warn("outbox relay stopped with undelivered rows: {}", s.ToString());
    }
  });
  relay.Start();
  Ticker sweeper(absl::GetFlag(FLAGS_expiry_sweep_interval), [&] {
    absl::StatusOr<int> n = domain.ExpireDue();
    if (!n.ok()) {
      spdlog::warn("expiry sweep failed: {}", n.status().ToString());
    } else if (*n > 0) {
      expired.WithLabels().Increment(*n);
      spdlog::info("expired {} invitation(s)", *n);
    }
  });
  server.OnStop("expiry sweeper", [&sweeper] { sweeper.Stop(); });
  const pc::pipeline::RetentionFlags retention = pc::pipeline::RetentionFlagsFromFlags();
  pc::pipeline::RetentionSweeper pruner(
      {pc::pipeline::OutboxRule(**db, retention.outbox),
       {.table = "invitation_requests",
        .keep = retention.idempotency_window,
        .prune = pc::pipeline::DeleteOlderThan(**db, "invitation_requests", "created_at")}},
      registry, clock, retention.interval);
  pruner.Start();
  server.OnStop("retention", [&pruner] { pruner.Stop(); });

  PC_CHECK_OK(server.Start());
  spdlog::info("invitation service ({}) serving gRPC on :{}, admin on :{}", cloud,
               server.grpc_port(), server.admin_port());
  server.Wait();
  return 0;
}
