#include "pc/runtime/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

[[noreturn]] void Die(const std::string& why) {
  spdlog::critical("metrics: {}", why);
  spdlog::default_logger()->flush();
  std::abort();
}

bool IsValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

std::string Escape(const std::string& s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` (or "" without labels), with an optional extra label such as le.
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", Escape(values[i], true),
                    "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  return out.empty() ? out : absl::StrCat("{", out, "}");
}

template <typename Metric>
constexpr const char* TypeName();
template <>
constexpr const char* TypeName<Counter>() { return "counter"; }
template <>
constexpr const char* TypeName<Gauge>() { return "gauge"; }
template <>
constexpr const char* TypeName<Histogram>() { return "histogram"; }

void RenderChild(const std::string& name, const std::vector<std::string>& label_names,
                 const std::vector<std::string>& values, const Counter& c, std::string* out) {
  absl::StrAppend(out, name, Labels(label_names, values), " ", FormatValue(c.Value()), "\n");
}

void RenderChild(const std::string& name, const std::vector<std::string>& label_names,
                 const std::vector<std::string>& values, const Gauge& g, std::string* out) {
  absl::StrAppend(out, name, Labels(label_names, values), " ", FormatValue(g.Value()), "\n");
}

void RenderChild(const std::string& name, const std::vector<std::string>& label_names,
                 const std::vector<std::string>& values, const Histogram& h, std::string* out) {
  Histogram::Snapshot s = h.Get();
  for (size_t i = 0; i < s.bounds.size(); ++i) {
    absl::StrAppend(out, name, "_bucket", Labels(label_names, values, "le", FormatValue(s.bounds[i])),
                    " ", s.cumulative_counts[i], "\n");
  }
  absl::StrAppend(out, name, "_bucket", Labels(label_names, values, "le", "+Inf"), " ", s.count,
                  "\n");
  absl::StrAppend(out, name, "_sum", Labels(label_names, values), " ", FormatValue(s.sum), "\n");
  absl::StrAppend(out, name, "_count", Labels(label_names, values), " ", s.count, "\n");
}

}  // namespace

void Counter::Increment(double by) {
  if (by < 0) Die("counter increment must not be negative");
  value_.fetch_add(by, std::memory_order_relaxed);
}

void Gauge::Set(double value) {
  std::lock_guard lock(mu_);
  value_ = value;
}

void Gauge::Add(double delta) {
  std::lock_guard lock(mu_);
  value_ += delta;
}

void Gauge::SetCallback(std::function<double()> read) {
  std::lock_guard lock(mu_);
  read_ = std::move(read);
}

double Gauge::Value() const {
  std::function<double()> read;
  {
    std::lock_guard lock(mu_);
    if (!read_) return value_;
    read = read_;
  }
  return read();
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    Die("histogram bounds must be strictly ascending");
  }
}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[bucket];
  ++count_;
  sum_ += value;
}

Histogram::Snapshot Histogram::Get() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += counts_[i];
    s.cumulative_counts.push_back(running);
  }
  s.count = count_;
  s.sum = sum_;
  return s;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      make_(std::move(make)) {}

template <typename Metric>
Metric& Family<Metric>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    Die(absl::StrCat(name_, " takes ", label_names_.size(), " label values, got ",
                     label_values.size()));
  }
  std::lock_guard lock(mu_);
  std::unique_ptr<Metric>& child = children_[label_values];
  if (!child) child = make_();
  return *child;
}

template <typename Metric>
void Family<Metric>::Render(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", Escape(help_, false), "\n", "# TYPE ", name_, " ",
                  TypeName<Metric>(), "\n");
  std::vector<std::pair<std::vector<std::string>, const Metric*>> children;
  {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) children.emplace_back(values, child.get());
  }
  // Outside the lock: a gauge callback may be slow or touch this family.
  for (const auto& [values, child] : children) {
    RenderChild(name_, label_names_, values, *child, out);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct Registry::Entry {
  const std::type_info* type;
  std::vector<std::string> label_names;
  std::shared_ptr<void> family;
  std::function<void(std::string*)> render;
};

Registry& Registry::Default() {
  static auto* registry = new Registry();
  return *registry;
}

template <typename Metric>
Family<Metric>& Registry::Add(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names,
                              std::function<std::unique_ptr<Metric>()> make) {
  if (!IsValidName(name, /*allow_colon=*/true)) Die(absl::StrCat("bad metric name '", name, "'"));
  for (const std::string& label : label_names) {
    if (!IsValidName(label, false) || label == "le") {
      Die(absl::StrCat("bad label name '", label, "' for ", name));
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (*it->second->type != typeid(Metric) || it->second->label_names != label_names) {
      Die(absl::StrCat("metric ", name, " registered twice with different type or labels"));
    }
    return *std::static_pointer_cast<Family<Metric>>(it->second->family);
  }
  auto family = std::make_shared<Family<Metric>>(name, help, label_names, std::move(make));
  auto entry = std::make_shared<Entry>();
  entry->type = &typeid(Metric);
  entry->label_names = std::move(label_names);
  entry->family = family;
  entry->render = [f = family.get()](std::string* out) { f->Render(out); };
  families_[name] = entry;
  return *family;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  return Add<Counter>(name, help, std::move(label_names),
                      [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, std::move(label_names), [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  Histogram check(bounds);  // dies here, at registration, on bad bounds
  return Add<Histogram>(name, help, std::move(label_names),
                        [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
}

std::string Registry::Render() const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, entry] : families_) entries.push_back(entry);
  }
  std::string out;
  for (const auto& entry : entries) entry->render(&out);
  return out;
}

}  // namespace pc::runtime
