// Plain message types that cross the Kafka boundary. Nothing here knows librdkafka.
//
//   pc::kafka::OutboundMessage msg{.topic = "partnercenter.global.invitation-events.v1",
//                                  .key = invitation_id,
//                                  .payload = envelope.SerializeAsString(),
//                                  .headers = {{"event-id", id}, {"event-type", "InvitationSent"}}};
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pc::kafka {

// Header names every event carries (design.md §4).
inline constexpr char kHeaderEventId[] = "event-id";
inline constexpr char kHeaderEventType[] = "event-type";
inline constexpr char kHeaderContentType[] = "content-type";
inline constexpr char kHeaderCorrelationId[] = "correlation-id";
inline constexpr char kContentTypeProtobuf[] = "application/x-protobuf";
// Headers added to a dead-lettered message.
inline constexpr char kHeaderDlqError[] = "dlq-error";
inline constexpr char kHeaderDlqSourceTopic[] = "dlq-source-topic";
inline constexpr char kHeaderDlqSourcePartition[] = "dlq-source-partition";
inline constexpr char kHeaderDlqSourceOffset[] = "dlq-source-offset";
inline constexpr char kHeaderDlqConsumerGroup[] = "dlq-consumer-group";

using Headers = std::vector<std::pair<std::string, std::string>>;

// Returns the first value of `name`, or an empty string.
std::string HeaderValue(const Headers& headers, const std::string& name);

struct OutboundMessage {
  std::string topic = {};
  std::string key = {};
  std::string payload = {};
  Headers headers = {};
};

struct ConsumedMessage {
  std::string topic = {};
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key = {};
  std::string payload = {};
  Headers headers = {};
};

}  // namespace pc::kafka
