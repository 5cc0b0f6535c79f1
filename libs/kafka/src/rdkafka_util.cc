#include "rdkafka_util.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace pc::kafka::internal {
namespace {

void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const spdlog::level::level_enum spd_level = level <= 2   ? spdlog::level::critical
                                              : level == 3 ? spdlog::level::err
                                              : level == 4 ? spdlog::level::warn
                                              : level <= 6 ? spdlog::level::info
                                                           : spdlog::level::debug;
  spdlog::log(spd_level, "librdkafka {} {}: {}", rk ? rd_kafka_name(rk) : "-", facility, message);
}

void AddDump(const char** dump, size_t count, std::map<std::string, std::string>& out) {
  for (size_t i = 0; i + 1 < count; i += 2) {
    const std::string name = dump[i];
    if (name.ends_with("_cb") || name == "opaque" || name == "default_topic_conf") {
      continue;  // pointers, not configuration
    }
    out.emplace(name, IsSecretProperty(name) && dump[i + 1][0] != '\0' ? "[redacted]" : dump[i + 1]);
  }
}

}  // namespace

absl::Status SetProperties(rd_kafka_conf_t* conf,
                           const std::map<std::string, std::string>& properties) {
  char errstr[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", name, ": ", errstr));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfPtr> NewConf(const Security& security,
                                const std::map<std::string, std::string>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogToSpdlog);
  if (absl::Status status = SetProperties(conf.get(), properties); !status.ok()) return status;
  if (absl::Status status = ApplySecurity(conf.get(), security); !status.ok()) return status;
  return conf;
}

absl::StatusOr<rd_kafka_t*> NewHandle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat("rd_kafka_new: ", errstr));
  conf.release();  // owned by rk now
  return rk;
}

std::map<std::string, std::string> DumpConfig(rd_kafka_t* rk) {
  // rd_kafka_conf() hands out the handle's own finalized configuration (after librdkafka
  // applied the idempotence defaults); reading its default topic configuration modifies nothing.
  auto* conf = const_cast<rd_kafka_conf_t*>(rd_kafka_conf(rk));
  std::map<std::string, std::string> out;
  size_t count = 0;
  const char** dump = rd_kafka_conf_dump(conf, &count);
  AddDump(dump, count, out);
  rd_kafka_conf_dump_free(dump, count);
  if (rd_kafka_topic_conf_t* topic_conf = rd_kafka_conf_get_default_topic_conf(conf)) {
    dump = rd_kafka_topic_conf_dump(topic_conf, &count);
    AddDump(dump, count, out);  // global values win (e.g. compression.codec over "inherit")
    rd_kafka_conf_dump_free(dump, count);
  }
  return out;
}

absl::StatusCode CodeOf(rd_kafka_resp_err_t err) {
  using C = absl::StatusCode;
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return C::kOk;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return C::kDeadlineExceeded;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_RESOURCE_NOT_FOUND:
      return C::kNotFound;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return C::kResourceExhausted;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return C::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return C::kAlreadyExists;
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      return C::kOutOfRange;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return C::kPermissionDenied;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return C::kUnauthenticated;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
      return C::kCancelled;
    case RD_KAFKA_RESP_ERR__STATE:
      return C::kFailedPrecondition;
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE:
      return C::kUnimplemented;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
      return C::kInternal;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__ISR_INSUFF:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
      return C::kUnavailable;
    default:
      return C::kUnknown;
  }
}

absl::Status ErrorStatus(rd_kafka_resp_err_t err, const std::string& context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::Status(CodeOf(err),
                      absl::StrCat(context, ": ", rd_kafka_err2name(err), ": ", rd_kafka_err2str(err)));
}

ConsumedMessage ToConsumedMessage(const rd_kafka_message_t& m) {
  ConsumedMessage out{.topic = rd_kafka_topic_name(m.rkt),
                      .partition = m.partition,
                      .offset = m.offset,
                      .key = m.key ? std::string(static_cast<const char*>(m.key), m.key_len) : "",
                      .payload = m.payload ? std::string(static_cast<const char*>(m.payload), m.len)
                                           : "",
                      .headers = {}};
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      out.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : "");
    }
  }
  return out;
}

}  // namespace pc::kafka::internal
