// `make bench` (P12, notification half): GetCustomersPage p99 for one partner with 100 000
// customers ÷ the same call for a partner with 100, in one store (SQLite, the embedded
// default), and how fast the seeding went through the projection.
//
// Seeding runs the service's own projection code: RelationshipEstablished events (as the
// relationship service publishes them) through Projector::ApplyBatch in batches of 1000, the
// service's default --consumer_batch; only Kafka is left out (P8 measures the projection
// behind the real consumer). One customer in ten is seeded without admin permission, so an
// admin filter selects a tenth. Company names start with two letters spread over the
// alphabet, so a one-letter prefix matches about 1/26 of a partner.
//
// Per case, small (A) and big (B) alternate in chunks of `calls` calls after a warm-up pair
// (pc::testing::RunAbPairs); each chunk's p99 gives one ratio B/A; the figure is their median
// with min–max. The page size is the largest (at most 50) the small partner's rows fill for
// that filter, so both sides return the same number of rows: a page of 4 rows against one of
// 50 would measure decoding 46 more rows, not the partner's size. Cases (through
// NotificationDomain::GetCustomersPage):
//   first      default order (company name), first page
//   deep       a page token from the middle (row 50 000 of 100 000; row 50 of 100)
//   prefix     name_prefix of one letter
//   nomatch    a name_prefix nothing matches
//   admin      admin_access = NOT_REQUESTED (a tenth of the rows)
//   by_change  order_by "last_change desc", first page
// With PC_BENCH_JSON set it appends one figure per case (P12.page.<case>) and the seeding
// rate (P12.seed, for information; P8 and P8.bare hold the projection's ratios).
//
//   build/bench/page_scale_bench [--quick]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/common/status_macros.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/storage/database.h"
#include "pc/testing/bench_pages.h"
#include "pc/testing/bench_report.h"
#include "projector.h"
#include "spdlog/spdlog.h"
#include "store.h"

namespace pc::notification {
namespace {

namespace ev = partnercenter::events::v1;
namespace v1 = partnercenter::notification::v1;
namespace common = partnercenter::common::v1;
using Clock = std::chrono::steady_clock;

constexpr int kBig = 100000;
constexpr int kSmall = 100;
constexpr int kSeedBatch = 1000;

// "Fq Company 12": two letters from a hash of the index, independent of insertion order.
std::string CompanyName(int i) {
  const uint32_t h = static_cast<uint32_t>(i) * 2654435761u;
  std::string name = absl::StrCat("AA Company ", i);
  name[0] = static_cast<char>('A' + h % 26);
  name[1] = static_cast<char>('a' + (h / 26) % 26);
  return name;
}

std::string Established(const std::string& partner, int i) {
  const std::string customer = absl::StrCat("cust-", partner, "-", i);
  ev::EventEnvelope e = pc::events::NewEnvelope(
      {.cloud = "global", .partner_id = partner, .customer_id = customer,
       .aggregate_id = pc::events::RelationshipKey(partner, customer), .aggregate_version = 1},
      absl::Now());
  auto* p = e.mutable_relationship_established();
  p->mutable_customer_profile()->set_company_name(CompanyName(i));
  p->mutable_customer_profile()->set_primary_domain(absl::StrCat("c", i, ".example"));
  p->set_partner_display_name("Partner " + partner);
  p->set_admin_access(i % 10 == 0 ? common::ADMIN_ACCESS_NOT_REQUESTED
                                  : common::ADMIN_ACCESS_GRANTED);
  pc::events::Seal(e);
  return e.SerializeAsString();
}

absl::Status Seed(Projector& projector, const std::string& partner, int n) {
  std::vector<std::string> batch;
  for (int i = 0; i < n; ++i) {
    batch.push_back(Established(partner, i));
    if (static_cast<int>(batch.size()) == kSeedBatch || i == n - 1) {
      PC_RETURN_IF_ERROR(projector.ApplyBatch(batch));
      batch.clear();
    }
  }
  return absl::OkStatus();
}

CallContext Agent(const std::string& partner) {
  return {{.subject = "agent@" + partner, .tenant_id = partner, .cloud = "global",
           .roles = {"partner_agent"}}};
}

// The case's request as a page call for one partner.
pc::testing::PageCall Pages(NotificationDomain& domain, const std::string& partner,
                            v1::GetCustomersPageRequest req) {
  return [&domain, partner, req](int size, const std::string& token)
             -> absl::StatusOr<pc::testing::PageResult> {
    v1::GetCustomersPageRequest r = req;
    r.set_page_size(size);
    if (!token.empty()) r.set_page_token(token);
    PC_ASSIGN_OR_RETURN(v1::CustomersPage page, domain.GetCustomersPage(Agent(partner), r));
    return pc::testing::PageResult{page.customers_size(), page.next_page_token()};
  };
}

struct Case {
  std::string id;
  std::string title;
  std::function<v1::GetCustomersPageRequest(bool big)> request;
};

int Main(int argc, char** argv) {
  const bool quick = pc::testing::BenchQuick(argc, argv);
  const int calls = quick ? 100 : 300;
  const int pairs = quick ? 3 : 5;
  spdlog::set_level(spdlog::level::warn);
  const auto dir =
      std::filesystem::temp_directory_path() / ("pc-pagebench-" + pc::NewUuid().substr(0, 8));
  std::filesystem::create_directories(dir);
  auto fail = [&](const absl::Status& s) {
    std::fprintf(stderr, "page_scale_bench: %s\n", s.ToString().c_str());
    std::filesystem::remove_all(dir);
    return 1;
  };
  auto db = pc::storage::Open("sqlite://" + (dir / "notification.db").string());
  if (!db.ok()) return fail(db.status());
  if (absl::Status s = NotificationStore::Migrate(**db); !s.ok()) return fail(s);
  NotificationStore store(**db);
  Projector projector({.cloud = "global", .consumer_group = "bench"}, store, {});
  FeedSignal signal;
  NotificationDomain domain({.cloud = "global"}, store, signal);

  const Clock::time_point seed_start = Clock::now();
  if (absl::Status s = Seed(projector, "small", kSmall); !s.ok()) return fail(s);
  if (absl::Status s = Seed(projector, "big", kBig); !s.ok()) return fail(s);
  const double seed_s = std::chrono::duration<double>(Clock::now() - seed_start).count();
  const double seed_rate = (kBig + kSmall) / seed_s;
  std::printf("sqlite: seeded %d + %d customers through the projection in %.1f s (%.0f events/s); "
              "%d pairs of %d calls per case\n",
              kBig, kSmall, seed_s, seed_rate, pairs, calls);
  std::fflush(stdout);

  const v1::GetCustomersPageRequest all;
  auto deep_big = pc::testing::TokenAfter(Pages(domain, "big", all), kBig / 2);
  if (!deep_big.ok()) return fail(deep_big.status());
  auto deep_small = pc::testing::TokenAfter(Pages(domain, "small", all), kSmall / 2);
  if (!deep_small.ok()) return fail(deep_small.status());
  const std::string prefix = CompanyName(1).substr(0, 1);
  const std::vector<Case> cases = {
      {"first", "GetCustomersPage first page, 100 000 ÷ 100 customers (p99)",
       [](bool) { return v1::GetCustomersPageRequest(); }},
      {"deep", "GetCustomersPage deep page via page token, 100 000 ÷ 100 (p99)",
       [&](bool big) {
         v1::GetCustomersPageRequest req;
         req.set_page_token(big ? *deep_big : *deep_small);
         return req;
       }},
      {"prefix", "GetCustomersPage one-letter name prefix, 100 000 ÷ 100 (p99)",
       [&](bool) {
         v1::GetCustomersPageRequest req;
         req.set_name_prefix(prefix);
         return req;
       }},
      {"nomatch", "GetCustomersPage filter matching nothing, 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::GetCustomersPageRequest req;
         req.set_name_prefix("zzq");
         return req;
       }},
      {"admin", "GetCustomersPage admin-access filter (a tenth), 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::GetCustomersPageRequest req;
         req.add_admin_access(common::ADMIN_ACCESS_NOT_REQUESTED);
         return req;
       }},
      {"by_change", "GetCustomersPage last-change order, 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::GetCustomersPageRequest req;
         req.set_order_by("last_change desc");
         return req;
       }},
  };

  std::printf("\n%-22s %-12s %-12s %-20s %s\n", "figure", "p99 100k ms", "p99 100 ms",
              "ratio (min-max)", "goal");
  bool failed = false;
  for (const Case& c : cases) {
    auto measured = pc::testing::MeasurePageScale(
        Pages(domain, "small", c.request(false)), Pages(domain, "big", c.request(true)), calls,
        pairs, /*expect_empty=*/c.id == "nomatch");
    if (!measured.ok()) return fail(measured.status());
    const pc::testing::AbRuns* runs = &measured->runs;
    const int page_size = measured->page_size;
    const pc::testing::RatioSummary r = pc::testing::Summarize(runs->ratios);
    const pc::testing::BenchFigure figure{
        .id = absl::StrCat("P12.page.", c.id),
        .title = c.title,
        .value = pc::testing::Summarize(runs->b).median,
        .baseline = pc::testing::Summarize(runs->a).median,
        .unit = "ms (p99)",
        .ratios = runs->ratios,
        .goal = "<=2",
        .note = absl::StrCat("median p99 of ", calls, " calls per chunk, page size ",
                             page_size)};
    std::printf("%-22s %-12.3f %-12.3f %.2f (%.2f-%.2f)     <= 2 %s\n", figure.id.c_str(),
                figure.value, figure.baseline, r.median, r.min, r.max,
                pc::testing::GoalMet(figure.goal, r.median) ? "ok" : "above goal");
    if (absl::Status s = pc::testing::AppendBenchFigure(figure); !s.ok()) {
      std::fprintf(stderr, "page_scale_bench: %s\n", s.ToString().c_str());
      failed = true;
    }
  }
  // Seeding has one sample and no baseline of its own in this binary: for information.
  if (absl::Status s = pc::testing::AppendBenchFigure(
          {.id = "P12.seed",
           .title = "Seeding 100 100 customers through the projection",
           .value = seed_rate,
           .unit = "events/s",
           .note = absl::StrCat(kBig + kSmall, " RelationshipEstablished in ", seed_s,
                                " s, batches of ", kSeedBatch)});
      !s.ok()) {
    std::fprintf(stderr, "page_scale_bench: %s\n", s.ToString().c_str());
    failed = true;
  }
  std::filesystem::remove_all(dir);
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace pc::notification

int main(int argc, char** argv) { return pc::notification::Main(argc, argv); }
