#include "pc/kafka/group_membership.h"

#include "absl/strings/str_cat.h"

namespace pc::kafka {

absl::Status GroupMembership::Validate() const {
  if (session_timeout < absl::Seconds(6) || session_timeout > absl::Minutes(30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer session_timeout ", absl::FormatDuration(session_timeout),
                     " is outside the broker's bounds [6s, 30m]"));
  }
  if (heartbeat_interval <= absl::ZeroDuration() || heartbeat_interval * 3 > session_timeout) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer heartbeat_interval ", absl::FormatDuration(heartbeat_interval),
                     " must be positive and at most a third of the session timeout"));
  }
  if (instance_id.size() > 249) {
    return absl::InvalidArgumentError("consumer instance_id is longer than 249 bytes");
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> GroupMembership::Properties() const {
  std::map<std::string, std::string> properties = {
      {"session.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(session_timeout))},
      {"heartbeat.interval.ms", absl::StrCat(absl::ToInt64Milliseconds(heartbeat_interval))},
  };
  if (!instance_id.empty()) properties["group.instance.id"] = instance_id;
  return properties;
}

}  // namespace pc::kafka
