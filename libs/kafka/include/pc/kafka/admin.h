// Topic administration and the per-cloud topic names of design.md §4.
//
//   PC_RETURN_IF_ERROR(pc::kafka::CreateTopics(brokers, pc::kafka::CloudTopics("global"), 3, 1));
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pc::kafka {

// partnercenter.<cloud>.invitation-events.v1 and friends.
std::string InvitationTopic(const std::string& cloud);
std::string RelationshipTopic(const std::string& cloud);
std::string DeadLetterTopic(const std::string& cloud);
// The three topics above for `cloud`.
std::vector<std::string> CloudTopics(const std::string& cloud);

// Creates the topics that do not exist yet (existing ones are left as they are).
absl::Status CreateTopics(const std::string& brokers, const std::vector<std::string>& topics,
                          int partitions, int replication_factor,
                          absl::Duration timeout = absl::Seconds(30));

// Raises `topic` to `total` partitions (INVALID_ARGUMENT from the broker if it already has
// as many or more). Keys hashed to a partition before may map elsewhere afterwards.
absl::Status AddPartitions(const std::string& brokers, const std::string& topic, int total,
                           absl::Duration timeout = absl::Seconds(30));

}  // namespace pc::kafka
