// ListRelationships / ListPartners at the store: every filter and order reads an index range in
// the list's order (EXPLAIN on SQLite: no full scan, no sort but the domain-only arm of a
// prefix; EXPLAIN with seq scans off on PostgreSQL: index scans only, each arm of a merged list
// limited on its own), and paging through any filter+order returns exactly the rows a
// brute-force filter and sort of the same data gives, each once.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fixture.h"
#include "google/protobuf/util/time_util.h"
#include "pc/common/status_macros.h"

namespace pc::relationship::testing {
namespace {

using google::protobuf::util::TimeUtil;

class ListQueryTest : public RelationshipFixture {
 protected:
  // The plan's lines (SQLite: EXPLAIN QUERY PLAN details; PostgreSQL: EXPLAIN text lines).
  std::vector<std::string> Plan(const RelationshipQuery& q) {
    absl::StatusOr<ListSql> query = BuildListSql(q, kDialect);
    EXPECT_OK(query.status());
    if (!query.ok()) return {};
    std::vector<std::string> lines;
    absl::Status status = db_->InTransaction([&](pc::storage::Transaction& tx) -> absl::Status {
      if (kDialect == pc::storage::Dialect::kPostgres) {
        // Tiny test tables: make the planner show the index path it has, if it has one.
        PC_RETURN_IF_ERROR(tx.ExecuteScript(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"));
        PC_ASSIGN_OR_RETURN(std::vector<pc::storage::Row> rows,
                            tx.Query("EXPLAIN " + query->sql, query->params));
        for (const auto& row : rows) lines.push_back(*row.GetText(0));
        return absl::OkStatus();
      }
      PC_ASSIGN_OR_RETURN(std::vector<pc::storage::Row> rows,
                          tx.Query("EXPLAIN QUERY PLAN " + query->sql, query->params));
      for (const auto& row : rows) lines.push_back(*row.GetText("detail"));
      return absl::OkStatus();
    });
    EXPECT_OK(status);
    return lines;
  }

  // Asserts every read of relationships is an index range and that sorts happen only in the
  // `sorted_arms` domain-prefix arms (which sort the rows whose domain alone matches).
  void ExpectIndexed(const RelationshipQuery& q, int sorted_arms, const std::string& what) {
    const std::vector<std::string> plan = Plan(q);
    const std::string text = absl::StrJoin(plan, "\n");
    int sorts = 0;
    int reads = 0;
    for (const std::string& line : plan) {
      if (kDialect == pc::storage::Dialect::kPostgres) {
        EXPECT_FALSE(absl::StrContains(line, "Seq Scan")) << what << ":\n" << text;
        EXPECT_FALSE(absl::StrContains(line, "Bitmap")) << what << ":\n" << text;
        if (absl::StrContains(line, "Index Scan") || absl::StrContains(line, "Index Only Scan")) {
          ++reads;
        }
        if (absl::StrContains(line, "Sort  (") || absl::StrContains(line, "Sort (")) ++sorts;
      } else {
        if (absl::StartsWith(line, "SCAN relationships")) {
          ADD_FAILURE() << what << ": full scan\n" << text;
        }
        if (absl::StartsWith(line, "SEARCH relationships")) {
          ++reads;
          EXPECT_TRUE(absl::StrContains(line, "INDEX")) << what << ":\n" << text;
          // With a filter, a range that is the whole partner would be a scan in disguise.
          if (!q.name_prefix.empty() || !q.states.empty()) {
            EXPECT_FALSE(absl::EndsWith(line, "partner_id=?)")) << what << ":\n" << text;
          }
        }
        if (absl::StrContains(line, "TEMP B-TREE")) ++sorts;
      }
    }
    EXPECT_GT(reads, 0) << what << ":\n" << text;
    if (kDialect == pc::storage::Dialect::kPostgres) {
      // PostgreSQL sorts the appended arms; each arm is limited before (its own Limit node).
      const int arms = static_cast<int>(std::count_if(plan.begin(), plan.end(), [](const auto& l) {
        return absl::StrContains(l, "Index Scan") || absl::StrContains(l, "Index Only Scan");
      }));
      const int limits = static_cast<int>(std::count_if(
          plan.begin(), plan.end(), [](const auto& l) { return absl::StrContains(l, "Limit"); }));
      if (arms > 1) {
        EXPECT_EQ(limits, arms + 1) << what << ":\n" << text;
      }
    } else {
      EXPECT_EQ(sorts, sorted_arms) << what << ":\n" << text;
    }
  }

  // `n` relationships of partner-a with varied names, domains, states, access and times.
  void Seed(int n) {
    const std::vector<std::string> words = {"Contoso", "Fabrikam", "Northwind", "Adventure",
                                            "Tailspin", "Wingtip", "Litware", "Proseware"};
    ASSERT_OK(store_->InTransaction([&](StoreTx& tx) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        v1::Relationship r;
        r.set_cloud(partnercenter::common::v1::CLOUD_GLOBAL);
        r.set_partner_id("partner-a");
        r.set_customer_id(absl::StrCat("customer-", 1000 + (i * 37) % n));
        // Names repeat (ties broken by customer id); some domains start like other names.
        const std::string& word = words[i % words.size()];
        r.mutable_customer_profile()->set_company_name(absl::StrCat(word, " ", i % 5));
        r.mutable_customer_profile()->set_primary_domain(
            absl::StrCat(absl::AsciiStrToLower(words[(i / 3) % words.size()]), i, ".example"));
        r.set_state(i % 4 == 0 ? partnercenter::common::v1::RELATIONSHIP_STATE_REMOVED
                               : partnercenter::common::v1::RELATIONSHIP_STATE_ACTIVE);
        r.set_admin_access(i % 3 == 0 ? partnercenter::common::v1::ADMIN_ACCESS_REVOKED
                                      : partnercenter::common::v1::ADMIN_ACCESS_GRANTED);
        *r.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(1'000'000 + i * 10);
        *r.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(2'000'000 + (i % 7) * 10);
        r.set_version(1);
        PC_RETURN_IF_ERROR(tx.Insert(r));
        seeded_.push_back(r);
      }
      return absl::OkStatus();
    }));
  }

  // Every page of `req`, concatenated (customer ids).
  std::vector<std::string> Page(v1::ListRelationshipsRequest req) {
    std::vector<std::string> out;
    req.set_page_size(7);
    for (int guard = 0; guard < 100; ++guard) {
      absl::StatusOr<v1::ListRelationshipsResponse> page =
          domain_->ListRelationships(PartnerAgent(), req);
      EXPECT_OK(page.status());
      if (!page.ok()) break;
      for (const auto& r : page->relationships()) out.push_back(r.customer_id());
      if (page->next_page_token().empty()) break;
      req.set_page_token(page->next_page_token());
    }
    return out;
  }

  // The same list, filtered and sorted in memory.
  std::vector<std::string> Expected(const std::vector<int>& states, const std::string& prefix,
                                    const std::string& order, int admin = 0) {
    std::vector<v1::Relationship> rows;
    for (const v1::Relationship& r : seeded_) {
      if (!states.empty() &&
          std::find(states.begin(), states.end(), static_cast<int>(r.state())) == states.end()) {
        continue;
      }
      if (admin != 0 && r.admin_access() != admin) continue;
      const std::string name = absl::AsciiStrToLower(r.customer_profile().company_name());
      const std::string domain = absl::AsciiStrToLower(r.customer_profile().primary_domain());
      if (!prefix.empty() && !absl::StartsWith(name, prefix) && !absl::StartsWith(domain, prefix)) {
        continue;
      }
      rows.push_back(r);
    }
    auto key = [&](const v1::Relationship& r) {
      if (order == "update_time desc") return TimeUtil::TimestampToMicroseconds(r.update_time());
      return TimeUtil::TimestampToMicroseconds(r.create_time());
    };
    std::sort(rows.begin(), rows.end(), [&](const v1::Relationship& a, const v1::Relationship& b) {
      if (order.empty()) {
        const std::string an = absl::AsciiStrToLower(a.customer_profile().company_name());
        const std::string bn = absl::AsciiStrToLower(b.customer_profile().company_name());
        if (an != bn) return an < bn;
        return a.customer_id() < b.customer_id();
      }
      if (key(a) != key(b)) return key(a) > key(b);
      return a.customer_id() > b.customer_id();
    });
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.customer_id());
    return out;
  }

  std::vector<v1::Relationship> seeded_;
};

RelationshipQuery Partner(RelationshipOrder order = RelationshipOrder::kCompanyNameAsc) {
  return {.cloud = "global", .partner_id = "partner-a", .order = order, .limit = 51};
}

TEST_F(ListQueryTest, EveryOrderAndFilterReadsAnIndexRange) {
  Seed(40);
  for (RelationshipOrder order : {RelationshipOrder::kCompanyNameAsc,
                                  RelationshipOrder::kUpdateTimeDesc,
                                  RelationshipOrder::kCreateTimeDesc}) {
    const std::string name = absl::StrCat("order ", static_cast<int>(order));
    RelationshipQuery first = Partner(order);
    ExpectIndexed(first, 0, name + " first page");
    RelationshipQuery deep = first;
    deep.after_key = order == RelationshipOrder::kCompanyNameAsc ? "m" : "1500000";
    deep.after_id = "customer-1010";
    ExpectIndexed(deep, 0, name + " deep page");
    RelationshipQuery one_state = first;
    one_state.states = {1};
    ExpectIndexed(one_state, 0, name + " one state");
    RelationshipQuery two_states = deep;
    two_states.states = {1, 2};
    ExpectIndexed(two_states, 0, name + " two states, deep");
    RelationshipQuery filtered = first;
    filtered.admin_access = {2};
    filtered.indirect_reseller_id = "reseller-x";
    ExpectIndexed(filtered, 0, name + " admin access and reseller");
  }
  // Name prefixes (company name or domain): the name arm in order, the domain arm sorted.
  RelationshipQuery prefix = Partner();
  prefix.name_prefix = "fab";
  ExpectIndexed(prefix, 1, "prefix");
  RelationshipQuery nothing = Partner();
  nothing.name_prefix = "zzzz-no-such-name";
  ExpectIndexed(nothing, 1, "prefix matching nothing");
  RelationshipQuery deep_prefix = prefix;
  deep_prefix.after_key = "fabrikam 2";
  deep_prefix.after_id = "customer-1010";
  ExpectIndexed(deep_prefix, 1, "prefix, deep page");
  RelationshipQuery prefix_states = prefix;
  prefix_states.states = {1, 2};
  ExpectIndexed(prefix_states, 2, "prefix with two states");
  // A customer's partners.
  RelationshipQuery partners{.cloud = "global", .customer_id = "customer-1001", .limit = 51};
  ExpectIndexed(partners, 0, "customer view");
}

TEST_F(ListQueryTest, PagingThroughEveryFilterAndOrderMatchesABruteForceSort) {
  Seed(60);
  for (const std::string order : {"", "update_time desc", "create_time desc"}) {
    for (const std::vector<int>& states : std::vector<std::vector<int>>{{}, {1}, {1, 2}, {2}}) {
      for (const std::string prefix : {"", "fab", "north", "zzz"}) {
        for (int admin : {0, 2}) {
          v1::ListRelationshipsRequest req;
          req.set_order_by(order);
          for (int s : states) req.add_states(static_cast<partnercenter::common::v1::RelationshipState>(s));
          req.set_name_prefix(prefix);
          if (admin != 0) req.add_admin_access(static_cast<partnercenter::common::v1::AdminAccess>(admin));
          EXPECT_EQ(Page(req), Expected(states, prefix, order, admin))
              << "order '" << order << "', states " << absl::StrJoin(states, ",") << ", prefix '"
              << prefix << "', admin " << admin;
        }
      }
    }
  }
}

}  // namespace
}  // namespace pc::relationship::testing
