// The fault tier (label `fault`, issue 15): a few hundred invite → accept pairs through the
// real gRPC APIs while every failpoint fires, every service is killed with kill -9 and the
// broker is killed and restarted; then, once every service's /caughtup says so, the checker
// compares what was acknowledged with what the system holds. Must hold: nothing lost, nothing
// doubled, versions strictly increasing per aggregate, every invitation's path legal.
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checker.h"
#include "cluster.h"
#include "driver.h"
#include "gtest/gtest.h"
#include "pc/auth/keys.h"
#include "pc/common/status_macros.h"
#include "pc/testing/http_get.h"
#include "pc/testing/infra.h"
#include "pc/testing/status_matchers.h"

namespace pc::fault {
namespace {

constexpr int kPairsPerStep = 25;

// GET http://127.0.0.1:<port><target>: the status (0 if it could not connect) and the body.
// Waits until each service's /caughtup answers 200, in pipeline order: invitation (outbox
// empty), relationship (no lag on invitation events, outbox empty), notification (no lag on
// either topic). Each is asked after the one upstream of it said yes, so when the last says
// yes every acknowledged write has reached every read model.
absl::Status WaitCaughtUp(const FaultCluster& cluster, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (Service s : kServices) {
    absl::Status caught_up =
        pc::testing::WaitForHttp200(cluster.admin_port(s), "/caughtup", deadline - absl::Now());
    if (!caught_up.ok()) return absl::DeadlineExceededError(absl::StrCat(Name(s), ": ", caught_up.message()));
  }
  return absl::OkStatus();
}

// One fault of the campaign, run while the driver has pairs to run.
struct Step {
  std::string name;
  std::function<absl::Status(FaultCluster&, Driver&, absl::Duration* outage)> run;
};

// Restarts `service` as its -failpoints binary with `spec`, lets pairs run until `point`
// crashes it, and brings it back as the release binary.
Step Failpoint(Service service, const std::string& spec, const std::string& point) {
  return {absl::StrCat(Name(service), " ", spec),
          [=](FaultCluster& cluster, Driver& driver, absl::Duration* outage) -> absl::Status {
            PC_RETURN_IF_ERROR(cluster.Restart(service, spec));
            driver.Release(kPairsPerStep);
            PC_RETURN_IF_ERROR(cluster.WaitForFailpointCrash(service, point));
            const absl::Time down = absl::Now();
            PC_RETURN_IF_ERROR(cluster.Start(service));
            *outage = absl::Now() - down;
            return absl::OkStatus();
          }};
}

// A pause: the process freezes at `point` and goes on by itself.
Step Pause(Service service, const std::string& spec, const std::string& point) {
  return {absl::StrCat(Name(service), " ", spec),
          [=](FaultCluster& cluster, Driver& driver, absl::Duration* outage) -> absl::Status {
            PC_RETURN_IF_ERROR(cluster.Restart(service, spec));
            driver.Release(kPairsPerStep);
            PC_RETURN_IF_ERROR(cluster.WaitForFailpointPause(service, point));
            *outage = -absl::InfiniteDuration();  // not down: frozen for a while
            return absl::OkStatus();
          }};
}

// kill -9 of `services` at once, when a third of the step's pairs are answered; then each is
// started again.
Step Kill(std::vector<Service> services) {
  std::string name;
  for (Service s : services) absl::StrAppend(&name, name.empty() ? "" : " + ", Name(s));
  return {name + " kill -9",
          [=](FaultCluster& cluster, Driver& driver, absl::Duration* outage) -> absl::Status {
            const int before = driver.answered();
            driver.Release(kPairsPerStep);
            PC_RETURN_IF_ERROR(driver.WaitAnswered(before + kPairsPerStep / 3, absl::Minutes(2)));
            for (Service s : services) PC_RETURN_IF_ERROR(cluster.Kill(s));
            const absl::Time down = absl::Now();
            for (Service s : services) PC_RETURN_IF_ERROR(cluster.Start(s));
            *outage = absl::Now() - down;
            return absl::OkStatus();
          }};
}

// kill -9 of the broker; writes go on being acknowledged (into the outboxes) while it is
// down; then `kafka.sh start` on the same data dir.
Step KillBroker() {
  return {"broker kill -9, then kafka.sh start",
          [](FaultCluster& cluster, Driver& driver, absl::Duration* outage) -> absl::Status {
            const int before = driver.answered();
            driver.Release(kPairsPerStep);
            PC_RETURN_IF_ERROR(driver.WaitAnswered(before + kPairsPerStep / 4, absl::Minutes(2)));
            PC_RETURN_IF_ERROR(cluster.KillBroker());
            const absl::Time down = absl::Now();
            PC_RETURN_IF_ERROR(driver.WaitAnswered(before + kPairsPerStep / 2, absl::Minutes(1)));
            PC_RETURN_IF_ERROR(cluster.StartBroker());
            *outage = absl::Now() - down;
            return absl::OkStatus();
          }};
}

// Lines containing `needle` in the services' logs (every process start has its own file).
int CountLogLines(const std::filesystem::path& dir, const std::string& needle) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) n += absl::StrContains(line, needle);
  }
  return n;
}

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

// The whole campaign; its ASSERTs end it early, and `cluster` then kills what it started.
void RunCampaign(const std::filesystem::path& dir) {
  const absl::Time started = absl::Now();
  ASSERT_OK(pc::auth::GenerateDevKeyPair((dir / "jwt").string(), "k1").status());
  {
    FaultCluster cluster(dir);
    ASSERT_OK(cluster.StartBroker());
    const absl::Duration broker_start = absl::Now() - started;
    for (Service s : kServices) ASSERT_OK(cluster.Start(s));
    Tokens tokens(cluster.jwt_dir());

    const std::vector<Step> steps = {
        Failpoint(Service::kInvitation, "rpc.after_commit=crash@7", "rpc.after_commit"),
        Failpoint(Service::kRelationship, "consumer.after_commit=crash@10",
                  "consumer.after_commit"),
        Failpoint(Service::kNotification, "consumer.after_commit=crash@15",
                  "consumer.after_commit"),
        Failpoint(Service::kInvitation, "relay.after_publish=crash@1", "relay.after_publish"),
        Failpoint(Service::kRelationship, "relay.after_publish=crash@1", "relay.after_publish"),
        Failpoint(Service::kInvitation, "relay.between_batches=crash@4", "relay.between_batches"),
        Failpoint(Service::kRelationship, "rpc.after_commit=crash@2", "rpc.after_commit"),
        Pause(Service::kRelationship, "relay.between_batches=pause:2s@3", "relay.between_batches"),
        Kill({Service::kInvitation}),
        Kill({Service::kRelationship}),
        Kill({Service::kNotification}),
        // Two consumers at once: recoveries must not stack (issue 15 saw 40–74 s each).
        Kill({Service::kRelationship, Service::kNotification}),
        KillBroker(),
    };
    Driver driver(cluster, tokens,
                  {.pairs = kPairsPerStep * static_cast<int>(steps.size() + 1)});

    // Warm-up without faults, then one fault per step, each with pairs of its own in flight.
    driver.Release(kPairsPerStep);
    ASSERT_OK(driver.WaitIdle(absl::Minutes(2)));
    struct Outcome {
      std::string fault;
      absl::Duration down;       // crash or kill → serving again
      absl::Duration answered;   // fault over → the step's last pair acknowledged
      absl::Duration caught_up;  // fault over → every /caughtup true
    };
    std::vector<Outcome> outcomes;
    absl::Time last_fault_over;
    for (const Step& step : steps) {
      absl::Duration down;
      const absl::Status ran = step.run(cluster, driver, &down);
      ASSERT_OK(ran) << "step: " << step.name << "; logs in " << dir;
      last_fault_over = absl::Now();
      ASSERT_OK(driver.WaitIdle(absl::Minutes(3))) << "after step: " << step.name;
      const absl::Duration answered = absl::Now() - last_fault_over;
      for (Service s : kServices) {
        ASSERT_TRUE(cluster.Running(s)) << Name(s) << " exited on its own after " << step.name
                                        << "; logs in " << dir;
      }
      // The step's recovery: the next fault starts from a caught-up pipeline.
      ASSERT_OK(WaitCaughtUp(cluster, absl::Minutes(3)))
          << "after step: " << step.name << "; logs in " << dir;
      outcomes.push_back({step.name, down, answered, absl::Now() - last_fault_over});
    }
    driver.Stop();
    const absl::Duration converged = outcomes.back().caught_up;

    Checker checker(cluster, tokens, driver.partners());
    absl::StatusOr<Report> report = checker.Check(driver.Ledger());
    ASSERT_OK(report.status());

    std::string table = absl::StrFormat(
        "\nfault tier: %d pairs over %d partners, %d faults; broker started in %s\n",
        driver.released(), static_cast<int>(driver.partners().size()),
        static_cast<int>(steps.size()), Seconds(broker_start));
    absl::StrAppendFormat(&table, "  %-48s %8s %9s %10s\n", "fault", "down", "answered",
                          "caught up");
    for (const Outcome& o : outcomes) {
      absl::StrAppendFormat(&table, "  %-48s %8s %9s %10s\n", o.fault,
                            o.down < absl::ZeroDuration() ? "paused" : Seconds(o.down),
                            Seconds(o.answered), Seconds(o.caught_up));
    }
    absl::StrAppendFormat(&table, "  %s\n",
                          "(down: died → serving again; answered, caught up: from the end of the "
                          "fault to the step's last acknowledgement, to every /caughtup)");
    table += report->Table();
    absl::StrAppendFormat(&table, "  %-48s %d\n", "calls retried (UNAVAILABLE, DEADLINE)",
                          driver.retries());
    absl::StrAppendFormat(&table, "  %-48s %d\n", "revokes retried (NOT_FOUND: not applied yet)",
                          driver.early_revokes());
    absl::StrAppendFormat(&table, "  %-48s %d\n", "consumers rejoined after fencing themselves",
                          CountLogLines(dir, "fenced by its own stale request"));
    absl::StrAppendFormat(&table, "  %-48s %s\n", "time to converge after the last fault",
                          Seconds(converged));
    absl::StrAppendFormat(&table, "  %-48s %s\n", "wall time", Seconds(absl::Now() - started));
    std::cout << table << std::flush;

    for (const std::string& problem : report->problems) ADD_FAILURE() << problem;
  }
}

TEST(FaultTier, CrashesAndKillsLoseNothingAndDoubleNothing) {
  // CTest names a dir in the build tree (PC_FAULT_DIR): what a failed run kept is cleaned up,
  // and a broker it left behind killed, by the next run.
  const char* env = std::getenv("PC_FAULT_DIR");
  const std::filesystem::path dir =
      env != nullptr && *env != '\0'
          ? std::filesystem::path(env)
          : std::filesystem::temp_directory_path() / pc::testing::UniqueName("fault");
  FaultCluster::Clean(dir);
  std::filesystem::create_directories(dir);
  RunCampaign(dir);
  const char* keep = std::getenv("PC_FAULT_KEEP");
  if (HasFailure() || (keep != nullptr && std::string(keep) == "1")) {
    std::cerr << "logs and data kept in " << dir << "\n";
  } else {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace pc::fault
