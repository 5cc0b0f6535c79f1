// Kafka helpers of the `make bench` binaries (they need the broker tools/dev/bench.sh starts),
// and the events they publish.
//
//   const std::string topic = *pc::testing::FreshBenchTopic(brokers, "bench.relationship");
//   pc::testing::PublishAll(brokers, topic, events);                 // keyed by aggregate
//   double raw = *pc::testing::ConsumeRate(brokers, topic, n, noop);  // messages/s
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "partnercenter/events/v1/events.pb.h"
#include "pc/kafka/consumer.h"

namespace pc::testing {

// An InvitationAccepted (RESELLER_RELATIONSHIP with admin permission, version 2) as the
// invitation service publishes it, by the customer's admin, for customer number `i` of
// `partner` ("Company <i>", c<i>.example.com).
partnercenter::events::v1::EventEnvelope BenchAcceptance(const std::string& cloud,
                                                         const std::string& partner,
                                                         const std::string& customer, int i);

// A new topic named `prefix` + a random suffix, with `partitions` partitions.
absl::StatusOr<std::string> FreshBenchTopic(const std::string& brokers, const std::string& prefix,
                                            int partitions = 3);

// Publishes every event to `topic`, keyed by its aggregate id, with the event headers; waits
// until all are delivered.
absl::Status PublishAll(const std::string& brokers, const std::string& topic,
                        const std::vector<partnercenter::events::v1::EventEnvelope>& events);

// Consumes the first `n` messages of `topic` in a fresh group with `handler` (and `batch`, up
// to `max_batch` messages at once, if given) as a service would; returns messages/second from
// the first message handled to the last (the group join is not counted).
absl::StatusOr<double> ConsumeRate(const std::string& brokers, const std::string& topic, int n,
                                   const pc::kafka::MessageHandler& handler,
                                   const pc::kafka::BatchHandler& batch = {}, int max_batch = 1);

}  // namespace pc::testing
