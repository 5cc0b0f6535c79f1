// The failpoints of the `-failpoints` binaries: the rule parser, and crash/pause at the Nth hit.
#include <signal.h>
#include <stdlib.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/failpoint.h"

namespace pc::failpoint {
namespace {

using ::testing::HasSubstr;

TEST(FailpointRules, ParsesCrashAndPauseWithTheirHit) {
  auto rules = ParseRules("relay.after_publish=crash@3, consumer.after_commit=pause:1.5s");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].point, "relay.after_publish");
  EXPECT_EQ((*rules)[0].action, Rule::Action::kCrash);
  EXPECT_EQ((*rules)[0].at_hit, 3);
  EXPECT_EQ((*rules)[1].action, Rule::Action::kPause);
  EXPECT_EQ((*rules)[1].pause, absl::Milliseconds(1500));
  EXPECT_EQ((*rules)[1].at_hit, 1);
}

TEST(FailpointRules, RefusesUnknownPointsAndMalformedActions) {
  for (const char* spec : {"relay.after_publsh=crash", "rpc.after_commit=explode",
                           "rpc.after_commit=crash@0", "rpc.after_commit=crash@x",
                           "rpc.after_commit=pause:soon", "rpc.after_commit"}) {
    auto rules = ParseRules(spec);
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument) << spec;
  }
  EXPECT_THAT(std::string(ParseRules("nope=crash").status().message()),
              HasSubstr("unknown failpoint"));
}

TEST(FailpointDeathTest, CrashesBySigkillAtTheNthHitOnly) {
  EXPECT_EXIT(
      {
        setenv("PC_FAILPOINTS", "relay.between_batches=crash@2", 1);
        Hit("relay.after_publish");    // another point: no effect
        Hit("relay.between_batches");  // hit 1: no effect
        Hit("relay.between_batches");  // hit 2: SIGKILL
        _exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "failpoint relay.between_batches: crash at hit 2");
}

TEST(FailpointDeathTest, PausesAtTheNthHitAndGoesOn) {
  EXPECT_EXIT(
      {
        setenv("PC_FAILPOINTS", "rpc.after_commit=pause:1ms@1", 1);
        Hit("rpc.after_commit");
        Hit("rpc.after_commit");  // past the hit: no second pause
        _exit(7);
      },
      ::testing::ExitedWithCode(7), "failpoint rpc.after_commit: pause for 1ms at hit 1");
}

TEST(FailpointDeathTest, AMalformedSpecStopsTheProcessAtItsFirstHit) {
  EXPECT_EXIT(
      {
        setenv("PC_FAILPOINTS", "relay.after_publish=crash@soon", 1);
        Hit("rpc.after_commit");
        _exit(0);
      },
      ::testing::ExitedWithCode(2), "PC_FAILPOINTS: rule");
}

}  // namespace
}  // namespace pc::failpoint
