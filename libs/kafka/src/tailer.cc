#include "pc/kafka/tailer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "pc/common/status_macros.h"
#include "pc/common/ids.h"
#include "rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace pc::kafka {

using internal::ErrorStatus;
using internal::PartitionListPtr;

namespace {

// One partition's low and high watermarks (first offset kept, offset of the next message).
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

}  // namespace

struct TopicTailer::Impl {
  TailerOptions options;
  Handler handler;
  rd_kafka_t* rk = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::thread thread;

  // The offset after the last handled message of each tailed partition (its start offset
  // until then). CatchUp waits on `advanced` for these to reach the end offsets.
  mutable absl::Mutex mu;
  std::vector<int64_t> next ABSL_GUARDED_BY(mu);
  // Serialises CatchUp callers (each may assign new partitions).
  absl::Mutex catch_up_mu;

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
        absl::MutexLock lock(&mu);
        if (m->partition >= 0 && m->partition < static_cast<int32_t>(next.size())) {
          next[m->partition] = std::max(next[m->partition], m->offset + 1);
        }
      }
      rd_kafka_message_destroy(m);
    }
  }

  // Tails partitions [next.size(), watermarks.size()) from their low watermark.
  absl::Status AssignFrom(const std::vector<Watermarks>& watermarks,
                          bool from_low) {
    const int have = [&] {
      absl::MutexLock lock(&mu);
      return static_cast<int>(next.size());
    }();
    const int want = static_cast<int>(watermarks.size());
    if (want <= have) return absl::OkStatus();
    PartitionListPtr assignment(rd_kafka_topic_partition_list_new(want - have));
    for (int32_t p = have; p < want; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), options.topic.c_str(), p)->offset =
          from_low ? watermarks[p].low : watermarks[p].high;
    }
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, assignment.get())) {
      absl::Status s = absl::InternalError(
          absl::StrCat("assign ", options.topic, ": ", rd_kafka_error_string(error)));
      rd_kafka_error_destroy(error);
      return s;
    }
    absl::MutexLock lock(&mu);
    for (int32_t p = have; p < want; ++p) {
      next.push_back(from_low ? watermarks[p].low : watermarks[p].high);
    }
    if (have > 0) {
      spdlog::info("kafka tailer: {} grew from {} to {} partitions; following the new ones "
                   "from their first offset", options.topic, have, want);
    }
    return absl::OkStatus();
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
  auto conf = internal::NewConf(options.security, props);
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

// Each partition's watermarks, via `rk`. A topic that was just created may not have leaders
// yet (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE, unknown topic): those answers are
// retried until `timeout`.
absl::StatusOr<std::vector<Watermarks>> QueryWatermarks(rd_kafka_t* rk, const std::string& topic,
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
      bool denied = false;
      for (int i = 0; i < metadata->topic_cnt; ++i) {
        if (topic != metadata->topics[i].topic) continue;
        if (metadata->topics[i].err == 0) partitions = metadata->topics[i].partition_cnt;
        denied = metadata->topics[i].err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
      }
      rd_kafka_metadata_destroy(metadata);
      if (denied) {  // an ACL question, not a broker that is still starting: no retries
        return internal::ErrorStatus(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                     absl::StrCat("describing ", topic));
      }
    }
    std::vector<Watermarks> marks;
    for (int32_t p = 0; p < partitions; ++p) {
      Watermarks w;
      err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &w.low, &w.high, left_ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        last = absl::UnavailableError(
            absl::StrCat("watermarks of ", topic, "[", p, "]: ", rd_kafka_err2str(err)));
        marks.clear();
        break;
      }
      marks.push_back(w);
    }
    if (partitions > 0 && static_cast<int>(marks.size()) == partitions) return marks;
    if (absl::Now() + absl::Milliseconds(200) >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // leader election backoff
  }
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& brokers,
                                                const Security& security,
                                                const std::string& topic, absl::Duration timeout) {
  auto conf = internal::NewConf(security, {{"bootstrap.servers", brokers},
                                 {"group.id", absl::StrCat("end-offsets-", pc::NewUuid())}});
  if (!conf.ok()) return conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!rk.ok()) return rk.status();
  absl::StatusOr<std::vector<Watermarks>> marks = QueryWatermarks(*rk, topic, timeout);
  rd_kafka_destroy(*rk);
  if (!marks.ok()) return marks.status();
  std::vector<int64_t> ends;
  for (const Watermarks& w : *marks) ends.push_back(w.high);
  return ends;
}

absl::Status TopicTailer::Start() {
  absl::MutexLock serial(&impl_->catch_up_mu);
  absl::StatusOr<std::vector<Watermarks>> marks =
      QueryWatermarks(impl_->rk, impl_->options.topic, impl_->options.start_timeout);
  if (!marks.ok()) return marks.status();
  PC_RETURN_IF_ERROR(impl_->AssignFrom(*marks, /*from_low=*/false));
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
  impl_->started = true;
  spdlog::info("kafka tailer: following {} ({} partitions) from the current end",
               impl_->options.topic, marks->size());
  return absl::OkStatus();
}

absl::Status TopicTailer::CatchUp(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock serial(&impl_->catch_up_mu);
  if (!impl_->started.load() || impl_->stopping.load()) {
    return absl::FailedPreconditionError("tailer not running");
  }
  absl::StatusOr<std::vector<Watermarks>> marks =
      QueryWatermarks(impl_->rk, impl_->options.topic, deadline - absl::Now());
  if (!marks.ok()) return marks.status();
  PC_RETURN_IF_ERROR(impl_->AssignFrom(*marks, /*from_low=*/true));
  auto caught_up = [&]() ABSL_SHARED_LOCKS_REQUIRED(impl_->mu) {
    if (impl_->stopping.load()) return true;
    for (size_t p = 0; p < marks->size(); ++p) {
      if (impl_->next[p] < (*marks)[p].high) return false;
    }
    return true;
  };
  absl::MutexLock lock(&impl_->mu);
  // The Run loop updates `next` under `mu`; re-check at least every 50 ms for Stop().
  while (!caught_up()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "tailer of ", impl_->options.topic, " not caught up within ",
          absl::FormatDuration(timeout)));
    }
    impl_->mu.AwaitWithTimeout(absl::Condition(&caught_up),
                               std::min(absl::Milliseconds(50), deadline - absl::Now()));
  }
  if (impl_->stopping.load()) return absl::CancelledError("tailer stopped");
  return absl::OkStatus();
}

int TopicTailer::partitions() const {
  absl::MutexLock lock(&impl_->mu);
  return static_cast<int>(impl_->next.size());
}

void TopicTailer::Stop() {
  if (!impl_) return;
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace pc::kafka
