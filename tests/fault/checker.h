// The fault tier's checker: once the cluster has caught up, it reads back everything the
// system holds — every topic from the beginning, the relationships, the Customers pages, each
// relationship's history and the invitations — and compares it, by id, with what the driver
// was acknowledged.
//
//   Checker checker(cluster, tokens, driver.partners());
//   absl::StatusOr<Report> report = checker.Check(driver.Ledger());
//   EXPECT_THAT(report->problems, IsEmpty());
//   std::cout << report->Table();
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cluster.h"
#include "driver.h"

namespace pc::fault {

// One comparison: `acknowledged` calls against the effects found for them.
struct Tally {
  std::string what;
  int acknowledged = 0;
  int effects = 0;   // effects found for acknowledged calls
  int lost = 0;      // acknowledged, no effect
  int doubled = 0;   // acknowledged, more than one effect
  int stray = 0;     // effects nobody was acknowledged for
  void Add(int found) {
    ++acknowledged;
    effects += found;
    lost += found == 0;
    doubled += found > 1;
  }
};

struct TopicStats {
  std::string topic;
  int records = 0;     // messages on the topic
  int events = 0;      // distinct event ids
  int duplicates = 0;  // records repeating an event id already seen (at-least-once delivery)
};

struct Report {
  std::vector<Tally> tallies;
  std::vector<TopicStats> topics;
  int dead_letters = 0;
  // Every violation found, one line each; empty when the run held.
  std::vector<std::string> problems;
  // The table the tier prints (the caller adds the driver's and the faults' lines).
  std::string Table() const;
};

class Checker {
 public:
  Checker(const FaultCluster& cluster, const Tokens& tokens, std::vector<std::string> partners);
  absl::StatusOr<Report> Check(const std::vector<Pair>& ledger) const;

 private:
  const FaultCluster& cluster_;
  const Tokens& tokens_;
  std::vector<std::string> partners_;
};

}  // namespace pc::fault
