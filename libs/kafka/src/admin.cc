#include "pc/kafka/admin.h"

#include <functional>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rdkafka_util.h"

namespace pc::kafka {
namespace {

std::string CloudTopic(const std::string& cloud, const char* name) {
  return absl::StrCat("partnercenter.", cloud, ".", name, ".v1");
}

}  // namespace

std::string InvitationTopic(const std::string& cloud) {
  return CloudTopic(cloud, "invitation-events");
}
std::string RelationshipTopic(const std::string& cloud) {
  return CloudTopic(cloud, "relationship-events");
}
std::string DeadLetterTopic(const std::string& cloud) { return CloudTopic(cloud, "dead-letter"); }

std::vector<std::string> CloudTopics(const std::string& cloud) {
  return {InvitationTopic(cloud), RelationshipTopic(cloud), DeadLetterTopic(cloud)};
}

namespace {

using EventPtr = std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)>;

// Runs one admin request on a fresh handle: `send` starts it on (handle, options, queue); the
// result event is returned, or DEADLINE_EXCEEDED / the request-level error. `what` names it.
absl::StatusOr<EventPtr> RunAdmin(
    const std::string& brokers, const Security& security, rd_kafka_admin_op_t op,
    absl::Duration timeout,
    const std::string& what,
    const std::function<void(rd_kafka_t*, rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& send) {
  auto conf =
      internal::NewConf(security, {{"bootstrap.servers", brokers}, {"client.id", "pc-admin"}});
  if (!conf.ok()) return conf.status();
  auto handle = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!handle.ok()) return handle.status();
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(*handle, &rd_kafka_destroy);
  char errstr[512];
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  std::unique_ptr<rd_kafka_AdminOptions_t, decltype(&rd_kafka_AdminOptions_destroy)> options(
      rd_kafka_AdminOptions_new(rk.get(), op), &rd_kafka_AdminOptions_destroy);
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof(errstr));
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(
      rd_kafka_queue_new(rk.get()), &rd_kafka_queue_destroy);
  send(rk.get(), options.get(), queue.get());
  EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms), &rd_kafka_event_destroy);
  if (event == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": no answer within ", absl::FormatDuration(timeout)));
  }
  if (rd_kafka_resp_err_t err = rd_kafka_event_error(event.get())) {
    return internal::ErrorStatus(
        err, absl::StrCat(what, ": ", rd_kafka_event_error_string(event.get())));
  }
  return event;
}

}  // namespace

absl::Status CreateTopics(const std::string& brokers, const Security& security,
                          const std::vector<std::string>& topics,
                          int partitions, int replication_factor, absl::Duration timeout) {
  if (partitions < 1 || replication_factor < 1) {
    return absl::InvalidArgumentError(
        "partitions and replication_factor must be at least 1");
  }
  if (topics.empty()) return absl::OkStatus();
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const std::string& topic : topics) {
    rd_kafka_NewTopic_t* t =
        rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, errstr, sizeof(errstr));
    if (t == nullptr) {
      rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
      return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", errstr));
    }
    new_topics.push_back(t);
  }
  absl::StatusOr<EventPtr> event = RunAdmin(
      brokers, security, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout,
      absl::StrCat("creating topics ", absl::StrJoin(topics, ", ")),
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(rk, new_topics.data(), new_topics.size(), options, queue);
      });
  rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    return internal::ErrorStatus(err, absl::StrCat("creating topic ",
                                                   rd_kafka_topic_result_name(results[i]),
                                                   why ? absl::StrCat(" (", why, ")") : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TopicMessageCount(const std::string& brokers, const Security& security,
                                          const std::string& topic, absl::Duration timeout) {
  auto conf =
      internal::NewConf(security, {{"bootstrap.servers", brokers}, {"client.id", "pc-admin"}});
  if (!conf.ok()) return conf.status();
  // A consumer handle: its metadata requests never create the topic (allow.auto.create.topics
  // is false for consumers).
  auto handle = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!handle.ok()) return handle.status();
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(*handle, &rd_kafka_destroy);
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt(
      rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 0, rkt.get(), &metadata, timeout_ms)) {
    return internal::ErrorStatus(err, absl::StrCat("metadata of ", topic));
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> owned(
      metadata, &rd_kafka_metadata_destroy);
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::NotFoundError(absl::StrCat("topic ", topic, " is unknown"));
  }
  int64_t total = 0;
  for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) {
    int64_t low = 0, high = 0;
    if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk.get(), topic.c_str(), metadata->topics[0].partitions[i].id, &low, &high,
            timeout_ms)) {
      return internal::ErrorStatus(err, absl::StrCat("watermarks of ", topic, "[", i, "]"));
    }
    total += high - low;
  }
  return total;
}

absl::Status AddPartitions(const std::string& brokers, const Security& security,
                           const std::string& topic, int total, absl::Duration timeout) {
  if (total < 1) return absl::InvalidArgumentError("total must be at least 1");
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), total, errstr, sizeof(errstr));
  if (np == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", errstr));
  absl::StatusOr<EventPtr> event = RunAdmin(
      brokers, security, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout,
      absl::StrCat("adding partitions to ", topic),
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreatePartitions(rk, &np, 1, options, queue);
      });
  rd_kafka_NewPartitions_destroy(np);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    return internal::ErrorStatus(err, absl::StrCat("adding partitions to ", topic,
                                                   why ? absl::StrCat(" (", why, ")") : ""));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<rd_kafka_AclBinding_t*> NewAclBinding(const AclBinding& acl) {
  static const auto* const kOperations = new std::map<std::string, rd_kafka_AclOperation_t>{
      {"All", RD_KAFKA_ACL_OPERATION_ALL},
      {"Read", RD_KAFKA_ACL_OPERATION_READ},
      {"Write", RD_KAFKA_ACL_OPERATION_WRITE},
      {"Create", RD_KAFKA_ACL_OPERATION_CREATE},
      {"Delete", RD_KAFKA_ACL_OPERATION_DELETE},
      {"Alter", RD_KAFKA_ACL_OPERATION_ALTER},
      {"Describe", RD_KAFKA_ACL_OPERATION_DESCRIBE},
      {"ClusterAction", RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION},
      {"DescribeConfigs", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
      {"AlterConfigs", RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
      {"IdempotentWrite", RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE}};
  rd_kafka_ResourceType_t type;
  if (acl.resource_type == "topic") {
    type = RD_KAFKA_RESOURCE_TOPIC;
  } else if (acl.resource_type == "group") {
    type = RD_KAFKA_RESOURCE_GROUP;
  } else if (acl.resource_type == "cluster") {
    type = RD_KAFKA_RESOURCE_BROKER;  // librdkafka's name for Kafka's CLUSTER (4)
  } else {
    return absl::InvalidArgumentError(absl::StrCat("ACL: unknown resource type '",
                                                   acl.resource_type, "'"));
  }
  auto op = kOperations->find(acl.operation);
  if (op == kOperations->end()) {
    return absl::InvalidArgumentError(absl::StrCat("ACL: unknown operation '", acl.operation, "'"));
  }
  char errstr[512];
  rd_kafka_AclBinding_t* binding = rd_kafka_AclBinding_new(
      type, acl.resource_name.c_str(),
      acl.prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
      acl.principal.c_str(), "*", op->second, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr,
      sizeof(errstr));
  if (binding == nullptr) return absl::InvalidArgumentError(absl::StrCat("ACL: ", errstr));
  return binding;
}

}  // namespace

absl::Status CreateAcls(const std::string& brokers, const Security& security,
                        const std::vector<AclBinding>& acls, absl::Duration timeout) {
  if (acls.empty()) return absl::OkStatus();
  std::vector<rd_kafka_AclBinding_t*> bindings;
  for (const AclBinding& acl : acls) {
    absl::StatusOr<rd_kafka_AclBinding_t*> binding = NewAclBinding(acl);
    if (!binding.ok()) {
      rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
      return binding.status();
    }
    bindings.push_back(*binding);
  }
  absl::StatusOr<EventPtr> event = RunAdmin(
      brokers, security, RD_KAFKA_ADMIN_OP_CREATEACLS, timeout,
      absl::StrCat("creating ", acls.size(), " ACLs"),
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateAcls(rk, bindings.data(), bindings.size(), options, queue);
      });
  rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(
      rd_kafka_event_CreateAcls_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_error_t* error = rd_kafka_acl_result_error(results[i]);
    if (error == nullptr) continue;
    return internal::ErrorStatus(rd_kafka_error_code(error),
                                 absl::StrCat("creating the ACL for ", acls[i].principal, " ",
                                              acls[i].operation, " on ", acls[i].resource_type,
                                              " ", acls[i].resource_name, " (",
                                              rd_kafka_error_string(error), ")"));
  }
  return absl::OkStatus();
}

}  // namespace pc::kafka
