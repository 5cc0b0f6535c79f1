// An in-process Kafka cluster for unit tests: librdkafka's mock broker behind a plain
// interface, so tests point a KafkaPublisher and a KafkaConsumer at the same cluster without
// touching librdkafka themselves. It serves produce, idempotence, fetch and consumer groups
// with offset commits; it does not serve the CreateTopics admin API (use CreateTopic here).
//
//   auto cluster = pc::kafka::MockCluster::Create();
//   ASSERT_TRUE((*cluster)->CreateTopic("partnercenter.global.invitation-events.v1", 1).ok());
//   auto publisher = pc::kafka::KafkaPublisher::Create({.brokers = (*cluster)->bootstrap_servers()});
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pc::kafka {

class MockCluster {
 public:
  // Starts `brokers` mock brokers listening on loopback ports of their own.
  static absl::StatusOr<std::unique_ptr<MockCluster>> Create(int brokers = 1);
  ~MockCluster();

  // The bootstrap.servers list of the cluster ("127.0.0.1:port,...").
  const std::string& bootstrap_servers() const;
  // Creates `topic` with `partitions` partitions (replication factor 1).
  absl::Status CreateTopic(const std::string& topic, int partitions = 1);

 private:
  struct Impl;
  explicit MockCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::kafka
