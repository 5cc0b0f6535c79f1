// A small, thread-safe Prometheus registry: counters, gauges (set, or read by a callback at
// scrape time) and fixed-bucket histograms, each a family with label names. Render() gives
// the text exposition format (version 0.0.4) that the admin server serves on /metrics.
//
//   auto& published = pc::runtime::Registry::Default().AddCounter(
//       "pc_outbox_published_total", "Events the relay published.", {"topic"});
//   published.WithLabels({topic}).Increment();
//
//   pc::runtime::Registry::Default()
//       .AddGauge("pc_outbox_backlog", "Outbox rows not yet published.")
//       .WithLabels()
//       .SetCallback([&relay] { return relay.Backlog(); });   // relay must outlive scrapes
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pc::runtime {

// A value that only goes up.
class Counter {
 public:
  // Adds `by` (must be >= 0).
  void Increment(double by = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down, or is computed by a callback when scraped.
class Gauge {
 public:
  void Set(double value);
  void Add(double delta);
  // From now on Value() calls `read` (nullptr goes back to the stored value). `read` must be
  // cheap, thread-safe and valid until it is replaced or the process stops serving metrics.
  void SetCallback(std::function<double()> read);
  double Value() const;

 private:
  mutable std::mutex mu_;
  double value_ = 0;
  std::function<double()> read_;
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Get() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Buckets for latencies in seconds: 5ms … 10s.
std::vector<double> DefaultLatencyBuckets();

// One metric name with its label names; one child per distinct set of label values.
template <typename Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make);
  // The child for `label_values` (one per label name, in order), created on first use.
  Metric& WithLabels(const std::vector<std::string>& label_values = {});
  // Appends this family in exposition format to `out`.
  void Render(std::string* out) const;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

// A set of families rendered together. Adding a name twice with the same type and label
// names returns the existing family; a clash of type or labels is a programming error and
// aborts.
class Registry {
 public:
  // The process-wide registry services and the runtime use.
  static Registry& Default();

  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = DefaultLatencyBuckets());

  // All families, sorted by name, in Prometheus text format 0.0.4.
  std::string Render() const;

 private:
  struct Entry;
  template <typename Metric>
  Family<Metric>& Add(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names,
                      std::function<std::unique_ptr<Metric>()> make);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> families_;
};

}  // namespace pc::runtime
