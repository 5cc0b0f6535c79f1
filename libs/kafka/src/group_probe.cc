#include "group_probe.h"

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace pc::kafka::internal {
namespace {

using TopicPartition = std::pair<std::string, int32_t>;

int TimeoutMs(absl::Duration timeout) {
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
}

absl::StatusOr<int> PartitionCount(rd_kafka_t* rk, const std::string& topic,
                                   absl::Duration timeout) {
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt(
      rd_kafka_topic_new(rk, topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt.get(), &md, TimeoutMs(timeout))) {
    return ErrorStatus(err, absl::StrCat("metadata of ", topic));
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> owned(
      md, &rd_kafka_metadata_destroy);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorStatus(md->topic_cnt == 1 ? md->topics[0].err
                                          : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                       absl::StrCat("metadata of ", topic));
  }
  return md->topics[0].partition_cnt;
}

// Partitions some member of `group` holds now (empty while the group rebalances).
absl::StatusOr<std::set<TopicPartition>> HeldPartitions(rd_kafka_t* rk, const std::string& group,
                                                        absl::Duration timeout) {
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(
      rd_kafka_queue_new(rk), &rd_kafka_queue_destroy);
  std::unique_ptr<rd_kafka_AdminOptions_t, decltype(&rd_kafka_AdminOptions_destroy)> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS),
      &rd_kafka_AdminOptions_destroy);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), TimeoutMs(timeout), errstr,
                                            sizeof(errstr));
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> event(
      rd_kafka_queue_poll(queue.get(), TimeoutMs(timeout) + 1000), &rd_kafka_event_destroy);
  if (event == nullptr) return absl::DeadlineExceededError("describe group: no answer");
  if (rd_kafka_resp_err_t err = rd_kafka_event_error(event.get())) {
    return ErrorStatus(err, absl::StrCat("describe group: ",
                                         rd_kafka_event_error_string(event.get())));
  }
  const rd_kafka_DescribeConsumerGroups_result_t* result =
      rd_kafka_event_DescribeConsumerGroups_result(event.get());
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** descriptions =
      rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
  std::set<TopicPartition> held;
  for (size_t g = 0; g < count; ++g) {
    if (const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(descriptions[g])) {
      return ErrorStatus(rd_kafka_error_code(error), "describe group");
    }
    const size_t members = rd_kafka_ConsumerGroupDescription_member_count(descriptions[g]);
    for (size_t m = 0; m < members; ++m) {
      const rd_kafka_MemberDescription_t* member =
          rd_kafka_ConsumerGroupDescription_member(descriptions[g], m);
      const rd_kafka_topic_partition_list_t* parts =
          rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member));
      for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
        held.emplace(parts->elems[i].topic, parts->elems[i].partition);
      }
    }
  }
  return held;
}

}  // namespace

absl::StatusOr<GroupStatus> ProbeGroup(rd_kafka_t* rk, const std::string& group,
                                       const std::vector<std::string>& topics,
                                       const std::map<TopicPartition, int64_t>& handled_here,
                                       absl::Duration timeout) {
  const absl::Time start = absl::Now();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(8));
  for (const std::string& topic : topics) {
    absl::StatusOr<int> partitions = PartitionCount(rk, topic, timeout);
    if (!partitions.ok()) return partitions.status();
    for (int p = 0; p < *partitions; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
    }
  }
  const absl::Time listed = absl::Now();
  if (rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), TimeoutMs(timeout))) {
    return ErrorStatus(err, absl::StrCat("committed offsets of group ", group));
  }
  const absl::Time committed = absl::Now();
  absl::StatusOr<std::set<TopicPartition>> held = HeldPartitions(rk, group, timeout);
  if (!held.ok()) return held.status();
  const absl::Time described = absl::Now();
  GroupStatus status;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    int64_t low = 0, high = 0;
    if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk, p.topic, p.partition, &low, &high, TimeoutMs(timeout))) {
      return ErrorStatus(err, absl::StrCat("end offset of ", p.topic, "[", p.partition, "]"));
    }
    PartitionProgress progress{.topic = p.topic, .partition = p.partition, .end = high};
    progress.position = p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0 ? p.offset : low;
    if (auto it = handled_here.find({p.topic, p.partition}); it != handled_here.end()) {
      progress.position = std::max(progress.position, it->second);
      progress.held_here = true;
    }
    progress.held = held->contains({p.topic, p.partition}) || progress.held_here;
    status.lag += std::max<int64_t>(0, high - progress.position);
    status.unheld += progress.held ? 0 : 1;
    status.partitions.push_back(std::move(progress));
  }
  spdlog::debug("group probe {}: metadata {}, committed {}, describe {}, end offsets {}", group,
                absl::FormatDuration(listed - start), absl::FormatDuration(committed - listed),
                absl::FormatDuration(described - committed),
                absl::FormatDuration(absl::Now() - described));
  return status;
}

}  // namespace pc::kafka::internal
