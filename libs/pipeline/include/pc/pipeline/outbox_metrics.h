// The outbox gauges every publishing service exposes: pc_outbox_backlog (unsent rows),
// pc_outbox_oldest_unsent_age_seconds (0 when none), pc_outbox_relay_leader (1 on the replica
// holding the relay lock), pc_outbox_published_rows and pc_outbox_failed_deliveries (rows
// that will be published again) since start.
//
//   pc::pipeline::RegisterOutboxMetrics(registry, relay, **db, clock);
#pragma once

#include "pc/common/clock.h"
#include "pc/runtime/metrics.h"
#include "pc/storage/database.h"
#include "pc/storage/outbox.h"

namespace pc::pipeline {

// `relay`, `db` and `clock` must stay alive while metrics are served. A database error reads
// as -1 (backlog) / NaN (age).
void RegisterOutboxMetrics(pc::runtime::Registry& registry, const pc::storage::OutboxRelay& relay,
                           pc::storage::Database& db, const pc::Clock& clock);

}  // namespace pc::pipeline
