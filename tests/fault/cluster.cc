#include "cluster.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pc/common/status_macros.h"
#include "pc/kafka/admin.h"
#include "pc/testing/infra.h"

namespace pc::fault {
namespace {

struct Binaries {
  const char* release;
  const char* failpoints;
};

Binaries BinariesOf(Service service) {
  switch (service) {
    case Service::kInvitation:
      return {PC_INVITATION_BINARY, PC_INVITATION_FAILPOINTS_BINARY};
    case Service::kRelationship:
      return {PC_RELATIONSHIP_BINARY, PC_RELATIONSHIP_FAILPOINTS_BINARY};
    case Service::kNotification:
      return {PC_NOTIFICATION_BINARY, PC_NOTIFICATION_FAILPOINTS_BINARY};
  }
  return {"", ""};
}

bool Contains(const std::string& line, const std::string& needle) {
  return absl::StrContains(line, needle);
}

// Waits for a line containing `needle`, among the lines already read or still to come.
absl::Status WaitLine(pc::testing::Subprocess& p, const std::string& needle,
                      absl::Duration timeout) {
  for (const std::string& line : p.lines()) {
    if (Contains(line, needle)) return absl::OkStatus();
  }
  return p.WaitForLine([&](const std::string& l) { return Contains(l, needle); }, timeout)
      .status();
}

// The broker's pid from kafka.sh's pid file, if that process is alive and is the broker of
// `kafka_dir` (its command line names the dir: -Dkafka.logs.dir=…).
std::optional<pid_t> BrokerPid(const std::filesystem::path& kafka_dir) {
  std::ifstream pid_file(kafka_dir / "kafka.pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0) return std::nullopt;
  std::ifstream cmdline(absl::StrCat("/proc/", pid, "/cmdline"));
  std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  const std::string logs_dir = std::filesystem::weakly_canonical(kafka_dir).string();
  if (!absl::StrContains(args, "kafka.Kafka") ||
      !absl::StrContains(args, "kafka.logs.dir=" + logs_dir)) {
    return std::nullopt;
  }
  return pid;
}

// Waits until `pid` (not our child: kafka.sh started it in a session of its own) has exited.
absl::Status WaitGone(pid_t pid, absl::Duration timeout) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    return errno == ESRCH ? absl::OkStatus()
                          : absl::InternalError(absl::StrCat("pidfd_open: ", strerror(errno)));
  }
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  const int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  close(fd);
  if (n == 1) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("pid ", pid, " still alive"));
}

}  // namespace

std::string Name(Service service) {
  switch (service) {
    case Service::kInvitation:
      return "invitation";
    case Service::kRelationship:
      return "relationship";
    case Service::kNotification:
      return "notification";
  }
  return "?";
}

void FaultCluster::Clean(const std::filesystem::path& dir) {
  if (std::optional<pid_t> pid = BrokerPid(dir / "kafka")) {
    kill(*pid, SIGKILL);
    (void)WaitGone(*pid, absl::Seconds(30));
  }
  std::filesystem::remove_all(dir);
}

FaultCluster::FaultCluster(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  tls_ = std::make_unique<pc::testing::TestTls>(
      dir_ / "grpc-tls", std::vector<std::string>{"invitation", "relationship", "notification",
                                                  "test"});
  broker_port_ = pc::testing::FreeTcpPort();
  controller_port_ = pc::testing::FreeTcpPort();
  sasl_port_ = pc::testing::FreeTcpPort();
  for (Service s : kServices) {
    processes_[s].grpc_port = pc::testing::FreeTcpPort();
    processes_[s].admin_port = pc::testing::FreeTcpPort();
  }
}

FaultCluster::~FaultCluster() {
  processes_.clear();  // Subprocess: SIGKILL + reap
  if (std::optional<pid_t> pid = BrokerPid(kafka_dir())) {
    kill(*pid, SIGKILL);
    (void)WaitGone(*pid, absl::Seconds(30));
  }
}

std::string FaultCluster::brokers() const { return absl::StrCat("127.0.0.1:", broker_port_); }

pc::kafka::Security FaultCluster::KafkaAdmin() const {
  return pc::testing::KafkaSecurity("admin", (kafka_dir() / "certs").string());
}

absl::Status FaultCluster::KafkaScript(const std::string& verb) {
  pc::testing::Subprocess script(
      {PC_KAFKA_SCRIPT, verb},
      {{"PC_KAFKA_DIR", kafka_dir().string()},
       {"PC_KAFKA_PORT", absl::StrCat(broker_port_)},
       {"PC_KAFKA_CONTROLLER_PORT", absl::StrCat(controller_port_)},
       {"PC_KAFKA_SASL_PORT", absl::StrCat(sasl_port_)},
       {"PC_KAFKA_HEAP", "-Xmx384m"},
       {"PC_PCCTL", PC_PCCTL_BINARY}},
      (dir_ / absl::StrCat("kafka-", verb, ".log")).string());
  const int status = script.Wait();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string tail;
  for (const std::string& line : script.lines()) absl::StrAppend(&tail, "\n  ", line);
  return absl::InternalError(absl::StrCat("kafka.sh ", verb, " failed:", tail));
}

absl::Status FaultCluster::StartBroker() {
  PC_RETURN_IF_ERROR(KafkaScript("start"));
  if (!topics_created_) {
    PC_RETURN_IF_ERROR(
        pc::kafka::CreateTopics(brokers(), KafkaAdmin(), pc::kafka::CloudTopics(kCloud), 3, 1));
    topics_created_ = true;
  }
  return absl::OkStatus();
}

absl::Status FaultCluster::KillBroker() {
  std::optional<pid_t> pid = BrokerPid(kafka_dir());
  if (!pid.has_value()) return absl::FailedPreconditionError("the broker is not running");
  if (kill(*pid, SIGKILL) != 0) return absl::InternalError(strerror(errno));
  return WaitGone(*pid, absl::Seconds(30));
}

std::vector<std::string> FaultCluster::Argv(Service service, bool failpoints) const {
  const Binaries binaries = BinariesOf(service);
  const Process& self = processes_.at(service);
  std::vector<std::string> argv = {
      failpoints ? binaries.failpoints : binaries.release,
      absl::StrCat("--cloud=", kCloud),
      absl::StrCat("--grpc_port=", self.grpc_port),
      absl::StrCat("--admin_port=", self.admin_port),
      "--log_format=text",
      "--drain_delay=0s",
      "--kafka_brokers=" + brokers(),
      "--jwt_keys_dir=" + jwt_dir().string(),
      "--database_url=sqlite://" + (dir_ / (Name(service) + ".db")).string()};
  for (std::string& flag : tls_->Flags(Name(service))) argv.push_back(std::move(flag));
  switch (service) {
    case Service::kInvitation:
      argv.push_back("--relationship_address=" + grpc_address(Service::kRelationship));
      break;
    case Service::kRelationship:
      argv.push_back("--invitation_address=" + grpc_address(Service::kInvitation));
      argv.push_back("--consumer_instance_id=fault-relationship");
      break;
    case Service::kNotification:
      argv.push_back("--consumer_instance_id=fault-notification");
      break;
  }
  return argv;
}

absl::Status FaultCluster::Start(Service service, const std::string& failpoints) {
  Process& self = processes_[service];
  if (Running(service)) return absl::FailedPreconditionError(Name(service) + " is running");
  std::map<std::string, std::string> env =
      pc::testing::KafkaSecurityEnv(Name(service), (kafka_dir() / "certs").string());
  if (!failpoints.empty()) env["PC_FAILPOINTS"] = failpoints;
  ++self.starts;
  self.process = std::make_unique<pc::testing::Subprocess>(
      Argv(service, !failpoints.empty()), env,
      (dir_ / absl::StrCat(Name(service), ".", self.starts, ".log")).string());
  absl::Status serving = WaitLine(*self.process, "serving gRPC on :", absl::Seconds(90));
  if (!serving.ok()) {
    return absl::UnavailableError(absl::StrCat(Name(service), " start ", self.starts,
                                               " did not serve: ", serving.ToString()));
  }
  return absl::OkStatus();
}

absl::Status FaultCluster::Restart(Service service, const std::string& failpoints) {
  Process& self = processes_[service];
  if (self.process != nullptr) {
    self.process->Kill(SIGTERM);
    self.process->Wait();
    self.process.reset();
  }
  return Start(service, failpoints);
}

absl::Status FaultCluster::Kill(Service service) {
  Process& self = processes_[service];
  if (!Running(service)) return absl::FailedPreconditionError(Name(service) + " is not running");
  self.process->Kill(SIGKILL);
  const int status = self.process->Wait();
  self.process.reset();
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return absl::InternalError(absl::StrCat(Name(service), " had exited before the kill"));
  }
  return absl::OkStatus();
}

absl::Status FaultCluster::WaitForFailpointCrash(Service service, const std::string& point,
                                                 absl::Duration timeout) {
  Process& self = processes_[service];
  if (self.process == nullptr) return absl::FailedPreconditionError("not started");
  PC_RETURN_IF_ERROR(
      WaitLine(*self.process, absl::StrCat("failpoint ", point, ": crash at hit"), timeout));
  const int status = self.process->Wait();
  self.process.reset();
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return absl::InternalError(absl::StrCat(Name(service), " logged the crash of ", point,
                                            " but did not die by SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status FaultCluster::WaitForFailpointPause(Service service, const std::string& point,
                                                 absl::Duration timeout) {
  Process& self = processes_[service];
  if (self.process == nullptr) return absl::FailedPreconditionError("not started");
  return WaitLine(*self.process, absl::StrCat("failpoint ", point, ": pause"), timeout);
}

bool FaultCluster::Running(Service service) const {
  auto it = processes_.find(service);
  if (it == processes_.end() || it->second.process == nullptr) return false;
  // A zombie (exited, not reaped yet) counts as gone.
  std::ifstream stat(absl::StrCat("/proc/", it->second.process->pid(), "/stat"));
  std::string pid, comm, state;
  if (!(stat >> pid >> comm >> state)) return false;
  return state != "Z";
}

std::string FaultCluster::grpc_address(Service service) const {
  return absl::StrCat("127.0.0.1:", processes_.at(service).grpc_port);
}

int FaultCluster::admin_port(Service service) const { return processes_.at(service).admin_port; }

int FaultCluster::starts(Service service) const { return processes_.at(service).starts; }

}  // namespace pc::fault
