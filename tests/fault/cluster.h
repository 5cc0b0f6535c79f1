// The system the fault tier breaks: a Kafka broker of its own (deploy/local/kafka/kafka.sh in
// a temp dir, on free ports, with the certificates kafka.sh makes there) and the three
// services as processes on SQLite files in that dir. Each service can be killed with SIGKILL,
// restarted as its release binary, or restarted as its `-failpoints` twin with PC_FAILPOINTS;
// its ports stay the same across restarts, so clients simply reconnect.
//
//   FaultCluster cluster(dir);
//   ASSERT_OK(cluster.StartBroker());
//   for (Service s : kServices) ASSERT_OK(cluster.Start(s));
//   ASSERT_OK(cluster.Restart(Service::kRelationship, "consumer.after_commit=crash@5"));
//   ASSERT_OK(cluster.WaitForFailpointCrash(Service::kRelationship, "consumer.after_commit"));
//   ASSERT_OK(cluster.Start(Service::kRelationship));          // release binary again
//   ASSERT_OK(cluster.Kill(Service::kNotification));           // kill -9 …
//   ASSERT_OK(cluster.Start(Service::kNotification));          // … and back on the same data
//   ASSERT_OK(cluster.KillBroker());                           // kill -9 of the JVM
//   ASSERT_OK(cluster.StartBroker());                          // kafka.sh start, same dir
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pc/kafka/security.h"
#include "pc/testing/subprocess.h"
#include "pc/testing/test_tls.h"

namespace pc::fault {

enum class Service { kInvitation, kRelationship, kNotification };
inline constexpr std::array<Service, 3> kServices = {Service::kInvitation, Service::kRelationship,
                                                     Service::kNotification};
// "invitation", "relationship", "notification" (also the Kafka principal).
std::string Name(Service service);

inline constexpr char kCloud[] = "global";

class FaultCluster {
 public:
  // Kills the broker a previous run left running in `dir` (a run ended by a timeout cannot
  // stop it: kafka.sh starts it in a session of its own), then removes `dir`.
  static void Clean(const std::filesystem::path& dir);
  explicit FaultCluster(std::filesystem::path dir);
  // SIGKILL to every service and to the broker: nothing of this cluster is kept.
  ~FaultCluster();
  FaultCluster(const FaultCluster&) = delete;
  FaultCluster& operator=(const FaultCluster&) = delete;

  // `kafka.sh start` (the first time also generates the CA, formats the log dir and writes
  // the ACLs), then creates the cloud's topics if missing.
  absl::Status StartBroker();
  // SIGKILL to the broker's JVM; returns once it is gone.
  absl::Status KillBroker();
  std::string brokers() const;
  // The broker's super user (topic creation, reading every topic).
  pc::kafka::Security KafkaAdmin() const;

  // Starts `service` (not running) and waits until it serves gRPC. With `failpoints` it runs
  // the `-failpoints` binary with PC_FAILPOINTS=<failpoints>.
  absl::Status Start(Service service, const std::string& failpoints = "");
  // SIGTERM (a clean stop), then Start.
  absl::Status Restart(Service service, const std::string& failpoints = "");
  // kill -9; returns once the process is reaped.
  absl::Status Kill(Service service);
  // Waits for the line "failpoint <point>: crash at hit N" and the death by SIGKILL after it.
  absl::Status WaitForFailpointCrash(Service service, const std::string& point,
                                     absl::Duration timeout = absl::Seconds(120));
  // Waits for a line starting "failpoint <point>: pause" (the process goes on).
  absl::Status WaitForFailpointPause(Service service, const std::string& point,
                                     absl::Duration timeout = absl::Seconds(120));
  // False once the process has exited (or was never started).
  bool Running(Service service) const;

  std::string grpc_address(Service service) const;
  int admin_port(Service service) const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path jwt_dir() const { return dir_ / "jwt"; }
  // gRPC is mTLS, as in `make run` and the manifests: the driver's and checker's credentials.
  std::shared_ptr<grpc::ChannelCredentials> client_credentials() const {
    return tls_->Credentials("test");
  }
  // Process starts so far (the initial start included).
  int starts(Service service) const;

 private:
  struct Process {
    int grpc_port = 0;
    int admin_port = 0;
    int starts = 0;
    std::unique_ptr<pc::testing::Subprocess> process;
  };
  absl::Status KafkaScript(const std::string& verb);
  std::filesystem::path kafka_dir() const { return dir_ / "kafka"; }
  std::vector<std::string> Argv(Service service, bool failpoints) const;

  std::filesystem::path dir_;
  std::unique_ptr<pc::testing::TestTls> tls_;
  int broker_port_ = 0;
  int controller_port_ = 0;
  int sasl_port_ = 0;
  bool topics_created_ = false;
  std::map<Service, Process> processes_;
};

}  // namespace pc::fault
