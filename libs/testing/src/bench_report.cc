#include "pc/testing/bench_report.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace pc::testing {
namespace {

// ">=0.5" → ('>', 0.5); nullopt if malformed.
std::optional<std::pair<char, double>> ParseGoal(const std::string& goal) {
  if (goal.size() < 3 || (goal.rfind(">=", 0) != 0 && goal.rfind("<=", 0) != 0)) {
    return std::nullopt;
  }
  double bound = 0;
  if (!absl::SimpleAtod(goal.substr(2), &bound)) return std::nullopt;
  return std::make_pair(goal[0], bound);
}

}  // namespace

RatioSummary Summarize(std::vector<double> ratios) {
  std::sort(ratios.begin(), ratios.end());
  return {.median = ratios[ratios.size() / 2], .min = ratios.front(), .max = ratios.back()};
}

bool BenchQuick(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--quick") return true;
  const char* env = std::getenv("PC_BENCH_QUICK");
  return env != nullptr && *env != '\0';
}

double Percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(q * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, rank)];
}

absl::StatusOr<AbRuns> RunAbPairs(int pairs, const std::function<absl::StatusOr<double>()>& a,
                                  const std::function<absl::StatusOr<double>()>& b) {
  AbRuns runs;
  for (int pair = -1; pair < pairs; ++pair) {
    absl::StatusOr<double> va = a();
    if (!va.ok()) return va.status();
    absl::StatusOr<double> vb = b();
    if (!vb.ok()) return vb.status();
    if (pair < 0) continue;  // warm-up
    runs.a.push_back(*va);
    runs.b.push_back(*vb);
    runs.ratios.push_back(*vb / *va);
  }
  return runs;
}

bool GoalMet(const std::string& goal, double ratio) {
  if (goal.empty()) return true;
  const auto parsed = ParseGoal(goal);
  if (!parsed) return false;
  return parsed->first == '>' ? ratio >= parsed->second : ratio <= parsed->second;
}

absl::Status AppendBenchFigure(const BenchFigure& f) {
  if (f.ratios.empty() && !f.goal.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(f.id, ": a goal without ratios"));
  }
  if (!f.goal.empty() && !ParseGoal(f.goal)) {
    return absl::InvalidArgumentError(absl::StrCat(f.id, ": goal \"", f.goal,
                                                   "\" is not >=x or <=x"));
  }
  const char* path = std::getenv("PC_BENCH_JSON");
  if (path == nullptr || *path == '\0') return absl::OkStatus();
  nlohmann::json line = {{"id", f.id},     {"title", f.title}, {"value", f.value},
                         {"unit", f.unit}, {"goal", f.goal},   {"note", f.note},
                         {"samples", f.ratios.size()}};
  if (!f.ratios.empty()) {  // otherwise a figure reported for information, without a ratio
    const RatioSummary s = Summarize(f.ratios);
    const double ratio = f.ratio.value_or(s.median);
    line["baseline"] = f.baseline;
    line["ratio"] = ratio;
    line["ratio_min"] = s.min;
    line["ratio_max"] = s.max;
    if (!f.goal.empty()) line["met"] = GoalMet(f.goal, ratio);
  }
  std::ofstream out(path, std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("cannot append to ", path));
  return absl::OkStatus();
}

}  // namespace pc::testing
