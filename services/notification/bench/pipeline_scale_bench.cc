// `make bench`: the real pipeline at scale. One pc-relationship and one pc-notification process
// (SQLite, the embedded default; fresh consumer groups) on the bench broker; N InvitationAccepted
// events (as the invitation service publishes them: one partner with N customers, another
// with 100) go onto the invitation topic; then
//   seeding   from the first publish until both services' /caughtup answer 200 (relationship:
//             no lag, outbox empty; notification: no lag on either topic): every event has
//             become a relationship, a RelationshipEstablished on the relationship topic and
//             a row of the partner's Customers page. P12.pipeline = that rate ÷ a raw consume
//             of the same invitation topic (goal ≥ 0.5, as P8);
//   pages     GetCustomersPage over gRPC on the real binary, first page, the big partner ÷ the
//             small one (P12.grpc.first, goal ≤ 2; pc::testing::MeasurePageScale);
//   memory    RSS of each process and the size of each database and of the broker's data
//             directory at that point (M.*, for information).
// N = 100 000 (20 000 with --quick / QUICK=1).
//
//   build/bench/pipeline_scale_bench [--quick]
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/events/v1/events.pb.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/ids.h"
#include "pc/kafka/admin.h"
#include "pc/testing/bench_kafka.h"
#include "pc/testing/bench_pages.h"
#include "pc/testing/bench_report.h"
#include "pc/testing/http_get.h"
#include "pc/testing/infra.h"
#include "pc/testing/subprocess.h"
#include "spdlog/spdlog.h"

namespace {

namespace ev = partnercenter::events::v1;
namespace v1 = partnercenter::notification::v1;
using Clock = std::chrono::steady_clock;

constexpr char kCloud[] = "global";
constexpr int kSmall = 100;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "pipeline_scale_bench: %s\n", why.c_str());
  std::exit(1);
}

// A service process and the ports it serves on (from its "serving gRPC on port …" line).
struct Service {
  std::unique_ptr<pc::testing::Subprocess> process;
  int grpc_port = 0;
  int admin_port = 0;
};

Service StartService(const std::string& binary, const std::string& name,
                     const std::filesystem::path& dir, const std::string& brokers,
                     std::vector<std::string> extra) {
  std::vector<std::string> argv = {
      binary, absl::StrCat("--cloud=", kCloud), "--grpc_port=0", "--admin_port=0",
      "--log_format=text", "--kafka_brokers=" + brokers,
      "--jwt_keys_dir=" + (dir / "jwt").string(),
      "--database_url=sqlite://" + (dir / (name + ".db")).string(),
      // Groups are prefixed with the service name (the broker's ACLs allow no other).
      "--consumer_group=" + name + "." + pc::testing::UniqueName("pipeline-bench"),
      "--drain_delay=0s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Service s;
  s.process = std::make_unique<pc::testing::Subprocess>(
      argv, pc::testing::KafkaSecurityEnv(name), (dir / (name + ".log")).string());
  auto line = s.process->WaitForLine(
      [](const std::string& l) { return absl::StrContains(l, "serving gRPC on port"); },
      absl::Seconds(60));
  if (!line.ok()) Die(name + " did not start: " + line.status().ToString());
  std::smatch m;
  if (!std::regex_search(*line, m, std::regex("gRPC on port (\\d+).*admin HTTP on port (\\d+)"))) {
    Die("no ports in: " + *line);
  }
  s.grpc_port = std::stoi(m[1].str());
  s.admin_port = std::stoi(m[2].str());
  return s;
}

// VmRSS of a process, in MB.
double RssMb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9') digits += c;
      }
      if (absl::SimpleAtoi(digits, &kb)) return kb / 1024.0;
    }
  }
  return 0;
}

// Disk space used under `path` (a file or a directory; allocated blocks, so the broker's
// preallocated sparse index files count for what they hold), in MB.
double SizeMb(const std::filesystem::path& path) {
  auto used = [](const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<double>(st.st_blocks) * 512 : 0.0;
  };
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return used(path) / 1e6;
  double total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) total += used(entry.path());
  }
  return total / 1e6;
}

// A database with its WAL, in MB.
double DatabaseMb(const std::filesystem::path& db) {
  double mb = SizeMb(db);
  const std::filesystem::path wal = db.string() + "-wal";
  if (std::filesystem::exists(wal)) mb += SizeMb(wal);
  return mb;
}

void Report(const pc::testing::BenchFigure& f) {
  if (absl::Status s = pc::testing::AppendBenchFigure(f); !s.ok()) Die(s.ToString());
}

int Main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int n = pc::testing::BenchQuick(argc, argv) ? 20000 : 100000;
  const std::string brokers = pc::testing::KafkaBrokers();
  const auto dir = std::filesystem::temp_directory_path() / pc::testing::UniqueName("pipeline-bench");
  std::filesystem::create_directories(dir);
  if (!pc::auth::GenerateDevKeyPair((dir / "jwt").string(), "k1").ok()) Die("no JWT keys");
  auto minter = pc::auth::Minter::FromDirectory((dir / "jwt").string(), "k1", "partnercenter-dev",
                                                "partnercenter");
  if (!minter.ok()) Die(minter.status().ToString());
  if (absl::Status s = pc::kafka::CreateTopics(brokers, pc::testing::KafkaSecurity(),
                                               pc::kafka::CloudTopics(kCloud), 3, 1);
      !s.ok()) {
    Die(s.ToString());
  }
  Service relationship = StartService(PC_RELATIONSHIP_BINARY, "relationship", dir, brokers,
                                      {"--invitation_address="});
  Service notification = StartService(PC_NOTIFICATION_BINARY, "notification", dir, brokers, {});

  const std::string big = "p-big-" + pc::NewUuid().substr(0, 6);
  const std::string small = "p-small-" + pc::NewUuid().substr(0, 6);
  std::vector<ev::EventEnvelope> events;
  events.reserve(n + kSmall);
  auto accepted = [](const std::string& partner, int i) {
    return pc::testing::BenchAcceptance(kCloud, partner, absl::StrCat(partner, "-c", i), i);
  };
  for (int i = 0; i < kSmall; ++i) events.push_back(accepted(small, i));
  for (int i = 0; i < n; ++i) events.push_back(accepted(big, i));
  std::printf("pipeline: %zu InvitationAccepted → pc-relationship → pc-notification (SQLite)\n",
              events.size());
  std::fflush(stdout);

  const Clock::time_point t0 = Clock::now();
  if (absl::Status s = pc::testing::PublishAll(brokers, pc::kafka::InvitationTopic(kCloud), events);
      !s.ok()) {
    Die(s.ToString());
  }
  const double published_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Fresh groups read the topic from its start: earlier runs' events (the same broker) count.
  auto on_topic = pc::kafka::TopicMessageCount(brokers, pc::testing::KafkaSecurity(),
                                               pc::kafka::InvitationTopic(kCloud));
  if (!on_topic.ok()) Die(on_topic.status().ToString());
  const int64_t total = *on_topic;
  std::vector<double> caught_up_s;
  for (const Service* s : {&relationship, &notification}) {
    if (absl::Status c = pc::testing::WaitForHttp200(s->admin_port, "/caughtup", absl::Minutes(30));
        !c.ok()) {
      Die(c.ToString());
    }
    caught_up_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double seeded_s = caught_up_s.back();
  std::printf("  caught up: relationship after %.1f s, notification after %.1f s\n",
              caught_up_s[0], caught_up_s[1]);
  const double pipeline_rate = total / seeded_s;
  auto raw = pc::testing::ConsumeRate(
      brokers, pc::kafka::InvitationTopic(kCloud), static_cast<int>(total),
      [](const pc::kafka::ConsumedMessage&) { return absl::OkStatus(); });
  if (!raw.ok()) Die(raw.status().ToString());
  std::printf("  published in %.1f s; both services caught up after %.1f s: %.0f events/s end to "
              "end (raw consume of the topic %.0f/s, ratio %.3f)\n",
              published_s, seeded_s, pipeline_rate, *raw, pipeline_rate / *raw);

  const double rss_relationship = RssMb(relationship.process->pid());
  const double rss_notification = RssMb(notification.process->pid());
  const double db_relationship = DatabaseMb(dir / "relationship.db");
  const double db_notification = DatabaseMb(dir / "notification.db");
  const char* kafka_dir = std::getenv("PC_KAFKA_DIR");
  const double broker = kafka_dir != nullptr ? SizeMb(std::filesystem::path(kafka_dir) / "data") : 0;
  std::printf("  RSS relationship %.0f MB, notification %.0f MB; databases %.0f / %.0f MB; "
              "broker data %.0f MB\n",
              rss_relationship, rss_notification, db_relationship, db_notification, broker);

  // The Customers page over gRPC, big partner ÷ small partner.
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", notification.grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::NotificationService::NewStub(channel);
  auto pages = [&](const std::string& partner) -> pc::testing::PageCall {
    const std::string token =
        *minter->Mint({.subject = "agent@" + partner, .tenant_id = partner, .cloud = kCloud,
                       .roles = {"partner_agent"}},
                      absl::Hours(1), absl::Now());
    return [&stub, token](int size, const std::string& page_token)
               -> absl::StatusOr<pc::testing::PageResult> {
      grpc::ClientContext ctx;
      pc::auth::AttachBearerToken(&ctx, token);
      v1::GetCustomersPageRequest req;
      req.set_page_size(size);
      req.set_page_token(page_token);
      v1::CustomersPage page;
      grpc::Status s = stub->GetCustomersPage(&ctx, req, &page);
      if (!s.ok()) return absl::InternalError("GetCustomersPage: " + s.error_message());
      return pc::testing::PageResult{page.customers_size(), page.next_page_token()};
    };
  };
  auto big_rows = pc::testing::CountRows(pages(big));
  if (!big_rows.ok() || *big_rows != n) Die("the big partner's page does not hold every customer");
  auto measured = pc::testing::MeasurePageScale(pages(small), pages(big), 300, 5, false);
  if (!measured.ok()) Die(measured.status().ToString());
  const pc::testing::RatioSummary r = pc::testing::Summarize(measured->runs.ratios);
  std::printf("  GetCustomersPage over gRPC, first page of %d: p99 %.2f vs %.2f ms, ratio %.2f "
              "[%.2f-%.2f]\n",
              measured->page_size, pc::testing::Summarize(measured->runs.b).median,
              pc::testing::Summarize(measured->runs.a).median, r.median, r.min, r.max);

  const std::string note = absl::StrCat(total, " InvitationAccepted on the topic, 3 partitions, "
                                        "SQLite, one replica each");
  Report({.id = "P12.pipeline",
          .title = "Seeding through the real pipeline (topic → relationship → page) ÷ raw consume",
          .value = pipeline_rate, .baseline = *raw, .unit = "events/s",
          .ratios = {pipeline_rate / *raw}, .goal = ">=0.5", .note = note});
  Report({.id = "P12.grpc.first",
          .title = absl::StrCat("GetCustomersPage over gRPC, first page, ", n, " ÷ ", kSmall,
                                " customers (p99)"),
          .value = pc::testing::Summarize(measured->runs.b).median,
          .baseline = pc::testing::Summarize(measured->runs.a).median, .unit = "ms (p99)",
          .ratios = measured->runs.ratios, .goal = "<=2",
          .note = "pc-notification binary, plaintext loopback, 300 calls per chunk"});
  for (const auto& [id, title, value] : std::vector<std::tuple<std::string, std::string, double>>{
           {"M.rss.relationship", "RSS of pc-relationship after seeding", rss_relationship},
           {"M.rss.notification", "RSS of pc-notification after seeding", rss_notification},
           {"M.db.relationship", "relationship.db (+WAL) after seeding", db_relationship},
           {"M.db.notification", "notification.db (+WAL) after seeding", db_notification},
           {"M.broker", "Broker data directory after the whole bench run so far", broker}}) {
    Report({.id = id, .title = title, .value = value, .unit = "MB", .note = note});
  }
  relationship.process->Kill(SIGTERM);
  notification.process->Kill(SIGTERM);
  relationship.process->Wait();
  notification.process->Wait();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
