// Topic administration and the per-cloud topic names of design.md §4.
//
//   PC_RETURN_IF_ERROR(
//       pc::kafka::CreateTopics(brokers, security, pc::kafka::CloudTopics("global"), 3, 1));
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/security.h"

namespace pc::kafka {

// partnercenter.<cloud>.invitation-events.v1 and friends.
std::string InvitationTopic(const std::string& cloud);
std::string RelationshipTopic(const std::string& cloud);
std::string DeadLetterTopic(const std::string& cloud);
// The three topics above for `cloud`.
std::vector<std::string> CloudTopics(const std::string& cloud);

// Creates the topics that do not exist yet (existing ones are left as they are).
// Admin calls need a principal allowed to create / alter topics (the super user locally).
absl::Status CreateTopics(const std::string& brokers, const Security& security,
                          const std::vector<std::string>& topics,
                          int partitions, int replication_factor,
                          absl::Duration timeout = absl::Seconds(30));

// Raises `topic` to `total` partitions (INVALID_ARGUMENT from the broker if it already has
// as many or more). Keys hashed to a partition before may map elsewhere afterwards.
absl::Status AddPartitions(const std::string& brokers, const Security& security,
                           const std::string& topic, int total,
                           absl::Duration timeout = absl::Seconds(30));

// Messages `topic` holds now: the sum over its partitions of high − low watermark (records
// deleted by retention are not counted; transaction markers would be). NOT_FOUND for an
// unknown topic.
absl::StatusOr<int64_t> TopicMessageCount(const std::string& brokers, const Security& security,
                                          const std::string& topic,
                                          absl::Duration timeout = absl::Seconds(30));

// One ALLOW ACL: `principal` (e.g. "User:relationship") may do `operation` (Kafka's name:
// Read, Write, Describe, IdempotentWrite, Create, Alter, ...) on a resource, from any host.
struct AclBinding {
  std::string resource_type = "topic";  // topic | group | cluster
  std::string resource_name = {};       // "kafka-cluster" for the cluster
  bool prefixed = false;                // PREFIXED instead of LITERAL resource pattern
  std::string principal = {};
  std::string operation = {};
};

// Adds `acls` in one CreateAcls request (needs a principal allowed to alter the cluster:
// the super user). Existing identical ACLs are kept. INVALID_ARGUMENT for an unknown
// resource type or operation, else the broker's error for the first ACL it refused.
absl::Status CreateAcls(const std::string& brokers, const Security& security,
                        const std::vector<AclBinding>& acls,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace pc::kafka
