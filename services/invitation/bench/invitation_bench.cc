// `make bench`: what CreateInvitation costs over the cheapest possible write of its row (P9).
//
// For each store (SQLite, then PostgreSQL) it measures, in one run and on two fresh databases
// of that store with the same schema and the same durability (SQLite: WAL, synchronous=FULL;
// PostgreSQL: the server's defaults), one transaction per invitation:
//   A  domain+outbox  InvitationDomain::Create over SqlRepository: validation, idempotency
//                     record, one-pending check, email, invitation row and InvitationSent in
//                     the outbox.
//   B  bare insert    one INSERT of the same invitation row (same columns, same protobuf bytes,
//                     read back from the first database) and nothing else, through the same
//                     storage layer at its cheapest: ExecuteDeferred, so on PostgreSQL BEGIN,
//                     INSERT and COMMIT go out in one round trip.
// A and B alternate in chunks (A, B, A, B, …, `pairs` pairs after a warm-up pair), so a busy
// machine slows both alike; the figure is the median of the per-pair ratios A/B, with their
// min–max. It prints creates/s and the ratio against the 0.7 goal; it does not fail on a low
// ratio, only on an error. With PC_BENCH_JSON set it appends one JSON object per store to that
// file (ids P9.sqlite, P9.postgres). PostgreSQL needs PC_TEST_DATABASE_URL (tools/dev/bench.sh
// starts a server and sets it).
//
//   build/bench/invitation_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain.h"
#include "pc/common/clock.h"
#include "pc/common/status_macros.h"
#include "pc/storage/test_database.h"
#include "pc/testing/bench_report.h"
#include "spdlog/spdlog.h"
#include "sql_repository.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
using pc::storage::Database;
using pc::storage::Dialect;
using pc::storage::Row;
using pc::storage::Value;
using Clock = std::chrono::steady_clock;

constexpr double kTarget = 0.7;
constexpr char kRowColumns[] =
    "id, cloud, partner_id, kind, state, hint_key, token_hash, create_time, expire_time, "
    "version, data";
// Exactly the statement SqlRepository::Insert runs.
constexpr char kInsert[] =
    "INSERT INTO invitations (id, cloud, partner_id, kind, state, hint_key, token_hash, "
    "create_time, expire_time, version, data) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

struct StoreResult {
  std::string store;
  double domain_rate = 0;  // creates/s over all measured chunks
  double bare_rate = 0;    // inserts/s over all measured chunks
  double ratio = 0;        // median of the per-pair ratios
  double ratio_min = 0;
  double ratio_max = 0;
  std::vector<double> ratios;  // one per pair
  double domain_cpu_us = 0;  // this thread's CPU per create / per bare insert (diagnostic)
  double bare_cpu_us = 0;
};

// CPU time of the calling thread (the bench is single-threaded; the servers are not counted).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The durability actually in effect, to print next to the numbers.
absl::StatusOr<std::string> Durability(Database& db) {
  std::string out;
  PC_RETURN_IF_ERROR(db.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
    if (db.dialect() == Dialect::kSqlite) {
      PC_ASSIGN_OR_RETURN(Row mode, tx.QueryOne("PRAGMA journal_mode"));
      PC_ASSIGN_OR_RETURN(Row sync, tx.QueryOne("PRAGMA synchronous"));
      PC_ASSIGN_OR_RETURN(std::string journal, mode.GetText(0));
      PC_ASSIGN_OR_RETURN(int64_t level, sync.GetInt64(0));
      out = absl::StrCat("journal_mode=", journal, " synchronous=", level == 2 ? "FULL" : "NOT FULL");
      if (journal != "wal" || level != 2) {
        return absl::FailedPreconditionError(absl::StrCat("unexpected SQLite durability: ", out));
      }
      return absl::OkStatus();
    }
    PC_ASSIGN_OR_RETURN(Row fsync, tx.QueryOne("SHOW fsync"));
    PC_ASSIGN_OR_RETURN(Row commit, tx.QueryOne("SHOW synchronous_commit"));
    PC_ASSIGN_OR_RETURN(std::string f, fsync.GetText(0));
    PC_ASSIGN_OR_RETURN(std::string c, commit.GetText(0));
    out = absl::StrCat("fsync=", f, " synchronous_commit=", c);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> Count(Database& db, const std::string& table) {
  int64_t n = 0;
  PC_RETURN_IF_ERROR(db.InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(Row row, tx.QueryOne(absl::StrCat("SELECT COUNT(*) FROM ", table)));
    PC_ASSIGN_OR_RETURN(n, row.GetInt64(0));
    return absl::OkStatus();
  }));
  return n;
}

absl::StatusOr<StoreResult> RunStore(Dialect dialect, int chunk, int pairs) {
  const std::string store(pc::storage::DialectName(dialect));
  PC_ASSIGN_OR_RETURN(auto domain_store, pc::storage::TestDatabase::Create(dialect));
  PC_ASSIGN_OR_RETURN(auto bare_store, pc::storage::TestDatabase::Create(dialect));
  PC_ASSIGN_OR_RETURN(std::unique_ptr<Database> domain_db, domain_store->Open());
  PC_ASSIGN_OR_RETURN(std::unique_ptr<Database> bare_db, bare_store->Open());
  PC_RETURN_IF_ERROR(SqlRepository::Migrate(*domain_db));
  PC_RETURN_IF_ERROR(SqlRepository::Migrate(*bare_db));
  PC_ASSIGN_OR_RETURN(std::string durability, Durability(*domain_db));
  PC_ASSIGN_OR_RETURN(std::string bare_durability, Durability(*bare_db));
  if (bare_durability != durability) {
    return absl::InternalError(absl::StrCat("durability differs: domain ", durability,
                                            ", bare ", bare_durability));
  }
  std::printf("%s: %s, %d pairs of %d creates / %d bare inserts after a warm-up pair\n",
              store.c_str(), durability.c_str(), pairs, chunk, chunk);
  std::fflush(stdout);

  SqlRepository repository(*domain_db);
  InvitationDomain domain(DomainOptions{}, repository, pc::SystemClock::Get(), nullptr);
  const CallContext call{{.subject = "user-bench", .tenant_id = "partner-bench",
                          .cloud = "global", .roles = {"partner_admin"},
                          .display_name = "Fabrikam Bench"},
                         "corr-bench"};
  v1::CreateInvitationRequest req;
  req.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  req.set_include_admin_permission(true);
  req.set_message("Looking forward to working with you.");

  int next = 0;
  Clock::duration domain_time{}, bare_time{};
  double domain_cpu = 0, bare_cpu = 0;
  std::vector<double> ratios;
  // One pair: `n` creates through the domain (A), then the same rows inserted bare (B).
  auto run_pair = [&](int n, bool measured) -> absl::Status {
    std::vector<std::string> ids;
    ids.reserve(n);
    const Clock::time_point domain_start = Clock::now();
    const double domain_cpu_start = ThreadCpuSeconds();
    for (int i = 0; i < n; ++i, ++next) {
      req.set_request_id(absl::StrCat("bench-", next));
      req.mutable_customer_hint()->set_email_domain(absl::StrCat("customer", next, ".example"));
      PC_ASSIGN_OR_RETURN(v1::CreateInvitationResponse created, domain.Create(call, req));
      ids.push_back(created.invitation().id());
    }
    const Clock::duration domain = Clock::now() - domain_start;
    const double domain_cpu_used = ThreadCpuSeconds() - domain_cpu_start;

    std::vector<std::vector<Value>> rows;
    PC_RETURN_IF_ERROR(domain_db->InReadTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      for (const std::string& id : ids) {
        PC_ASSIGN_OR_RETURN(
            Row row, tx.QueryOne(absl::StrCat("SELECT ", kRowColumns,
                                              " FROM invitations WHERE id = $1"), {id}));
        std::vector<Value> values = row.values();
        PC_ASSIGN_OR_RETURN(std::string data, row.GetBytes("data"));
        values.back() = pc::storage::Bytes{std::move(data)};
        rows.push_back(std::move(values));
      }
      return absl::OkStatus();
    }));

    const Clock::time_point bare_start = Clock::now();
    const double bare_cpu_start = ThreadCpuSeconds();
    for (const std::vector<Value>& values : rows) {
      PC_RETURN_IF_ERROR(bare_db->InTransaction(
          [&](pc::storage::Transaction& tx) { return tx.ExecuteDeferred(kInsert, values); }));
    }
    const Clock::duration bare = Clock::now() - bare_start;
    const double bare_cpu_used = ThreadCpuSeconds() - bare_cpu_start;
    if (measured) {
      domain_time += domain;
      bare_time += bare;
      domain_cpu += domain_cpu_used;
      bare_cpu += bare_cpu_used;
      ratios.push_back((n / Seconds(domain)) / (n / Seconds(bare)));
    }
    return absl::OkStatus();
  };

  PC_RETURN_IF_ERROR(run_pair(chunk, /*measured=*/false));
  for (int pair = 0; pair < pairs; ++pair) {
    PC_RETURN_IF_ERROR(run_pair(chunk, /*measured=*/true));
  }

  // Both sides wrote every row, and every create put exactly one event in the outbox.
  PC_ASSIGN_OR_RETURN(int64_t domain_rows, Count(*domain_db, "invitations"));
  PC_ASSIGN_OR_RETURN(int64_t bare_rows, Count(*bare_db, "invitations"));
  PC_ASSIGN_OR_RETURN(int64_t events, Count(*domain_db, "outbox"));
  if (domain_rows != next || bare_rows != next || events != next) {
    return absl::InternalError(absl::StrCat("expected ", next, " rows and events, got ",
                                            domain_rows, " invitations, ", bare_rows,
                                            " bare rows, ", events, " outbox events"));
  }
  const int iterations = chunk * pairs;
  const pc::testing::RatioSummary summary = pc::testing::Summarize(ratios);
  return StoreResult{.store = store,
                     .domain_rate = iterations / Seconds(domain_time),
                     .bare_rate = iterations / Seconds(bare_time),
                     .ratio = summary.median,
                     .ratio_min = summary.min,
                     .ratio_max = summary.max,
                     .ratios = ratios,
                     .domain_cpu_us = domain_cpu / iterations * 1e6,
                     .bare_cpu_us = bare_cpu / iterations * 1e6};
}

// One figure per store in the `make bench` report ($PC_BENCH_JSON).
absl::Status WriteJson(const std::vector<StoreResult>& results) {
  for (const StoreResult& r : results) {
    PC_RETURN_IF_ERROR(pc::testing::AppendBenchFigure(
        {.id = absl::StrCat("P9.", r.store),
         .title = absl::StrCat("Invitation create with outbox ÷ bare insert of the same row (",
                               r.store, ")"),
         .value = r.domain_rate,
         .baseline = r.bare_rate,
         .unit = "creates/s",
         .ratios = r.ratios,
         .goal = ">=0.7",
         .note = absl::StrCat("median of per-pair ratios; client CPU ",
                              static_cast<int>(r.domain_cpu_us), " / ",
                              static_cast<int>(r.bare_cpu_us), " us per op")}));
  }
  return absl::OkStatus();
}

int Main() {
  struct Plan {
    Dialect dialect;
    int chunk;
    int pairs;
  };
  const Plan plans[] = {{Dialect::kSqlite, 300, 9}, {Dialect::kPostgres, 200, 9}};
  std::vector<StoreResult> results;
  bool failed = false;
  spdlog::set_level(spdlog::level::warn);  // no migration chatter between the numbers
  for (const Plan& plan : plans) {
    absl::StatusOr<StoreResult> result = RunStore(plan.dialect, plan.chunk, plan.pairs);
    if (!result.ok()) {
      std::fprintf(stderr, "invitation_bench: %s FAILED: %s\n",
                   std::string(pc::storage::DialectName(plan.dialect)).c_str(),
                   result.status().ToString().c_str());
      if (plan.dialect == Dialect::kPostgres) {
        std::fprintf(stderr, "invitation_bench: run it through tools/dev/bench.sh (make bench), "
                             "which starts PostgreSQL and sets PC_TEST_DATABASE_URL\n");
      }
      failed = true;
      continue;
    }
    results.push_back(*result);
  }

  std::printf("\n%-9s %-17s %-15s %-20s %-10s %s\n", "store", "domain+outbox/s",
              "bare insert/s", "ratio (min-max)", "goal", "client CPU µs/op (A / B)");
  for (const StoreResult& r : results) {
    std::printf("%-9s %-17.0f %-15.0f %.2f (%.2f-%.2f)     >= %.2f %-12s %.0f / %.0f\n",
                r.store.c_str(), r.domain_rate, r.bare_rate, r.ratio, r.ratio_min, r.ratio_max,
                kTarget, r.ratio >= kTarget ? "ok" : "below goal", r.domain_cpu_us,
                r.bare_cpu_us);
  }
  if (absl::Status written = WriteJson(results); !written.ok()) {
    std::fprintf(stderr, "invitation_bench: %s\n", written.ToString().c_str());
    failed = true;
  }
  std::fflush(stdout);
  if (failed) std::fprintf(stderr, "invitation_bench: a store failed (see above)\n");
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace pc::invitation

int main() { return pc::invitation::Main(); }
