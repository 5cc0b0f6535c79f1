// `make bench` (P12, relationship half): ListRelationships p99 for one partner with 100 000
// relationships ÷ the same call for a partner with 100, in one store (SQLite, the embedded
// default; with PC_TEST_DATABASE_URL set, PostgreSQL as well).
//
// Rows are seeded straight through RelationshipStore (the pipeline-seeded run belongs to the
// notification bench). Company names are two syllables of a 24-syllable list plus a suffix, so
// a three-letter prefix matches about 1/24 of a partner; domains are the name's first syllable
// + a number. Per case, small (A) and big (B) alternate in chunks of `calls` calls after a
// warm-up pair, for `pairs` pairs; each chunk's p99 gives one ratio B/A; the figure is their
// median with min–max. The page size is the largest (at most 50) the small partner's rows fill
// for that case, so both sides return the same number of rows (a page of 4 rows against one
// of 50 measures decoding 46 more rows, not the partner's size). Cases (through
// RelationshipDomain::ListRelationships):
//   first    default order (company name), first page
//   deep     a page token from the middle of the list (row 50 000 of 100 000; row 50 of 100)
//   prefix   name_prefix of three letters
//   nomatch  a name_prefix nothing matches
//   by_update order_by "update_time desc", first page
// With PC_BENCH_JSON set it appends one JSON object per case (ids P12.list.<case>, and
// P12.list.<case>.postgres for PostgreSQL).
//
//   build/bench/list_scale_bench [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/clock.h"
#include "pc/common/status_macros.h"
#include "pc/storage/test_database.h"
#include "pc/testing/bench_pages.h"
#include "pc/testing/bench_report.h"
#include "spdlog/spdlog.h"
#include "store.h"

namespace pc::relationship {
namespace {

using google::protobuf::util::TimeUtil;
using Clock = std::chrono::steady_clock;

constexpr double kGoal = 2.0;
constexpr int kBig = 100'000;
constexpr int kSmall = 100;
const char* const kSyllables[] = {"fab", "con", "nor", "adv", "tai", "win", "lit", "pro",
                                  "mar", "del", "sol", "ver", "qua", "tri", "zen", "orb",
                                  "kel", "bri", "hal", "ros", "vic", "lum", "gar", "pix"};
constexpr int kSyllableCount = sizeof(kSyllables) / sizeof(kSyllables[0]);
const char* const kSuffixes[] = {"Ltd", "Inc", "GmbH", "S.A.", "LLC", "Group"};

CallContext Agent(const std::string& partner) {
  return {{.subject = "agent@" + partner, .tenant_id = partner, .cloud = "global",
           .roles = {"partner_agent"}, .display_name = "Agent"},
          "corr-bench", ""};
}

absl::Status Seed(RelationshipStore& store, const std::string& partner, int n) {
  const int64_t base = absl::ToUnixMicros(absl::Now());
  for (int done = 0; done < n;) {
    const int batch = std::min(2000, n - done);
    PC_RETURN_IF_ERROR(store.InTransaction([&](StoreTx& tx) -> absl::Status {
      for (int j = 0; j < batch; ++j) {
        const int i = done + j;
        // Spread names over the alphabet independently of insertion order.
        const uint32_t h = static_cast<uint32_t>(i) * 2654435761u;
        const char* first = kSyllables[h % kSyllableCount];
        const char* second = kSyllables[(h / kSyllableCount) % kSyllableCount];
        std::string name = absl::StrCat(first, second, " ", kSuffixes[(h >> 20) % 6], " ", i);
        name[0] = static_cast<char>(name[0] - 'a' + 'A');
        v1::Relationship r;
        r.set_cloud(partnercenter::common::v1::CLOUD_GLOBAL);
        r.set_partner_id(partner);
        r.set_customer_id(absl::StrCat("cust-", partner, "-", i));
        r.set_partner_display_name("Partner " + partner);
        r.set_state(partnercenter::common::v1::RELATIONSHIP_STATE_ACTIVE);
        r.set_admin_access(partnercenter::common::v1::ADMIN_ACCESS_GRANTED);
        r.set_support_responsible(true);
        r.mutable_customer_profile()->set_company_name(name);
        r.mutable_customer_profile()->set_primary_domain(absl::StrCat(first, i, ".example"));
        r.mutable_customer_profile()->set_country("BR");
        *r.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(base + i);
        *r.mutable_update_time() =
            TimeUtil::MicrosecondsToTimestamp(base + static_cast<int64_t>(h % 1'000'000));
        r.set_version(1);
        PC_RETURN_IF_ERROR(tx.Insert(r));
      }
      return absl::OkStatus();
    }));
    done += batch;
  }
  return absl::OkStatus();
}

// The case's request as a page call for one partner.
pc::testing::PageCall Pages(RelationshipDomain& domain, const std::string& partner,
                            v1::ListRelationshipsRequest req) {
  return [&domain, partner, req](int size, const std::string& token)
             -> absl::StatusOr<pc::testing::PageResult> {
    v1::ListRelationshipsRequest r = req;
    r.set_page_size(size);
    if (!token.empty()) r.set_page_token(token);
    PC_ASSIGN_OR_RETURN(v1::ListRelationshipsResponse page,
                        domain.ListRelationships(Agent(partner), r));
    return pc::testing::PageResult{page.relationships_size(), page.next_page_token()};
  };
}

struct Case {
  std::string id;
  std::string title;
  std::function<v1::ListRelationshipsRequest(bool big)> request;
};

struct Figure {
  std::string id;
  std::string title;
  double big_p99_ms = 0;
  double small_p99_ms = 0;
  double ratio = 0, ratio_min = 0, ratio_max = 0;
  std::vector<double> ratios;  // one per A/B pair
  std::string note;
};

absl::StatusOr<std::vector<Figure>> RunStore(pc::storage::Dialect dialect, int calls, int pairs) {
  const std::string store_name(pc::storage::DialectName(dialect));
  PC_ASSIGN_OR_RETURN(auto test_db, pc::storage::TestDatabase::Create(dialect));
  PC_ASSIGN_OR_RETURN(std::unique_ptr<pc::storage::Database> db, test_db->Open());
  PC_RETURN_IF_ERROR(RelationshipStore::Migrate(*db));
  RelationshipStore store(*db);
  RelationshipDomain* domain_ptr = nullptr;
  AccessCache cache(
      [&](const std::string& p, const std::string& c) { return domain_ptr->LoadAccess(p, c); });
  RelationshipDomain domain({.cloud = "global"}, store, pc::SystemClock::Get(), nullptr, cache);
  domain_ptr = &domain;

  const Clock::time_point seed_start = Clock::now();
  PC_RETURN_IF_ERROR(Seed(store, "small", kSmall));
  PC_RETURN_IF_ERROR(Seed(store, "big", kBig));
  if (dialect == pc::storage::Dialect::kPostgres) {
    PC_RETURN_IF_ERROR(db->InTransaction(
        [](pc::storage::Transaction& tx) { return tx.ExecuteScript("ANALYZE relationships"); }));
  }
  std::printf("%s: seeded %d + %d relationships in %.1f s; %d pairs of %d calls per case\n",
              store_name.c_str(), kBig, kSmall,
              std::chrono::duration<double>(Clock::now() - seed_start).count(), pairs, calls);
  std::fflush(stdout);

  const v1::ListRelationshipsRequest all;
  PC_ASSIGN_OR_RETURN(const std::string deep_big,
                      pc::testing::TokenAfter(Pages(domain, "big", all), kBig / 2));
  PC_ASSIGN_OR_RETURN(const std::string deep_small,
                      pc::testing::TokenAfter(Pages(domain, "small", all), kSmall / 2));
  const std::vector<Case> cases = {
      {"first", "ListRelationships first page, 100 000 ÷ 100 relationships (p99)",
       [](bool) { return v1::ListRelationshipsRequest(); }},
      {"deep", "ListRelationships deep page via page token, 100 000 ÷ 100 (p99)",
       [&](bool big) {
         v1::ListRelationshipsRequest req;
         req.set_page_token(big ? deep_big : deep_small);
         return req;
       }},
      {"prefix", "ListRelationships name-prefix filter, 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::ListRelationshipsRequest req;
         req.set_name_prefix("Fab");
         return req;
       }},
      {"nomatch", "ListRelationships filter matching nothing, 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::ListRelationshipsRequest req;
         req.set_name_prefix("zzq");
         return req;
       }},
      {"by_update", "ListRelationships update-time order, 100 000 ÷ 100 (p99)",
       [](bool) {
         v1::ListRelationshipsRequest req;
         req.set_order_by("update_time desc");
         return req;
       }},
  };

  std::vector<Figure> figures;
  for (const Case& c : cases) {
    PC_ASSIGN_OR_RETURN(
        pc::testing::PageScale measured,
        pc::testing::MeasurePageScale(Pages(domain, "small", c.request(false)),
                                      Pages(domain, "big", c.request(true)), calls, pairs,
                                      /*expect_empty=*/c.id == "nomatch"));
    const pc::testing::AbRuns& runs = measured.runs;
    const int page_size = measured.page_size;
    const pc::testing::RatioSummary ratio = pc::testing::Summarize(runs.ratios);
    const std::string suffix =
        dialect == pc::storage::Dialect::kSqlite ? "" : absl::StrCat(".", store_name);
    figures.push_back({.id = absl::StrCat("P12.list.", c.id, suffix),
                       .title = absl::StrCat(c.title, " [", store_name, "]"),
                       .big_p99_ms = pc::testing::Summarize(runs.b).median,
                       .small_p99_ms = pc::testing::Summarize(runs.a).median,
                       .ratio = ratio.median,
                       .ratio_min = ratio.min,
                       .ratio_max = ratio.max,
                       .ratios = runs.ratios,
                       .note = absl::StrCat("median p99 of ", calls,
                                            " calls per chunk, page size ", page_size)});
  }
  return figures;
}

int Main(int argc, char** argv) {
  const bool quick = pc::testing::BenchQuick(argc, argv);
  const int calls = quick ? 100 : 300;
  const int pairs = quick ? 3 : 5;
  spdlog::set_level(spdlog::level::warn);
  std::vector<Figure> figures;
  bool failed = false;
  std::vector<pc::storage::Dialect> stores = {pc::storage::Dialect::kSqlite};
  const char* pg = std::getenv("PC_TEST_DATABASE_URL");
  if (pg != nullptr && *pg != '\0') stores.push_back(pc::storage::Dialect::kPostgres);
  for (pc::storage::Dialect dialect : stores) {
    absl::StatusOr<std::vector<Figure>> result = RunStore(dialect, calls, pairs);
    if (!result.ok()) {
      std::fprintf(stderr, "list_scale_bench: %s FAILED: %s\n",
                   std::string(pc::storage::DialectName(dialect)).c_str(),
                   result.status().ToString().c_str());
      failed = true;
      continue;
    }
    figures.insert(figures.end(), result->begin(), result->end());
  }
  std::printf("\n%-28s %-12s %-12s %-20s %s\n", "figure", "p99 100k ms", "p99 100 ms",
              "ratio (min-max)", "goal");
  for (const Figure& f : figures) {
    std::printf("%-28s %-12.3f %-12.3f %.2f (%.2f-%.2f)     <= %.1f %s\n", f.id.c_str(),
                f.big_p99_ms, f.small_p99_ms, f.ratio, f.ratio_min, f.ratio_max, kGoal,
                f.ratio <= kGoal ? "ok" : "above goal");
  }
  std::fflush(stdout);
  for (const Figure& f : figures) {
    if (absl::Status s = pc::testing::AppendBenchFigure({.id = f.id,
                                                         .title = f.title,
                                                         .value = f.big_p99_ms,
                                                         .baseline = f.small_p99_ms,
                                                         .unit = "ms (p99)",
                                                         .ratios = f.ratios,
                                                         .goal = "<=2",
                                                         .note = f.note});
        !s.ok()) {
      std::fprintf(stderr, "list_scale_bench: %s\n", s.ToString().c_str());
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace pc::relationship

int main(int argc, char** argv) { return pc::relationship::Main(argc, argv); }
