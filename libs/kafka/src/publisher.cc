#include "pc/kafka/publisher.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace pc::kafka {
namespace {

using internal::ErrorStatus;

// How long Publish() waits for room in a full local queue before giving up.
constexpr absl::Duration kQueueFullWait = absl::Seconds(2);

}  // namespace

struct KafkaPublisher::Impl {
  struct Pending {
    std::string topic;
    std::string key;
    DeliveryCallback on_delivery;
  };

  rd_kafka_t* rk = nullptr;
  std::map<std::string, std::string> effective_config;
  std::thread delivery_thread;
  std::atomic<bool> stop{false};

  std::mutex mu;
  std::condition_variable delivered;  // a delivery report was served
  std::map<uint64_t, Pending> pending;
  std::deque<std::pair<uint64_t, absl::Status>> local_failures;  // served by the thread
  uint64_t next_id = 1;
  bool closed = false;

  // INTERNAL with librdkafka's fatal error if one was raised, else OK.
  static absl::Status FatalError(rd_kafka_t* rk) {
    char reason[512];
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, reason, sizeof(reason));
    if (cause == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("kafka producer fatal error ",
                                            rd_kafka_err2name(cause), ": ", reason));
  }

  // Calls the callback of message `id` once, then forgets it.
  void Complete(uint64_t id, absl::Status status) {
    DeliveryCallback callback;
    {
      std::lock_guard lock(mu);
      auto it = pending.find(id);
      if (it == pending.end() || !it->second.on_delivery) return;
      callback = std::move(it->second.on_delivery);
    }
    callback(std::move(status));
    {
      std::lock_guard lock(mu);
      pending.erase(id);
    }
    delivered.notify_all();
  }

  void ServeLocalFailures() {
    std::deque<std::pair<uint64_t, absl::Status>> failures;
    {
      std::lock_guard lock(mu);
      failures.swap(local_failures);
    }
    for (auto& [id, status] : failures) Complete(id, std::move(status));
  }

  void Run() {
    while (!stop.load()) {
      rd_kafka_poll(rk, 100);
      ServeLocalFailures();
    }
  }

  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque) {
    absl::Status status =
        ErrorStatus(message->err, absl::StrCat("delivery to ", rd_kafka_topic_name(message->rkt)));
    if (!status.ok()) {
      if (absl::Status fatal = FatalError(rk); !fatal.ok()) status = fatal;
    }
    static_cast<Impl*>(opaque)->Complete(reinterpret_cast<uintptr_t>(message->_private),
                                         std::move(status));
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void*) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      spdlog::critical(
          "{}; no further message can be published, restart the process (the outbox "
          "republishes what was not delivered)",
          std::string(FatalError(rk).message()));
    } else {
      spdlog::warn("kafka producer: {}: {}", rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
    }
  }
};

absl::StatusOr<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(
    const PublisherOptions& options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("kafka publisher: brokers is empty");
  auto conf = internal::NewConf(options.security, {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"compression.type", options.compression},
      {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
  });
  if (!conf.ok()) return conf.status();
  if (absl::Status status = internal::SetProperties(conf->get(), options.extra); !status.ok()) {
    return status;
  }
  auto impl = std::make_unique<Impl>();
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &Impl::OnError);
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  impl->rk = *rk;
  impl->effective_config = internal::DumpConfig(impl->rk);
  impl->delivery_thread = std::thread([raw = impl.get()] { raw->Run(); });
  return std::unique_ptr<KafkaPublisher>(new KafkaPublisher(std::move(impl)));
}

KafkaPublisher::KafkaPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaPublisher::~KafkaPublisher() { Close(absl::Seconds(10)); }

void KafkaPublisher::Publish(const OutboundMessage& message, DeliveryCallback on_delivery) {
  Impl& impl = *impl_;
  uint64_t id;
  {
    std::unique_lock lock(impl.mu);
    if (impl.closed) {
      lock.unlock();
      on_delivery(absl::FailedPreconditionError("kafka publisher is closed"));
      return;
    }
    id = impl.next_id++;
    impl.pending.emplace(id, Impl::Pending{message.topic, message.key, std::move(on_delivery)});
    if (absl::Status fatal = Impl::FatalError(impl.rk); !fatal.ok()) {
      impl.local_failures.emplace_back(id, std::move(fatal));
      return;
    }
  }
  rd_kafka_headers_t* headers = rd_kafka_headers_new(message.headers.size());
  for (const auto& [name, value] : message.headers) {
    rd_kafka_header_add(headers, name.data(), name.size(), value.data(), value.size());
  }
  const absl::Time give_up = absl::Now() + kQueueFullWait;
  rd_kafka_resp_err_t err;
  while (true) {
    err = rd_kafka_producev(
        impl.rk, RD_KAFKA_V_TOPIC(message.topic.c_str()),
        RD_KAFKA_V_KEY(message.key.empty() ? nullptr : message.key.data(), message.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(message.payload.data()), message.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(uintptr_t{id})), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() >= give_up) break;
    std::unique_lock lock(impl.mu);  // let the delivery thread make room
    impl.delivered.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;  // librdkafka owns the headers now
  rd_kafka_headers_destroy(headers);
  absl::Status failed = err == RD_KAFKA_RESP_ERR__FATAL
                            ? Impl::FatalError(impl.rk)
                            : ErrorStatus(err, absl::StrCat("publish to ", message.topic));
  std::lock_guard lock(impl.mu);
  impl.local_failures.emplace_back(id, std::move(failed));
}

absl::Status KafkaPublisher::Flush(absl::Duration timeout) {
  std::unique_lock lock(impl_->mu);
  if (impl_->delivered.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                [&] { return impl_->pending.empty(); })) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(absl::StrCat("kafka flush timed out after ",
                                                  absl::FormatDuration(timeout), " with ",
                                                  impl_->pending.size(),
                                                  " message(s) not yet delivered"));
}

void KafkaPublisher::Close(absl::Duration timeout) {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mu);
    if (impl.closed) return;
    impl.closed = true;
  }
  if (absl::Status flushed = Flush(timeout); !flushed.ok()) {
    spdlog::error("kafka publisher close: {}", std::string(flushed.message()));
    {
      std::lock_guard lock(impl.mu);
      for (const auto& [id, pending] : impl.pending) {
        spdlog::error("kafka publisher close: undelivered message topic={} key={}", pending.topic,
                      pending.key);
      }
    }
    rd_kafka_purge(impl.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
  impl.stop = true;
  impl.delivery_thread.join();
  rd_kafka_poll(impl.rk, 0);  // purged messages' reports
  impl.ServeLocalFailures();
  std::vector<uint64_t> left;
  {
    std::lock_guard lock(impl.mu);
    for (const auto& [id, pending] : impl.pending) left.push_back(id);
  }
  for (uint64_t id : left) impl.Complete(id, absl::CancelledError("kafka publisher closed"));
  rd_kafka_destroy(impl.rk);
  impl.rk = nullptr;
}

std::map<std::string, std::string> KafkaPublisher::EffectiveConfig() const {
  return impl_->effective_config;
}

void KafkaPublisher::RaiseFatalErrorForTesting(const std::string& reason) {
  rd_kafka_test_fatal_error(impl_->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            reason.c_str());
}

}  // namespace pc::kafka
