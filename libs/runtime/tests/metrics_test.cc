#include "pc/runtime/metrics.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/runtime/logging.h"

namespace pc::runtime {
namespace {

TEST(MetricsTest, RendersCounterWithEscapedLabels) {
  Registry registry;
  auto& published = registry.AddCounter("pc_published_total", "Events published.\nPer topic.",
                                        {"topic", "cloud"});
  published.WithLabels({"b", "global"}).Increment();
  published.WithLabels({"a\"x\\y\nz", "usgov"}).Increment(2.5);
  published.WithLabels({"b", "global"}).Increment(1234567);
  EXPECT_EQ(registry.Render(),
            "# HELP pc_published_total Events published.\\nPer topic.\n"
            "# TYPE pc_published_total counter\n"
            "pc_published_total{topic=\"a\\\"x\\\\y\\nz\",cloud=\"usgov\"} 2.5\n"
            "pc_published_total{topic=\"b\",cloud=\"global\"} 1234568\n");
}

TEST(MetricsTest, RendersGaugesIncludingCallbacks) {
  Registry registry;
  auto& lag = registry.AddGauge("pc_consumer_lag", "Messages behind.", {"partition"});
  lag.WithLabels({"0"}).Set(7);
  lag.WithLabels({"1"}).Set(3);
  lag.WithLabels({"1"}).Add(-1.5);
  double backlog = 42;
  registry.AddGauge("pc_outbox_backlog", "Rows not yet published.").WithLabels().SetCallback([&] {
    return backlog;
  });
  std::string before = registry.Render();
  backlog = 0;
  EXPECT_EQ(before,
            "# HELP pc_consumer_lag Messages behind.\n"
            "# TYPE pc_consumer_lag gauge\n"
            "pc_consumer_lag{partition=\"0\"} 7\n"
            "pc_consumer_lag{partition=\"1\"} 1.5\n"
            "# HELP pc_outbox_backlog Rows not yet published.\n"
            "# TYPE pc_outbox_backlog gauge\n"
            "pc_outbox_backlog 42\n");
  EXPECT_THAT(registry.Render(), ::testing::HasSubstr("pc_outbox_backlog 0\n"));
}

TEST(MetricsTest, RendersHistogramWithCumulativeBuckets) {
  Registry registry;
  auto& latency = registry.AddHistogram("pc_call_seconds", "Call latency.", {"method"},
                                        {0.125, 0.5, 1});
  auto& get = latency.WithLabels({"Get"});
  get.Observe(0.0625);
  get.Observe(0.125);  // on a bound: counts in that bucket (le is inclusive)
  get.Observe(0.75);
  get.Observe(3);
  EXPECT_EQ(registry.Render(),
            "# HELP pc_call_seconds Call latency.\n"
            "# TYPE pc_call_seconds histogram\n"
            "pc_call_seconds_bucket{method=\"Get\",le=\"0.125\"} 2\n"
            "pc_call_seconds_bucket{method=\"Get\",le=\"0.5\"} 2\n"
            "pc_call_seconds_bucket{method=\"Get\",le=\"1\"} 3\n"
            "pc_call_seconds_bucket{method=\"Get\",le=\"+Inf\"} 4\n"
            "pc_call_seconds_sum{method=\"Get\"} 3.9375\n"
            "pc_call_seconds_count{method=\"Get\"} 4\n");
}

TEST(MetricsTest, SameNameTwiceReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.AddCounter("pc_x_total", "X.", {"k"});
  auto& b = registry.AddCounter("pc_x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsDeathTest, MisuseAborts) {
  SetupLogging("test", LogFormat::kText, spdlog::level::info);  // stderr, as in services
  Registry registry;
  registry.AddCounter("pc_x_total", "X.", {"k"});
  EXPECT_DEATH(registry.AddGauge("pc_x_total", "X.", {"k"}), "different type or labels");
  EXPECT_DEATH(registry.AddCounter("pc_x_total", "X.", {"k"}).WithLabels({"a", "b"}),
               "takes 1 label values");
  EXPECT_DEATH(registry.AddCounter("bad-name", "X."), "bad metric name");
}

TEST(MetricsTest, ConcurrentIncrementsAllCount) {
  Registry registry;
  auto& family = registry.AddCounter("pc_hits_total", "Hits.", {"worker"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.WithLabels({"w"}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.WithLabels({"w"}).Value(), 40000);
}

}  // namespace
}  // namespace pc::runtime
