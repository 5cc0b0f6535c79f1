// Internal helpers shared by the librdkafka-backed classes. Never include from a public header.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pc/kafka/message.h"
#include "pc/kafka/security.h"

namespace pc::kafka::internal {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// A configuration with `properties` set (in map order), then `security` applied
// (ApplySecurity), and librdkafka's logs sent to spdlog. Every handle of this library is
// made from one of these, so no client skips the security settings.
absl::StatusOr<ConfPtr> NewConf(const Security& security,
                                const std::map<std::string, std::string>& properties);
// Sets the librdkafka properties for `security` on `conf` (src/security.cc): validated
// first, the SASL password read from its file here and nowhere else.
absl::Status ApplySecurity(rd_kafka_conf_t* conf, const Security& security);
// True for properties whose values are secrets (DumpConfig shows them as "[redacted]").
bool IsSecretProperty(const std::string& name);
// Sets `properties` on `conf`, in order; INVALID_ARGUMENT naming the bad one.
absl::Status SetProperties(rd_kafka_conf_t* conf,
                           const std::map<std::string, std::string>& properties);
// rd_kafka_new(); takes ownership of `conf`.
absl::StatusOr<rd_kafka_t*> NewHandle(rd_kafka_type_t type, ConfPtr conf);
// The handle's effective global configuration merged with its default topic configuration,
// secrets redacted.
std::map<std::string, std::string> DumpConfig(rd_kafka_t* rk);
// A librdkafka message (no error) as the plain ConsumedMessage handlers get.
ConsumedMessage ToConsumedMessage(const rd_kafka_message_t& m);
// Canonical status code for a librdkafka error.
absl::StatusCode CodeOf(rd_kafka_resp_err_t err);
// `context`: <error name>: <error text>, with CodeOf(err).
absl::Status ErrorStatus(rd_kafka_resp_err_t err, const std::string& context);

}  // namespace pc::kafka::internal
