// How a group consumer belongs to its group: static membership and the failure-detection
// timeouts (librdkafka's group.instance.id, session.timeout.ms, heartbeat.interval.ms).
//
// With an instance id, a member that restarts under the same id gets its partitions back at
// once, without a rebalance: the broker swaps the new connection in for the old member. Without
// one, a member killed with kill -9 keeps its partitions until its session times out.
//
//   pc::kafka::ConsumerOptions options{...};
//   options.membership = pc::kafka::GroupMembershipFromFlags();   // --consumer_instance_id, …
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pc::kafka {

struct GroupMembership {
  // Static membership when non-empty: unique per replica and stable across its restarts (the
  // pod name in Kubernetes). Empty: a dynamic member.
  std::string instance_id = {};
  // How long the broker waits for heartbeats before it gives the member's partitions to
  // others. Also how long a static member that stops for good (scale-down, rollout) keeps
  // its partitions unread: static members do not leave the group on close (KIP-345).
  absl::Duration session_timeout = absl::Seconds(10);
  absl::Duration heartbeat_interval = absl::Seconds(1);

  // INVALID_ARGUMENT naming the bad field: heartbeat below session / 3, session outside the
  // broker's default bounds [6 s, 30 min], an instance id longer than 249 bytes.
  absl::Status Validate() const;
  // The librdkafka properties that carry it.
  std::map<std::string, std::string> Properties() const;
};

// From --consumer_instance_id (env PC_CONSUMER_INSTANCE_ID), --consumer_session_timeout and
// --consumer_heartbeat_interval. The flags are defined only in binaries that call this.
GroupMembership GroupMembershipFromFlags();

}  // namespace pc::kafka
