#include "pc/testing/bench_report.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pc::testing {
namespace {

TEST(BenchReport, SummarizeTakesTheMedianAndTheRange) {
  const RatioSummary s = Summarize({0.9, 0.5, 0.7});
  EXPECT_EQ(s.median, 0.7);
  EXPECT_EQ(s.min, 0.5);
  EXPECT_EQ(s.max, 0.9);
  EXPECT_EQ(Summarize({2.0, 1.0}).median, 2.0);
}

TEST(BenchReport, GoalsCompareInTheirDirection) {
  EXPECT_TRUE(GoalMet(">=0.5", 0.5));
  EXPECT_FALSE(GoalMet(">=0.5", 0.49));
  EXPECT_TRUE(GoalMet("<=2", 1.9));
  EXPECT_FALSE(GoalMet("<=2", 2.1));
  EXPECT_TRUE(GoalMet("", 123));
  EXPECT_FALSE(GoalMet("about 1", 1));
}

TEST(BenchReport, PercentileIsNearestRank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(101 - i);
  EXPECT_EQ(Percentile(v, 0.99), 100);
  EXPECT_EQ(Percentile(v, 0.5), 51);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
}

TEST(BenchReport, AbPairsAlternateAfterAWarmUpAndStopAtAnError) {
  std::vector<char> order;
  double next = 1;
  auto runs = RunAbPairs(
      2, [&]() -> absl::StatusOr<double> { order.push_back('a'); return next++; },
      [&]() -> absl::StatusOr<double> { order.push_back('b'); return 2 * next++; });
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(std::string(order.begin(), order.end()), "ababab");
  EXPECT_EQ(runs->a, (std::vector<double>{3, 5}));
  EXPECT_EQ(runs->b, (std::vector<double>{8, 12}));
  EXPECT_EQ(runs->ratios, (std::vector<double>{8.0 / 3, 12.0 / 5}));
  auto failed = RunAbPairs(
      3, [] { return absl::StatusOr<double>(1); },
      [] { return absl::StatusOr<double>(absl::InternalError("boom")); });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
}

TEST(BenchReport, AFigureIsOneJsonLineAppended) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("bench_report_test_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  ::setenv("PC_BENCH_JSON", path.c_str(), 1);
  BenchFigure f{.id = "P8", .title = "projection ÷ raw", .value = 10, .baseline = 100,
                .unit = "events/s", .ratios = {0.2, 0.1, 0.3}, .goal = ">=0.5", .note = "n"};
  ASSERT_TRUE(AppendBenchFigure(f).ok());
  f.id = "P9";
  f.ratio = 0.8;
  ASSERT_TRUE(AppendBenchFigure(f).ok());
  f.goal = "fast";
  EXPECT_EQ(AppendBenchFigure(f).code(), absl::StatusCode::kInvalidArgument);
  f.goal = ">=1";
  f.ratios.clear();
  EXPECT_EQ(AppendBenchFigure(f).code(), absl::StatusCode::kInvalidArgument);
  f.id = "seed";
  f.goal = "";
  ASSERT_TRUE(AppendBenchFigure(f).ok());  // information only
  ::unsetenv("PC_BENCH_JSON");

  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["id"], "P8");
  EXPECT_EQ(lines[0]["ratio"], 0.2);
  EXPECT_EQ(lines[0]["ratio_min"], 0.1);
  EXPECT_EQ(lines[0]["ratio_max"], 0.3);
  EXPECT_EQ(lines[0]["samples"], 3);
  EXPECT_EQ(lines[0]["met"], false);
  EXPECT_EQ(lines[1]["ratio"], 0.8);
  EXPECT_EQ(lines[1]["met"], true);
  EXPECT_FALSE(lines[2].contains("ratio"));
  EXPECT_FALSE(lines[2].contains("met"));
  EXPECT_EQ(lines[2]["value"], 10);
}

}  // namespace
}  // namespace pc::testing
