#include "pc/pipeline/outbox_metrics.h"

#include <algorithm>
#include <limits>

namespace pc::pipeline {

void RegisterOutboxMetrics(pc::runtime::Registry& registry, const pc::storage::OutboxRelay& relay,
                           pc::storage::Database& db, const pc::Clock& clock) {
  registry.AddGauge("pc_outbox_backlog", "Outbox rows not yet published.")
      .WithLabels()
      .SetCallback([&db] {
        return static_cast<double>(pc::storage::Outbox::Backlog(db).value_or(-1));
      });
  registry
      .AddGauge("pc_outbox_oldest_unsent_age_seconds",
                "Age of the oldest outbox row not yet published (0 when every row is sent).")
      .WithLabels()
      .SetCallback([&db, &clock] {
        absl::StatusOr<std::optional<absl::Time>> oldest = pc::storage::Outbox::OldestUnsent(db);
        if (!oldest.ok()) return std::numeric_limits<double>::quiet_NaN();
        if (!oldest->has_value()) return 0.0;
        return std::max(0.0, absl::ToDoubleSeconds(clock.Now() - **oldest));
      });
  registry
      .AddGauge("pc_outbox_relay_leader",
                "1 while this replica holds the relay lock and publishes the outbox.")
      .WithLabels()
      .SetCallback([&relay] { return relay.is_leader() ? 1.0 : 0.0; });
  registry.AddGauge("pc_outbox_published_rows", "Outbox rows published and marked sent since start.")
      .WithLabels()
      .SetCallback([&relay] { return static_cast<double>(relay.published_total()); });
  registry
      .AddGauge("pc_outbox_failed_deliveries",
                "Outbox rows whose delivery failed since start (they are published again).")
      .WithLabels()
      .SetCallback([&relay] { return static_cast<double>(relay.failed_total()); });
}

}  // namespace pc::pipeline
