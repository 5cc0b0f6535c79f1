#include "pc/pipeline/consumer_monitor.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace pc::pipeline {

absl::Status ConsumerReadiness(bool fatal, std::optional<absl::Time> unassigned_since,
                               absl::Time now, absl::Duration session_timeout,
                               const std::optional<pc::kafka::GroupStatus>& last_probe) {
  if (fatal) return absl::UnavailableError("kafka consumer hit a fatal error; restart it");
  if (unassigned_since.has_value() && now - *unassigned_since > session_timeout &&
      last_probe.has_value() && last_probe->unheld > 0) {
    return absl::UnavailableError(absl::StrCat(
        "kafka consumer has held no partition for ", absl::FormatDuration(now - *unassigned_since),
        " (session timeout ", absl::FormatDuration(session_timeout), ") while ",
        last_probe->unheld, " partition(s) of its group have no member"));
  }
  return absl::OkStatus();
}

ConsumerMonitor::ConsumerMonitor(const pc::kafka::KafkaConsumer& consumer,
                                 pc::runtime::Registry& registry, const pc::Clock& clock,
                                 ConsumerMonitorOptions options)
    : consumer_(consumer), clock_(clock), options_(options) {
  const std::string group = consumer.options().group_id;
  auto from_last = [this](auto field) {
    return [this, field] {
      absl::MutexLock lock(&mu_);
      return last_.has_value() ? static_cast<double>(field(*last_))
                               : std::numeric_limits<double>::quiet_NaN();
    };
  };
  registry
      .AddGauge("pc_consumer_group_lag",
                "Messages the consumer group has not handled yet, over every partition of its "
                "topics whoever holds them (end offset minus committed offset).",
                {"group"})
      .WithLabels({group})
      .SetCallback(from_last([](const pc::kafka::GroupStatus& s) { return s.lag; }));
  registry
      .AddGauge("pc_consumer_unheld_partitions",
                "Partitions of the group's topics that no group member holds.", {"group"})
      .WithLabels({group})
      .SetCallback(from_last([](const pc::kafka::GroupStatus& s) { return s.unheld; }));
  registry
      .AddGauge("pc_consumer_assigned_partitions", "Partitions assigned to this replica.",
                {"group"})
      .WithLabels({group})
      .SetCallback([this] { return static_cast<double>(consumer_.assigned_partitions()); });
  registry
      .AddGauge("pc_consumer_probe_age_seconds",
                "Seconds since the group's progress was last read from the brokers (+Inf "
                "before the first time).",
                {"group"})
      .WithLabels({group})
      .SetCallback([this] {
        absl::MutexLock lock(&mu_);
        return last_at_.has_value() ? absl::ToDoubleSeconds(clock_.Now() - *last_at_)
                                    : std::numeric_limits<double>::infinity();
      });
}

ConsumerMonitor::~ConsumerMonitor() { Stop(); }

void ConsumerMonitor::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void ConsumerMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ConsumerMonitor::Run() {
  absl::Status last_error;
  while (true) {
    absl::StatusOr<pc::kafka::GroupStatus> status = ProbeNow();
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      last_ = *std::move(status);
      last_at_ = clock_.Now();
      last_error = absl::OkStatus();
    } else if (status.status().code() != last_error.code()) {
      spdlog::warn("consumer monitor {}: {}", consumer_.options().group_id,
                   status.status().ToString());
      last_error = status.status();
    }
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.probe_interval)) return;
  }
}

absl::StatusOr<pc::kafka::GroupStatus> ConsumerMonitor::ProbeNow() const {
  return consumer_.ProbeGroup(options_.probe_timeout);
}

std::optional<pc::kafka::GroupStatus> ConsumerMonitor::last_probe() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

absl::Status ConsumerMonitor::Ready() const {
  return ConsumerReadiness(consumer_.fatal(), consumer_.unassigned_since(), clock_.Now(),
                           consumer_.options().membership.session_timeout, last_probe());
}

}  // namespace pc::pipeline
