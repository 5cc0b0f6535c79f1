// Reads a consumer group's progress from the brokers (internal to the consumer).
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/kafka/consumer.h"

namespace pc::kafka::internal {

// For every partition of `topics`: the end offset, the group's committed offset (or the low
// watermark if nothing is committed: auto.offset.reset=earliest) raised to `handled_here` where
// this member has handled further, and whether any member of the group holds it now. One
// metadata request, one OffsetFetch, one ListOffsets per partition and one DescribeGroups.
absl::StatusOr<GroupStatus> ProbeGroup(
    rd_kafka_t* rk, const std::string& group, const std::vector<std::string>& topics,
    const std::map<std::pair<std::string, int32_t>, int64_t>& handled_here,
    absl::Duration timeout);

}  // namespace pc::kafka::internal
