// Keyset-paged list queries whose every filter and order is an index range, shared by the
// services' list and page reads (relationship ListRelationships, notification pages).
//
// A list is one or more *arms*: each a condition that, with the common WHERE, is one index
// range in the list's order (one arm per admin state, say, or a name-prefix range). Several
// arms are merged: UNION ALL with the ORDER BY on the compound, which SQLite runs as a merge
// of ordered arms stopped at the LIMIT; on PostgreSQL each arm stops at the LIMIT on its own
// first, so the final sort sees at most arms × LIMIT rows.
//
//   std::vector<KeysetArm> arms = {{" AND admin_access = $3"}, {" AND admin_access = $4"}};
//   arms = SplitByNameOrDomainPrefix(arms, {...});        // name OR domain starts with …
//   std::string sql = KeysetSql({.table = "relationship_rows", .data_col = "customer_row",
//                                .where = " WHERE cloud = $1 AND partner_id = $2",
//                                .arms = arms, .key_col = "customer_sort",
//                                .id_col = "customer_id", .limit = "$9"}, dialect);
//
// Every query selects the row's bytes AS data (pc::storage ParseMessages reads that column).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pc/storage/database.h"

namespace pc::storage {

struct KeysetArm {
  std::string condition;     // " AND …" narrowing the common WHERE, or empty
  std::string sqlite_index;  // "INDEXED BY <index>" for this arm on SQLite, or empty
};

struct KeysetQuery {
  std::string table;
  std::string data_col = "data";  // selected AS data
  std::string where;              // " WHERE …": the owner's rows
  std::vector<KeysetArm> arms = {{}};
  std::string keyset;  // " AND (key, id) > ($k, $i)" from a page token, or empty
  std::string key_col;
  std::string id_col;
  bool descending = false;
  std::string limit;  // the parameter: "$7"
};

// The cursor of a page token as KeysetQuery::keyset: " AND (key, id) > ($k, $i)" ("<" when
// descending), a row value, so one index range from the cursor on (SQLite ≥ 3.15, PostgreSQL).
std::string KeysetAfter(const std::string& key_col, const std::string& id_col, bool descending,
                        const std::string& key_param, const std::string& id_param);

// The SELECT for `q` in `dialect`, in (key_col, id_col) order.
std::string KeysetSql(const KeysetQuery& q, Dialect dialect);

// A prefix that may match the name or the domain, in name order, without a scan: each arm
// splits into a name range (in order on the name index) and a domain range restricted to the
// rows whose name and domain share fewer leading bytes than the prefix has (only those can
// match on the domain but not the name; an index on (…, lcp_col, domain_col, …) makes them
// ranges too), whose cost is the domain-only matches, not all matches.
struct PrefixColumns {
  std::string name_col;      // the sort name (lower case)
  std::string domain_col;    // the sort domain (lower case)
  std::string lcp_col;       // CommonPrefixLength(name, domain) as stored
  std::string domain_index;  // the SQLite index on (…, lcp_col, domain_col, …)
  std::string lo, hi;        // parameters holding the prefix and the prefix + U+FFFF
  int prefix_length = 0;     // bytes of the prefix
};
std::vector<KeysetArm> SplitByNameOrDomainPrefix(const std::vector<KeysetArm>& arms,
                                                 const PrefixColumns& c);

// What the lcp column holds: bytes `name` and `domain` share at the start, at most
// kMaxPrefixLcp. Rows written before the column existed may hold 0, which only costs the
// domain arm a look at them.
inline constexpr int kMaxPrefixLcp = 8;
int CommonPrefixLength(std::string_view name, std::string_view domain);

}  // namespace pc::storage
