#include "pc/kafka/mock_cluster.h"

#include "absl/strings/str_cat.h"
#include "rdkafka_util.h"  // rdkafka.h, which must precede rdkafka_mock.h

#include <librdkafka/rdkafka_mock.h>

namespace pc::kafka {

struct MockCluster::Impl {
  rd_kafka_t* rk = nullptr;  // hosts the cluster; never connects anywhere itself
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap_servers;

  ~Impl() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Create(int brokers) {
  auto conf = internal::NewConf({}, {{"client.id", "pc-mock-cluster"}, {"log_level", "3"}});
  if (!conf.ok()) return conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  auto impl = std::make_unique<Impl>();
  impl->rk = *rk;
  impl->cluster = rd_kafka_mock_cluster_new(impl->rk, brokers);
  if (impl->cluster == nullptr) return absl::InternalError("rd_kafka_mock_cluster_new failed");
  impl->bootstrap_servers = rd_kafka_mock_cluster_bootstraps(impl->cluster);
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(impl)));
}

MockCluster::MockCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockCluster::~MockCluster() = default;

const std::string& MockCluster::bootstrap_servers() const { return impl_->bootstrap_servers; }

absl::Status MockCluster::CreateTopic(const std::string& topic, int partitions) {
  return internal::ErrorStatus(
      rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1),
      absl::StrCat("creating mock topic ", topic));
}

}  // namespace pc::kafka
