#include "pc/storage/keyset.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pc::storage {

std::string KeysetAfter(const std::string& key_col, const std::string& id_col, bool descending,
                        const std::string& key_param, const std::string& id_param) {
  return absl::StrCat(" AND (", key_col, ", ", id_col, ") ", descending ? "<" : ">", " (",
                      key_param, ", ", id_param, ")");
}

std::string KeysetSql(const KeysetQuery& q, Dialect dialect) {
  const char* dir = q.descending ? " DESC" : " ASC";
  auto table = [&](const KeysetArm& arm) {
    return dialect == Dialect::kSqlite && !arm.sqlite_index.empty()
               ? absl::StrCat(q.table, " ", arm.sqlite_index)
               : q.table;
  };
  if (q.arms.size() == 1) {
    return absl::StrCat("SELECT ", q.data_col, " AS data FROM ", table(q.arms[0]), q.where,
                        q.arms[0].condition, q.keyset, " ORDER BY ", q.key_col, dir, ", ",
                        q.id_col, dir, " LIMIT ", q.limit);
  }
  std::string sql;
  int n = 0;
  for (const KeysetArm& arm : q.arms) {
    const std::string select = absl::StrCat("SELECT ", q.key_col, ", ", q.id_col, ", ", q.data_col,
                                            " AS data FROM ", table(arm), q.where, arm.condition,
                                            q.keyset);
    absl::StrAppend(&sql, sql.empty() ? "" : " UNION ALL ");
    if (dialect == Dialect::kSqlite) {
      absl::StrAppend(&sql, select);
    } else {
      absl::StrAppend(&sql, "SELECT * FROM (", select, " ORDER BY ", q.key_col, dir, ", ",
                      q.id_col, dir, " LIMIT ", q.limit, ") AS arm", ++n);
    }
  }
  absl::StrAppend(&sql, " ORDER BY 1", dir, ", 2", dir, " LIMIT ", q.limit);
  return sql;
}

std::vector<KeysetArm> SplitByNameOrDomainPrefix(const std::vector<KeysetArm>& arms,
                                                 const PrefixColumns& c) {
  const std::string name =
      absl::StrCat(c.name_col, " >= ", c.lo, " AND ", c.name_col, " < ", c.hi);
  std::vector<KeysetArm> split;
  for (const KeysetArm& arm : arms) {
    split.push_back({absl::StrCat(arm.condition, " AND ", name), arm.sqlite_index});
  }
  std::string buckets;
  const int top = std::min(kMaxPrefixLcp, c.prefix_length - 1);
  for (int b = 0; b <= top; ++b) absl::StrAppend(&buckets, b == 0 ? "" : ", ", b);
  for (const KeysetArm& arm : arms) {
    // SQLite's planner, free to pick, prefers walking the name index in order over the whole
    // owner (no sort) to a short domain range: the domain arm pins the domain index.
    split.push_back({absl::StrCat(arm.condition, " AND ", c.lcp_col, " IN (", buckets, ") AND ",
                                  c.domain_col, " >= ", c.lo, " AND ", c.domain_col, " < ", c.hi,
                                  " AND NOT (", name, ")"),
                     absl::StrCat("INDEXED BY ", c.domain_index)});
  }
  return split;
}

int CommonPrefixLength(std::string_view name, std::string_view domain) {
  int n = 0;
  while (n < kMaxPrefixLcp && n < static_cast<int>(name.size()) &&
         n < static_cast<int>(domain.size()) && name[n] == domain[n]) {
    ++n;
  }
  return n;
}

}  // namespace pc::storage
