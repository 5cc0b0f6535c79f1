#include "pc/kafka/tailer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pc/common/ids.h"
#include "rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace pc::kafka {

using internal::ErrorStatus;
using internal::PartitionListPtr;

struct TopicTailer::Impl {
  TailerOptions options;
  Handler handler;
  rd_kafka_t* rk = nullptr;
  std::atomic<bool> stopping{false};
  std::thread thread;

  ~Impl() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }

  void Run() {
    while (!stopping.load()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) continue;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::warn("kafka tailer {}: {}: {}", options.topic, rd_kafka_err2name(m->err),
                       rd_kafka_message_errstr(m));
        }
      } else {
        handler(internal::ToConsumedMessage(*m));
      }
      rd_kafka_message_destroy(m);
    }
  }
};

TopicTailer::TopicTailer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TopicTailer::~TopicTailer() { Stop(); }

absl::StatusOr<std::unique_ptr<TopicTailer>> TopicTailer::Create(const TailerOptions& options,
                                                                 Handler handler) {
  if (options.brokers.empty() || options.topic.empty()) {
    return absl::InvalidArgumentError("TopicTailer needs brokers and a topic");
  }
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      // librdkafka's consumer API needs a group id even for manual assignment; it is unique
      // and never committed to.
      {"group.id", absl::StrCat("tailer-", pc::NewUuid())},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", "latest"},
      {"fetch.wait.max.ms", "50"},
  };
  for (const auto& [k, v] : options.extra) props[k] = v;
  auto conf = internal::NewConf(props);
  if (!conf.ok()) return conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!rk.ok()) return rk.status();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->rk = *rk;
  return std::unique_ptr<TopicTailer>(new TopicTailer(std::move(impl)));
}

namespace {

// Each partition's high watermark (the offset the next message will get), via `rk`. A topic
// that was just created may not have leaders yet (NOT_LEADER_FOR_PARTITION,
// LEADER_NOT_AVAILABLE, unknown topic): those answers are retried until `timeout`.
absl::StatusOr<std::vector<int64_t>> QueryEndOffsets(rd_kafka_t* rk, const std::string& topic,
                                                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::UnavailableError(absl::StrCat("topic ", topic, " not found"));
  while (true) {
    const int left_ms =
        std::max(1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &metadata, left_ms);
    rd_kafka_topic_destroy(rkt);
    int partitions = 0;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last = absl::UnavailableError(
          absl::StrCat("metadata for ", topic, ": ", rd_kafka_err2str(err)));
    } else {
      for (int i = 0; i < metadata->topic_cnt; ++i) {
        if (topic == metadata->topics[i].topic && metadata->topics[i].err == 0) {
          partitions = metadata->topics[i].partition_cnt;
        }
      }
      rd_kafka_metadata_destroy(metadata);
    }
    std::vector<int64_t> ends;
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t low = 0, high = 0;
      err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, left_ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        last = absl::UnavailableError(
            absl::StrCat("watermarks of ", topic, "[", p, "]: ", rd_kafka_err2str(err)));
        ends.clear();
        break;
      }
      ends.push_back(high);
    }
    if (partitions > 0 && static_cast<int>(ends.size()) == partitions) return ends;
    if (absl::Now() + absl::Milliseconds(200) >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // leader election backoff
  }
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& brokers,
                                                const std::string& topic, absl::Duration timeout) {
  auto conf = internal::NewConf({{"bootstrap.servers", brokers},
                                 {"group.id", absl::StrCat("end-offsets-", pc::NewUuid())}});
  if (!conf.ok()) return conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!rk.ok()) return rk.status();
  absl::StatusOr<std::vector<int64_t>> ends = QueryEndOffsets(*rk, topic, timeout);
  rd_kafka_destroy(*rk);
  return ends;
}

absl::Status TopicTailer::Start() {
  rd_kafka_t* rk = impl_->rk;
  const std::string& topic = impl_->options.topic;
  absl::StatusOr<std::vector<int64_t>> ends =
      QueryEndOffsets(rk, topic, impl_->options.start_timeout);
  if (!ends.ok()) return ends.status();
  const int partitions = static_cast<int>(ends->size());
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = (*ends)[p];
  }
  if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, assignment.get())) {
    absl::Status s = absl::InternalError(
        absl::StrCat("assign ", topic, ": ", rd_kafka_error_string(error)));
    rd_kafka_error_destroy(error);
    return s;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
  spdlog::info("kafka tailer: following {} ({} partitions) from the current end", topic,
               partitions);
  return absl::OkStatus();
}

void TopicTailer::Stop() {
  if (!impl_) return;
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace pc::kafka
