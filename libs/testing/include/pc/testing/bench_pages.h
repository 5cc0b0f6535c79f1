// P12-style page benches: the same page call for a small and a big owner (100 vs 100 000
// rows), p99 of each in interleaved chunks.
//
//   pc::testing::PageCall small = [&](int size, const std::string& token)
//       -> absl::StatusOr<pc::testing::PageResult> {
//     req.set_page_size(size);
//     if (!token.empty()) req.set_page_token(token);
//     PC_ASSIGN_OR_RETURN(auto page, domain.List(call, req));
//     return pc::testing::PageResult{page.rows_size(), page.next_page_token()};
//   };
//   auto m = pc::testing::MeasurePageScale(small, big, 300, 5, /*expect_empty=*/false);
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "pc/testing/bench_report.h"

namespace pc::testing {

struct PageResult {
  int rows = 0;
  std::string next_page_token;
};
// One page of the list a case reads: `page_size` rows from `page_token` (empty: the case's
// own start, which may itself be a token).
using PageCall =
    std::function<absl::StatusOr<PageResult>(int page_size, const std::string& page_token)>;

// Every row of the list, paged 200 at a time.
absl::StatusOr<int> CountRows(const PageCall& call);

// The page token after the first `skip` rows; INTERNAL if the list is shorter.
absl::StatusOr<std::string> TokenAfter(const PageCall& call, int skip);

struct PageScale {
  AbRuns runs;        // a = small's p99 per chunk (ms), b = big's
  int page_size = 0;  // the largest (at most 50) the small owner's rows fill
};
// `pairs` interleaved pairs (after a warm-up pair) of `calls` calls each on small and on big,
// all with the page size the small owner fills, so both return the same number of rows and the
// ratio is the cost of the owner's size alone. Every call must return rows (none if
// `expect_empty`), else INTERNAL.
absl::StatusOr<PageScale> MeasurePageScale(const PageCall& small, const PageCall& big, int calls,
                                           int pairs, bool expect_empty);

}  // namespace pc::testing
