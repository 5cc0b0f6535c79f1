// The consumer-group flags. In their own file so that only binaries calling
// GroupMembershipFromFlags() define them.
#include "absl/flags/flag.h"
#include "pc/kafka/group_membership.h"

ABSL_FLAG(std::string, consumer_instance_id, "",
          "Static consumer-group membership: a name unique per replica and stable across its "
          "restarts (Kubernetes: the pod name). A restarted replica then gets its partitions "
          "back at once instead of after --consumer_session_timeout. Empty: dynamic member");
ABSL_FLAG(absl::Duration, consumer_session_timeout, absl::Seconds(10),
          "How long the broker waits for a consumer's heartbeats before reassigning its "
          "partitions (6s–30m); also how long a static member that is gone for good keeps them");
ABSL_FLAG(absl::Duration, consumer_heartbeat_interval, absl::Seconds(1),
          "How often a consumer heartbeats (at most a third of the session timeout)");

namespace pc::kafka {

GroupMembership GroupMembershipFromFlags() {
  return {.instance_id = absl::GetFlag(FLAGS_consumer_instance_id),
          .session_timeout = absl::GetFlag(FLAGS_consumer_session_timeout),
          .heartbeat_interval = absl::GetFlag(FLAGS_consumer_heartbeat_interval)};
}

}  // namespace pc::kafka
