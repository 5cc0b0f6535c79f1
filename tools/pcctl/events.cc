// pcctl events: reading the topics as a consumer would, without a consumer group of the
// services'.
//
//   pcctl events tail invitation-events [--json]      # from now on, until Ctrl-C
//   pcctl events tail relationship-events --from_beginning --max_events=10 --json
//   pcctl events tail partnercenter.usgov.dead-letter.v1 --json
//
// The topic is a full name or invitation-events / relationship-events / dead-letter of
// --cloud. --json prints one JSON object per line: topic, partition, offset, key, headers and
// `event`, the EventEnvelope in protobuf's JSON mapping (what docs/asyncapi.json describes);
// a value that is not an envelope (the dead letter can hold anything) gets `error` and
// `value_base64` instead. Without --json: one short line per event. Logs go to stderr.
#include <atomic>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/security_flags.h"
#include "pc/kafka/tailer.h"
#include "pcctl.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, kafka_brokers, pc::EnvOr("PC_KAFKA_BROKERS", "127.0.0.1:9092"),
          "events: Kafka bootstrap servers (env PC_KAFKA_BROKERS)");
ABSL_FLAG(bool, json, false, "events tail: one JSON object per event and line");
ABSL_FLAG(bool, from_beginning, false, "events tail: start at each partition's first offset");
ABSL_FLAG(int64_t, max_events, 0, "events tail: exit after this many events (0 = never)");

namespace pcctl {
namespace {

std::string TopicName(const std::string& arg) {
  const std::string cloud = absl::GetFlag(FLAGS_cloud);
  if (arg == "invitation-events") return pc::kafka::InvitationTopic(cloud);
  if (arg == "relationship-events") return pc::kafka::RelationshipTopic(cloud);
  if (arg == "dead-letter") return pc::kafka::DeadLetterTopic(cloud);
  return arg;
}

std::string Line(const pc::kafka::ConsumedMessage& m, bool json) {
  absl::StatusOr<pc::events::EventEnvelope> envelope = pc::events::Decode(m.payload);
  if (!json) {
    return envelope.ok()
               ? absl::StrCat(m.topic, "[", m.partition, "]@", m.offset, " key=", m.key, " ",
                              envelope->type(), " event_id=", envelope->event_id(),
                              " aggregate_version=", envelope->aggregate_version())
               : absl::StrCat(m.topic, "[", m.partition, "]@", m.offset, " key=", m.key,
                              " not an EventEnvelope (", m.payload.size(), " bytes)");
  }
  nlohmann::ordered_json line = {
      {"topic", m.topic}, {"partition", m.partition}, {"offset", m.offset}, {"key", m.key}};
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& [name, value] : m.headers) headers[name] = value;
  line["headers"] = std::move(headers);
  std::string event;
  if (envelope.ok() &&
      google::protobuf::util::MessageToJsonString(*envelope, &event).ok()) {
    line["event"] = nlohmann::ordered_json::parse(event);
  } else {
    line["error"] =
        envelope.ok() ? "cannot print as JSON" : std::string(envelope.status().message());
    line["value_base64"] = absl::Base64Escape(m.payload);
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int Tail(const std::string& topic) {
  // Logs (librdkafka, the tailer) to stderr: stdout is for events only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("pcctl"));
  const bool json = absl::GetFlag(FLAGS_json);
  const int64_t max_events = absl::GetFlag(FLAGS_max_events);
  std::atomic<int64_t> printed{0};
  absl::Notification done;
  auto print = [&](const pc::kafka::ConsumedMessage& m) {
    if (done.HasBeenNotified()) return;
    std::cout << Line(m, json) << std::endl;
    if (max_events > 0 && ++printed >= max_events) done.Notify();
  };
  const std::string brokers = absl::GetFlag(FLAGS_kafka_brokers);
  absl::StatusOr<pc::kafka::Security> security = pc::kafka::SecurityFromFlags();
  if (!security.ok()) return Fail(std::string(security.status().message()));
  if (absl::Status s = pc::kafka::VerifyConnection(brokers, *security); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  if (absl::GetFlag(FLAGS_from_beginning)) {
    // A fresh group that never commits: every partition from its first offset.
    auto consumer = pc::kafka::KafkaConsumer::Create(
        {.brokers = brokers,
         .security = *security,
         .group_id = absl::StrCat("pcctl-tail-", pc::NewUuid()),
         .topics = {topic},
         .auto_offset_reset = "earliest",
         .extra = {{"enable.auto.commit", "false"}}},
        [&](const pc::kafka::ConsumedMessage& m) {
          print(m);
          return absl::OkStatus();
        },
        nullptr);
    if (!consumer.ok()) return Fail(consumer.status().ToString());
    if (absl::Status s = (*consumer)->Start(); !s.ok()) return Fail(s.ToString());
    std::cerr << "pcctl: reading " << topic << " from the beginning (Ctrl-C stops)" << std::endl;
    done.WaitForNotification();
    (*consumer)->Stop(absl::Seconds(5));
    return 0;
  }
  auto tailer = pc::kafka::TopicTailer::Create(
      {.brokers = brokers, .topic = topic, .security = *security}, print);
  if (!tailer.ok()) return Fail(tailer.status().ToString());
  if (absl::Status s = (*tailer)->Start(); !s.ok()) return Fail(s.ToString());
  // Printed once the start offsets are fixed: every event published from here on is shown.
  std::cerr << "pcctl: tailing " << topic << " from its current end (Ctrl-C stops)" << std::endl;
  done.WaitForNotification();
  (*tailer)->Stop();
  return 0;
}

}  // namespace

int RunEventsCommand(const std::vector<std::string>& args) {
  if (args[0] != "events") return -1;
  if (args.size() != 3 || args[1] != "tail") {
    return Fail("usage: pcctl events tail <topic | invitation-events | relationship-events | "
                "dead-letter> [--json] [--from_beginning] [--max_events=N]");
  }
  return Tail(TopicName(args[2]));
}

}  // namespace pcctl
