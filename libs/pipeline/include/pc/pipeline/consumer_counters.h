// The outcome counters of one consumer group, pc_consumer_events_total{group, outcome}:
// what the domain reported (applied, duplicate_ignored, stale_ignored, ignored_unknown_type,
// ignored_not_handled, events.h's Outcome) and what the consumer did with failures
// (dead_lettered, retried).
//
//   pc::pipeline::ConsumerCounters counters(registry, "notification");
//   auto consumer = KafkaConsumer::Create(options, handler, publisher, counters.Hooks());
//   // in the handler, after the domain reported `outcome`:
//   counters.Count(outcome);
#pragma once

#include <string>

#include "pc/events/outcome.h"
#include "pc/kafka/consumer.h"
#include "pc/runtime/metrics.h"

namespace pc::pipeline {

class ConsumerCounters {
 public:
  ConsumerCounters(pc::runtime::Registry& registry, std::string group);

  void Count(pc::events::Outcome outcome, double n = 1);
  // `hooks` plus counting: dead_lettered after each dead-letter publish, retried after each
  // transient failure. Must outlive the consumer.
  pc::kafka::ConsumerHooks Hooks(pc::kafka::ConsumerHooks hooks = {});
  double Value(std::string_view outcome) const;

 private:
  pc::runtime::Family<pc::runtime::Counter>& family_;
  const std::string group_;
};

}  // namespace pc::pipeline
