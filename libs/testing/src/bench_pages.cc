#include "pc/testing/bench_pages.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pc::testing {

absl::StatusOr<int> CountRows(const PageCall& call) {
  int n = 0;
  std::string token;
  for (;;) {
    absl::StatusOr<PageResult> page = call(200, token);
    if (!page.ok()) return page.status();
    n += page->rows;
    if (page->next_page_token.empty()) return n;
    token = page->next_page_token;
  }
}

absl::StatusOr<std::string> TokenAfter(const PageCall& call, int skip) {
  std::string token;
  for (int seen = 0; seen < skip;) {
    absl::StatusOr<PageResult> page = call(std::min(200, skip - seen), token);
    if (!page.ok()) return page.status();
    seen += page->rows;
    token = page->next_page_token;
    if (token.empty()) return absl::InternalError("the list ended early");
  }
  return token;
}

absl::StatusOr<PageScale> MeasurePageScale(const PageCall& small, const PageCall& big, int calls,
                                           int pairs, bool expect_empty) {
  absl::StatusOr<int> small_rows = CountRows(small);
  if (!small_rows.ok()) return small_rows.status();
  const int page_size = std::clamp(*small_rows, 1, 50);
  auto chunk = [&](const PageCall& call) -> absl::StatusOr<double> {
    std::vector<double> ms;
    ms.reserve(calls);
    for (int i = 0; i < calls; ++i) {
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<PageResult> page = call(page_size, "");
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (!page.ok()) return page.status();
      if (expect_empty != (page->rows == 0)) {
        return absl::InternalError(absl::StrCat("a page of ", page->rows, " rows"));
      }
    }
    return Percentile(std::move(ms), 0.99);
  };
  absl::StatusOr<AbRuns> runs =
      RunAbPairs(pairs, [&] { return chunk(small); }, [&] { return chunk(big); });
  if (!runs.ok()) return runs.status();
  return PageScale{.runs = *std::move(runs), .page_size = page_size};
}

}  // namespace pc::testing
