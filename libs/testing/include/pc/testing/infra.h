// Access to the real infrastructure the integration and e2e tiers run against. CTest
// fixtures (cmake/PcTestInfra.cmake) start a Kafka broker and a PostgreSQL server once per
// run and pass their addresses in PC_TEST_* variables. A missing variable is a test failure,
// never a skip: a tier that cannot reach its dependency must go red.
//
//   std::string brokers = pc::testing::KafkaBrokers();
//   pc::kafka::Security admin = pc::testing::KafkaSecurity();      // the super user: seeding
//   Subprocess service(argv, pc::testing::KafkaSecurityEnv("relationship"));  // its own principal
//   auto db = pc::testing::TempPostgresDatabase::Create();   // CREATE DATABASE pc_test_…
//   ASSERT_TRUE(db.ok());
//   Open((*db)->url());                                      // dropped in the destructor
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pc/kafka/security.h"

namespace pc::testing {

// The value of environment variable `name`; throws std::runtime_error naming it if unset.
std::string RequiredEnv(const std::string& name);

// PC_TEST_KAFKA_BROKERS, e.g. "127.0.0.1:29092".
std::string KafkaBrokers();

// The test broker is secured like the local one (deploy/local/kafka/kafka.sh): SSL with a
// client certificate per principal from PC_TEST_KAFKA_CERTS_DIR. `principal` is one of admin
// (super user: topic creation and test clients), invitation, relationship, notification,
// portal, pcctl. `certs_dir` names another broker's credentials (a broker a test started
// itself with kafka.sh); empty means PC_TEST_KAFKA_CERTS_DIR.
pc::kafka::Security KafkaSecurity(const std::string& principal = "admin",
                                  const std::string& certs_dir = "");
// The same as the PC_KAFKA_* environment of a service or pcctl process (Subprocess env).
std::map<std::string, std::string> KafkaSecurityEnv(const std::string& principal,
                                                    const std::string& certs_dir = "");
// A principal's credentials signed by a CA the broker does not trust (the CA's own
// certificate as ca_file: it also fails to verify the broker).
pc::kafka::Security UntrustedKafkaSecurity();

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read, close): for
// processes that must know each other's address before they start.
int FreeTcpPort();

// A unique topic name for one test: "test.<prefix>.<random>".
std::string UniqueName(const std::string& prefix);

// A fresh database on the test PostgreSQL server (PC_TEST_DATABASE_URL), dropped on
// destruction (with FORCE, so leftover connections do not keep it alive).
class TempPostgresDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<TempPostgresDatabase>> Create();
  ~TempPostgresDatabase();
  // postgresql://…/pc_test_<random>
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  TempPostgresDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace pc::testing
