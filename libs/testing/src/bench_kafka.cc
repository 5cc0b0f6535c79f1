#include "pc/testing/bench_kafka.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/publisher.h"
#include "pc/testing/infra.h"

namespace pc::testing {

partnercenter::events::v1::EventEnvelope BenchAcceptance(const std::string& cloud,
                                                         const std::string& partner,
                                                         const std::string& customer, int i) {
  namespace common = partnercenter::common::v1;
  common::Actor actor;
  actor.set_kind(common::ACTOR_KIND_CUSTOMER_ADMIN);
  actor.set_tenant_id(customer);
  partnercenter::events::v1::EventEnvelope e = pc::events::NewEnvelope(
      {.cloud = cloud, .partner_id = partner, .customer_id = customer,
       .aggregate_id = pc::NewUuid(), .aggregate_version = 2, .actor = actor},
      absl::Now());
  partnercenter::events::v1::InvitationAccepted* a = e.mutable_invitation_accepted();
  a->set_invitation_id(e.aggregate_id());
  a->set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  a->set_include_admin_permission(true);
  a->mutable_customer_profile()->set_company_name(absl::StrCat("Company ", i));
  a->mutable_customer_profile()->set_primary_domain(absl::StrCat("c", i, ".example.com"));
  a->mutable_customer_profile()->set_country("BR");
  a->set_partner_display_name("Partner " + partner);
  pc::events::Seal(e);
  return e;
}

absl::StatusOr<std::string> FreshBenchTopic(const std::string& brokers, const std::string& prefix,
                                            int partitions) {
  const std::string topic = absl::StrCat(prefix, ".", pc::NewUuid().substr(0, 8));
  absl::Status s = pc::kafka::CreateTopics(brokers, KafkaSecurity(), {topic}, partitions, 1);
  if (!s.ok()) return s;
  return topic;
}

absl::Status PublishAll(const std::string& brokers, const std::string& topic,
                        const std::vector<partnercenter::events::v1::EventEnvelope>& events) {
  auto publisher = pc::kafka::KafkaPublisher::Create(
      {.brokers = brokers, .security = KafkaSecurity(), .client_id = "bench"});
  if (!publisher.ok()) return publisher.status();
  std::mutex mu;
  absl::Status first_error;
  for (const auto& e : events) {
    (*publisher)->Publish({.topic = topic, .key = e.aggregate_id(),
                           .payload = e.SerializeAsString(),
                           .headers = pc::events::KafkaHeaders(e)},
                          [&](const absl::Status& s) {
                            std::lock_guard lock(mu);
                            if (!s.ok() && first_error.ok()) first_error = s;
                          });
  }
  absl::Status flushed = (*publisher)->Flush(absl::Seconds(60));
  std::lock_guard lock(mu);
  return first_error.ok() ? flushed : first_error;
}

absl::StatusOr<double> ConsumeRate(const std::string& brokers, const std::string& topic, int n,
                                   const pc::kafka::MessageHandler& handler,
                                   const pc::kafka::BatchHandler& batch, int max_batch) {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  std::condition_variable cv;
  int handled = 0;
  absl::Status failed;
  Clock::time_point first;
  auto consumer = pc::kafka::KafkaConsumer::Create(
      {.brokers = brokers, .security = KafkaSecurity(),
       .group_id = "bench-" + pc::NewUuid().substr(0, 8), .topics = {topic},
       .max_batch = batch ? max_batch : 1},
      handler, nullptr,
      {.on_handled = [&](const pc::kafka::ConsumedMessage&, const absl::Status& s) {
        std::lock_guard lock(mu);
        if (!s.ok() && failed.ok()) failed = s;
        if (handled++ == 0) first = Clock::now();
        if (handled >= n) cv.notify_all();
      }},
      batch);
  if (!consumer.ok()) return consumer.status();
  if (absl::Status s = (*consumer)->Start(); !s.ok()) return s;
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return handled >= n; });
  const double seconds = std::chrono::duration<double>(Clock::now() - first).count();
  lock.unlock();
  (*consumer)->Stop(absl::Seconds(10));
  if (!failed.ok()) return failed;
  return n / seconds;
}

}  // namespace pc::testing
