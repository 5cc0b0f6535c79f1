#include "pc/kafka/consumer.h"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "group_probe.h"
#include "pc/common/failpoint.h"
#include "rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace pc::kafka {
namespace {

using internal::ErrorStatus;
using internal::ToConsumedMessage;
using internal::PartitionListPtr;
using TopicPartition = std::pair<std::string, int32_t>;

PartitionListPtr OnePartition(const ConsumedMessage& message, int64_t offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), message.topic.c_str(), message.partition)->offset =
      offset;
  return list;
}

}  // namespace

struct ConsumerState;
// A consumer handle for `options` whose callbacks reach `state` (not subscribed yet).
absl::StatusOr<rd_kafka_t*> NewConsumerHandle(const ConsumerOptions& options,
                                              ConsumerState* state);
rd_kafka_resp_err_t Subscribe(rd_kafka_t* rk, const std::vector<std::string>& topics);

bool IsPermanentHandlerError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

// Everything the poll thread touches. Shared with that thread so that a close abandoned by
// Stop() can finish (or hang) without touching freed memory.
struct ConsumerState {
  ConsumerOptions options;
  MessageHandler handler;
  BatchHandler batch_handler;
  Publisher* dead_letter = nullptr;
  ConsumerHooks hooks;
  rd_kafka_t* rk = nullptr;
  // ProbeGroup's own handle (same group id, never subscribes): its requests do not queue
  // behind the consumer's fetch long-polls on the same broker connections (up to
  // fetch.wait.max.ms each).
  rd_kafka_t* probe_rk = nullptr;
  std::map<std::string, std::string> effective_config;
  std::atomic<bool> stopping{false};
  std::atomic<bool> fatal{false};
  // Held by ProbeGroup() while it uses rk, and by Close() before it destroys rk.
  std::mutex probe_mu;

  std::mutex mu;
  std::condition_variable wake;            // Stop() was called
  std::vector<TopicPartition> assignment;  // guarded by mu
  bool closing = false;                    // guarded by mu; rk must not be used by Lag()
  // Guarded by mu. First offset of each assigned partition not yet handled: the position for
  // Lag() (librdkafka forgets it on a seek) and the mark below which a message is a stale
  // redelivery (librdkafka 2.0.2 can hand out a prefetched message twice around a seek).
  std::map<TopicPartition, int64_t> next_offset;
  // Guarded by mu: since when no partition is assigned (nullopt while some are).
  std::optional<absl::Time> unassigned_since = absl::Now();
  // Poll thread only (every callback runs there): the session timed out and took the
  // assignment, and no new one came yet; a FENCED_INSTANCE_ID now is this member's own
  // stale request (ReportFatal), and `recreate` asks the poll loop for a new handle.
  bool assignment_lost = false;
  bool recreate = false;

  void Run() {
    const bool batching = batch_handler && options.max_batch > 1;
    while (!stopping.load()) {
      if (recreate) Recreate();
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) continue;
      if (!batching) {
        if (m->err) {
          LogError(*m);
        } else {
          Handle(ToConsumedMessage(*m));
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      // Take what is already fetched, up to max_batch, without waiting for more.
      std::vector<ConsumedMessage> batch;
      while (m != nullptr) {
        if (m->err) {
          LogError(*m);
        } else {
          ConsumedMessage message = ToConsumedMessage(*m);
          if (message.offset >= NextOffset(message, message.offset)) {
            batch.push_back(std::move(message));
          }
        }
        rd_kafka_message_destroy(m);
        m = static_cast<int>(batch.size()) < options.max_batch ? rd_kafka_consumer_poll(rk, 0)
                                                               : nullptr;
      }
      if (!batch.empty()) HandleBatch(batch);
    }
  }

  void LogError(const rd_kafka_message_t& m) {
    // A consumer's fatal error arrives here, as a message error, not through the error_cb.
    if (m.err == RD_KAFKA_RESP_ERR__FATAL) {
      ReportFatal();
      return;
    }
    spdlog::warn("kafka consumer {}: {}: {}", options.group_id, rd_kafka_err2name(m.err),
                 rd_kafka_message_errstr(&m));
  }

  void ReportFatal() {
    if (recreate || fatal.load()) return;  // reported already
    char reason[512];
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, reason, sizeof(reason));
    // librdkafka 2.0.2 resets a static member's id when its session times out (the broker
    // away for longer than the session) but still sends the commits queued before; the
    // broker, back, fences them. No other process holds the id: a new handle rejoins under
    // it (found by tests/fault; BrokerOutageTest).
    if (cause == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID && assignment_lost) {
      spdlog::warn("kafka consumer {}: fenced by its own stale request after its session timed "
                   "out ({}); rejoining with a new consumer handle",
                   options.group_id, reason);
      recreate = true;
      return;
    }
    spdlog::critical("kafka consumer {}: fatal {}: {}; the consumer cannot recover, restart "
                     "the process", options.group_id, rd_kafka_err2name(cause), reason);
    fatal = true;
    if (hooks.on_fatal) hooks.on_fatal();
  }

  // Replaces the fenced handle with a new one under the same instance id (ReportFatal).
  void Recreate() {
    recreate = false;
    absl::StatusOr<rd_kafka_t*> fresh = NewConsumerHandle(options, this);
    if (!fresh.ok()) {
      spdlog::critical("kafka consumer {}: cannot replace the fenced handle: {}", options.group_id,
                       fresh.status().ToString());
      fatal = true;
      if (hooks.on_fatal) hooks.on_fatal();
      return;
    }
    rd_kafka_consumer_close(rk);  // fatal already: it returns at once
    {
      std::scoped_lock lock(probe_mu, mu);
      rd_kafka_destroy(rk);
      rk = *fresh;
      next_offset.clear();
      assignment.clear();
    }
    assignment_lost = false;
    if (rd_kafka_resp_err_t err = Subscribe(rk, options.topics)) {
      spdlog::critical("kafka consumer {}: subscribing the new handle: {}", options.group_id,
                       rd_kafka_err2str(err));
      fatal = true;
      if (hooks.on_fatal) hooks.on_fatal();
      return;
    }
    spdlog::info("kafka consumer {}: rejoining with a new handle", options.group_id);
  }

  void HandleBatch(const std::vector<ConsumedMessage>& batch) {
    const absl::Status status = batch_handler(batch);
    if (status.ok()) {
      for (const ConsumedMessage& message : batch) {
        StoreOffset(message);
        if (hooks.on_handled) hooks.on_handled(message, status);
      }
      return;
    }
    // One message at a time, so each gets its own outcome. After a partition is rewound (a
    // transient failure), its later messages come again from the broker: skip them here.
    spdlog::debug("kafka consumer {}: batch of {} failed ({}); one at a time", options.group_id,
                  batch.size(), status.ToString());
    std::set<TopicPartition> rewound;
    for (const ConsumedMessage& message : batch) {
      if (stopping.load()) return;
      if (rewound.contains({message.topic, message.partition})) continue;
      Handle(message);
      if (NextOffset(message, message.offset) <= message.offset) {
        rewound.insert({message.topic, message.partition});
      }
    }
  }

  void Handle(const ConsumedMessage& message) {
    if (message.offset < NextOffset(message, message.offset)) {
      spdlog::debug("kafka consumer {}: skipping redelivered {}[{}]@{}", options.group_id,
                    message.topic, message.partition, message.offset);
      return;
    }
    absl::Status status = handler(message);
    if (status.ok()) {
      StoreOffset(message);
      if (hooks.on_handled) hooks.on_handled(message, status);
      return;
    }
    if (IsPermanentHandlerError(status)) {
      spdlog::warn("kafka consumer {}: {}[{}]@{} failed permanently: {}", options.group_id,
                   message.topic, message.partition, message.offset, status.ToString());
      const absl::Status dead_lettered = DeadLetter(message, status);
      if (dead_lettered.ok()) {
        StoreOffset(message);
        if (hooks.on_handled) hooks.on_handled(message, status);
        if (hooks.on_dead_lettered && !options.dead_letter_topic.empty()) {
          hooks.on_dead_lettered(message, status);
        }
        return;
      }
      spdlog::error("kafka consumer {}: dead-lettering {}[{}]@{} failed, will retry: {}",
                    options.group_id, message.topic, message.partition, message.offset,
                    dead_lettered.ToString());
    } else {
      spdlog::warn("kafka consumer {}: {}[{}]@{} failed, retrying in {}: {}", options.group_id,
                   message.topic, message.partition, message.offset,
                   absl::FormatDuration(options.retry_backoff), status.ToString());
    }
    PartitionListPtr rewind = OnePartition(message, message.offset);
    if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk, rewind.get(), 5000)) {
      spdlog::error("kafka consumer {}: seek back to {}[{}]@{}: {}", options.group_id,
                    message.topic, message.partition, message.offset, rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    NextOffset(message, message.offset, message.offset);
    if (hooks.on_handled) hooks.on_handled(message, status);
    std::unique_lock lock(mu);
    wake.wait_for(lock, absl::ToChronoNanoseconds(options.retry_backoff),
                  [&] { return stopping.load(); });
  }

  absl::Status DeadLetter(const ConsumedMessage& message, const absl::Status& error) {
    if (options.dead_letter_topic.empty()) {
      spdlog::error("kafka consumer {}: no dead-letter topic, dropping {}[{}]@{}",
                    options.group_id, message.topic, message.partition, message.offset);
      return absl::OkStatus();
    }
    static const std::set<std::string> kDlqHeaders = {
        kHeaderDlqError, kHeaderDlqSourceTopic, kHeaderDlqSourcePartition,
        kHeaderDlqSourceOffset, kHeaderDlqConsumerGroup};
    OutboundMessage out{.topic = options.dead_letter_topic,
                        .key = message.key,
                        .payload = message.payload,
                        .headers = {}};
    for (const auto& header : message.headers) {
      if (!kDlqHeaders.contains(header.first)) out.headers.push_back(header);
    }
    out.headers.insert(out.headers.end(),
                       {{kHeaderDlqError, error.ToString()},
                        {kHeaderDlqSourceTopic, message.topic},
                        {kHeaderDlqSourcePartition, std::to_string(message.partition)},
                        {kHeaderDlqSourceOffset, std::to_string(message.offset)},
                        {kHeaderDlqConsumerGroup, options.group_id}});
    auto delivered = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> result = delivered->get_future();
    dead_letter->Publish(out, [delivered](absl::Status status) { delivered->set_value(status); });
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (stopping.load()) return absl::CancelledError("consumer stopping");
    }
    return result.get();
  }

  // Returns the next offset to handle in the message's partition (`if_unknown` if none yet),
  // after setting it to `set` when given.
  int64_t NextOffset(const ConsumedMessage& message, int64_t if_unknown,
                     std::optional<int64_t> set = std::nullopt) {
    std::lock_guard lock(mu);
    auto [it, inserted] = next_offset.try_emplace({message.topic, message.partition}, if_unknown);
    if (set) it->second = *set;
    return it->second;
  }

  void StoreOffset(const ConsumedMessage& message) {
    pc::failpoint::Hit("consumer.after_commit");  // the handler's effect is committed
    NextOffset(message, message.offset + 1, message.offset + 1);
    PartitionListPtr list = OnePartition(message, message.offset + 1);
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk, list.get());
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {  // e.g. __STATE: partition revoked meanwhile
      spdlog::warn("kafka consumer {}: storing offset of {}[{}]@{}: {}", options.group_id,
                   message.topic, message.partition, message.offset, rd_kafka_err2str(err));
    }
  }

  void Close() {
    {
      std::lock_guard lock(mu);
      closing = true;
    }
    const rd_kafka_resp_err_t committed = rd_kafka_commit(rk, nullptr, /*async=*/0);
    if (committed != RD_KAFKA_RESP_ERR_NO_ERROR && committed != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      spdlog::warn("kafka consumer {}: final commit: {}", options.group_id,
                   rd_kafka_err2str(committed));
    }
    if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka consumer {}: close: {}", options.group_id, rd_kafka_err2str(err));
    }
    std::lock_guard probing(probe_mu);
    rd_kafka_destroy(rk);
    if (probe_rk != nullptr) rd_kafka_destroy(probe_rk);
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* state = static_cast<ConsumerState*>(opaque);
    const bool assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    const bool lost = !assigned && rd_kafka_assignment_lost(rk);  // before assign() resets it
    state->assignment_lost = lost;
    if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, assigned ? partitions : nullptr)) {
      spdlog::error("kafka consumer {}: assign: {}", state->options.group_id, rd_kafka_err2str(e));
    }
    {
      std::lock_guard lock(state->mu);
      state->next_offset.clear();
      state->assignment.clear();
      for (int i = 0; assigned && i < partitions->cnt; ++i) {
        state->assignment.emplace_back(partitions->elems[i].topic, partitions->elems[i].partition);
      }
      if (state->assignment.empty()) {
        if (!state->unassigned_since) state->unassigned_since = absl::Now();
      } else {
        state->unassigned_since.reset();
      }
    }
    spdlog::info("kafka consumer {}: {} {} partition(s)", state->options.group_id,
                 assigned ? "assigned" : (lost ? "lost" : "revoked"), partitions->cnt);
    if (assigned && state->hooks.on_assigned) state->hooks.on_assigned();
    if (!assigned && state->hooks.on_revoked) state->hooks.on_revoked();
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* state = static_cast<ConsumerState*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      state->ReportFatal();
      return;
    }
    spdlog::warn("kafka consumer {}: {}: {}", state->options.group_id,
                 rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
  }
};

absl::StatusOr<rd_kafka_t*> NewConsumerHandle(const ConsumerOptions& options,
                                              ConsumerState* state) {
  auto conf = internal::NewConf(options.security, {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.group_id},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"partition.assignment.strategy", "range,roundrobin"},
      {"auto.offset.reset", options.auto_offset_reset},
      {"auto.commit.interval.ms",
       absl::StrCat(absl::ToInt64Milliseconds(options.auto_commit_interval))},
  });
  if (!conf.ok()) return conf.status();
  if (absl::Status status = internal::SetProperties(conf->get(), options.membership.Properties());
      !status.ok()) {
    return status;
  }
  if (absl::Status status = internal::SetProperties(conf->get(), options.extra); !status.ok()) {
    return status;
  }
  rd_kafka_conf_set_opaque(conf->get(), state);
  rd_kafka_conf_set_rebalance_cb(conf->get(), &ConsumerState::OnRebalance);
  rd_kafka_conf_set_error_cb(conf->get(), &ConsumerState::OnError);
  auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(*rk);
  return *rk;
}

rd_kafka_resp_err_t Subscribe(rd_kafka_t* rk, const std::vector<std::string>& topics) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(topics.size()));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return rd_kafka_subscribe(rk, list.get());
}

struct KafkaConsumer::Impl {
  std::shared_ptr<ConsumerState> state;
  std::thread thread;
  std::future<void> closed;
  std::future<void> loop_exited;  // the poll loop (and so every handler call) returned
  bool started = false;
  bool stopped = false;

  // Runs the poll loop (if `poll`) and then the close on the consumer's own thread.
  void Launch(bool poll) {
    auto done = std::make_shared<std::promise<void>>();
    auto exited = std::make_shared<std::promise<void>>();
    closed = done->get_future();
    loop_exited = exited->get_future();
    thread = std::thread([state = state, done, exited, poll] {
      if (poll) state->Run();
      exited->set_value();
      state->Close();
      if (state->hooks.on_closed) state->hooks.on_closed();
      done->set_value();
    });
  }
};

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const ConsumerOptions& options,
                                                                    MessageHandler handler,
                                                                    Publisher* dead_letter,
                                                                    ConsumerHooks hooks,
                                                                    BatchHandler batch_handler) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("kafka consumer: brokers is empty");
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: group_id is empty");
  if (options.topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");
  if (!handler) return absl::InvalidArgumentError("kafka consumer: no handler");
  if (options.max_batch < 1) return absl::InvalidArgumentError("kafka consumer: max_batch < 1");
  if (!options.dead_letter_topic.empty() && dead_letter == nullptr) {
    return absl::InvalidArgumentError("kafka consumer: dead_letter_topic set without a publisher");
  }
  if (absl::Status status = options.membership.Validate(); !status.ok()) return status;
  if (options.auto_commit_interval < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("kafka consumer: auto_commit_interval < 1ms");
  }
  auto state = std::make_shared<ConsumerState>();
  state->options = options;
  state->handler = std::move(handler);
  state->batch_handler = std::move(batch_handler);
  state->dead_letter = dead_letter;
  state->hooks = std::move(hooks);
  auto rk = NewConsumerHandle(options, state.get());
  if (!rk.ok()) return rk.status();
  state->rk = *rk;
  // The same security and `extra`, so the probe reaches the brokers the same way.
  auto probe_conf = internal::NewConf(options.security, {{"bootstrap.servers", options.brokers},
                                                         {"group.id", options.group_id},
                                                         {"client.id", options.group_id + "-probe"},
                                                         {"enable.auto.commit", "false"}});
  if (probe_conf.ok() && internal::SetProperties(probe_conf->get(), options.extra).ok()) {
    auto probe_rk = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*probe_conf));
    if (probe_rk.ok()) state->probe_rk = *probe_rk;
  }
  if (state->probe_rk == nullptr) {
    rd_kafka_destroy(state->rk);
    return absl::InternalError("kafka consumer: cannot create the group probe handle");
  }
  state->effective_config = internal::DumpConfig(state->rk);
  auto impl = std::make_unique<Impl>();
  impl->state = std::move(state);
  return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
}

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaConsumer::~KafkaConsumer() { Stop(absl::Seconds(10)); }

absl::Status KafkaConsumer::Start() {
  if (impl_->started || impl_->stopped) {
    return absl::FailedPreconditionError("kafka consumer already started or stopped");
  }
  ConsumerState& state = *impl_->state;
  if (rd_kafka_resp_err_t err = Subscribe(state.rk, state.options.topics)) {
    return ErrorStatus(err, absl::StrCat("kafka consumer ", state.options.group_id, ": subscribe"));
  }
  impl_->started = true;
  impl_->Launch(/*poll=*/true);
  return absl::OkStatus();
}

void KafkaConsumer::Stop(absl::Duration timeout) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  ConsumerState& state = *impl_->state;
  {
    std::lock_guard lock(state.mu);  // so that a backoff cannot miss the wake-up
    state.stopping = true;
  }
  state.wake.notify_all();
  if (!impl_->started) impl_->Launch(/*poll=*/false);
  if (impl_->closed.wait_for(absl::ToChronoNanoseconds(timeout)) == std::future_status::ready) {
    impl_->thread.join();
    return;
  }
  // A handler still running uses what its owner is about to destroy: wait for it, however
  // long (Kubernetes' terminationGracePeriodSeconds bounds this with SIGKILL, which is safe).
  for (auto wait = std::chrono::seconds(0);
       impl_->loop_exited.wait_for(wait) != std::future_status::ready;
       wait = std::chrono::seconds(5)) {
    spdlog::error("kafka consumer {}: a handler call is still running after Stop(); waiting "
                  "for it before anything it uses is destroyed", state.options.group_id);
  }
  if (impl_->closed.wait_for(absl::ToChronoNanoseconds(timeout)) == std::future_status::ready) {
    impl_->thread.join();
    return;
  }
  spdlog::error("kafka consumer {}: close did not finish within {} after the poll loop ended; "
                "abandoning the close (no handler runs any more)",
                state.options.group_id, absl::FormatDuration(timeout));
  impl_->thread.detach();
}

int GroupStatus::held_here() const {
  int n = 0;
  for (const PartitionProgress& p : partitions) n += p.held_here ? 1 : 0;
  return n;
}

absl::StatusOr<GroupStatus> KafkaConsumer::ProbeGroup(absl::Duration timeout) const {
  ConsumerState& state = *impl_->state;
  std::lock_guard probing(state.probe_mu);
  std::map<TopicPartition, int64_t> here;
  {
    std::lock_guard lock(state.mu);
    if (state.closing) return absl::FailedPreconditionError("kafka consumer is closing");
    for (const TopicPartition& tp : state.assignment) {
      auto next = state.next_offset.find(tp);
      here[tp] = next != state.next_offset.end() ? next->second : -1;
    }
  }
  return internal::ProbeGroup(state.probe_rk, state.options.group_id, state.options.topics, here,
                              timeout);
}

int KafkaConsumer::assigned_partitions() const {
  std::lock_guard lock(impl_->state->mu);
  return static_cast<int>(impl_->state->assignment.size());
}

std::optional<absl::Time> KafkaConsumer::unassigned_since() const {
  std::lock_guard lock(impl_->state->mu);
  return impl_->state->unassigned_since;
}

bool KafkaConsumer::fatal() const { return impl_->state->fatal.load(); }

const ConsumerOptions& KafkaConsumer::options() const { return impl_->state->options; }

int64_t KafkaConsumer::Lag() const {
  ConsumerState& state = *impl_->state;
  std::lock_guard lock(state.mu);
  if (state.closing || state.assignment.empty()) return 0;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(state.assignment.size()));
  for (const auto& [topic, partition] : state.assignment) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  rd_kafka_position(state.rk, list.get());  // for partitions nothing was handled from yet
  int64_t lag = 0;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    auto next = state.next_offset.find({p.topic, p.partition});
    const int64_t position = next != state.next_offset.end() ? next->second : p.offset;
    int64_t low = 0, high = 0;
    if (position >= 0 &&
        rd_kafka_get_watermark_offsets(state.rk, p.topic, p.partition, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high > position) {
      lag += high - position;
    }
  }
  return lag;
}

std::map<std::string, std::string> KafkaConsumer::EffectiveConfig() const {
  return impl_->state->effective_config;
}

}  // namespace pc::kafka
