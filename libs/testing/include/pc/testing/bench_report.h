// One figure of the `make bench` report. Every benchmark binary appends its figures, one JSON
// object per line, to the file named by $PC_BENCH_JSON (tools/dev/bench.sh sets it, then
// tools/dev/bench-report.mjs turns the lines into one table, report.json and a chart).
//
//   pc::testing::BenchFigure f{.id = "P8", .title = "Projection ÷ raw consume",
//                              .value = 9763, .baseline = 474293, .unit = "events/s",
//                              .ratios = {0.016, 0.021, 0.019}, .goal = ">=0.5"};
//   PC_RETURN_IF_ERROR(pc::testing::AppendBenchFigure(f));
//
// A figure without $PC_BENCH_JSON is not written (the binary still prints its own lines).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pc::testing {

struct BenchFigure {
  std::string id;              // stable: "P8", "P9.sqlite", "P12.list.prefix"
  std::string title;           // what is divided by what, in words
  double value = 0;            // the measured side
  double baseline = 0;         // its baseline, measured in the same run
  std::string unit;            // of value and baseline: "events/s", "ms (p99)"
  // value ÷ baseline, one per A/B pair; empty: a figure reported for information only
  // (no baseline, no ratio, no goal).
  std::vector<double> ratios;
  // The reported ratio; unset: the median of `ratios`.
  std::optional<double> ratio = std::nullopt;
  std::string goal;  // ">=0.5", "<=2", or empty (reported, no goal)
  std::string note;  // how it was measured, in a few words
};

struct RatioSummary {
  double median = 0;
  double min = 0;
  double max = 0;
};

// The median (upper median for an even count), min and max. `ratios` must not be empty.
RatioSummary Summarize(std::vector<double> ratios);

// True if `ratio` meets `goal` (">=x" or "<=x"); true for an empty goal.
bool GoalMet(const std::string& goal, double ratio);

// The quick mode of `make bench QUICK=1` (fewer events and pairs): true if the first argument
// is --quick or $PC_BENCH_QUICK is set and not empty.
bool BenchQuick(int argc, char** argv);

// The q-quantile (0 ≤ q ≤ 1) by nearest rank; `values` must not be empty.
double Percentile(std::vector<double> values, double q);

// An interleaved A/B measurement: one warm-up pair (not kept), then `pairs` pairs of
// (a(), b()), so a machine that gets busier mid-run slows both sides alike.
struct AbRuns {
  std::vector<double> a, b;
  std::vector<double> ratios;  // b ÷ a, one per pair
};
absl::StatusOr<AbRuns> RunAbPairs(int pairs, const std::function<absl::StatusOr<double>()>& a,
                                  const std::function<absl::StatusOr<double>()>& b);

// Appends `figure` to $PC_BENCH_JSON; OK without writing if the variable is unset or empty.
// INVALID_ARGUMENT for a goal without ratios or a goal that is not ">=x" / "<=x".
absl::Status AppendBenchFigure(const BenchFigure& figure);

}  // namespace pc::testing
