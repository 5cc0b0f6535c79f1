// AccessFreshness: the cache is proven current as of a probe's horizon only when the topic
// catch-up after it succeeded; staleness grows from there, and failures never advance it.
#include "access_freshness.h"

#include "gtest/gtest.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/status_matchers.h"

namespace pc::relationship {
namespace {

class AccessFreshnessTest : public ::testing::Test {
 protected:
  pc::testing::FakeClock clock_{absl::FromUnixSeconds(1'750'000'000)};
  absl::StatusOr<absl::Time> horizon_ = absl::UnavailableError("unset");
  absl::Status catch_up_ = absl::OkStatus();
  int catch_ups_ = 0;
  AccessFreshness freshness_{{.max_staleness = absl::Seconds(2)},
                             clock_,
                             [this] { return horizon_; },
                             [this](absl::Duration timeout) {
                               ++catch_ups_;
                               EXPECT_EQ(timeout, absl::Seconds(2));
                               return catch_up_;
                             }};
};

TEST_F(AccessFreshnessTest, NothingIsProvenBeforeTheFirstProbe) {
  EXPECT_EQ(freshness_.Staleness(), absl::InfiniteDuration());
  EXPECT_FALSE(freshness_.Fresh());
}

TEST_F(AccessFreshnessTest, AProbeProvesItsHorizonAndStalenessGrowsFromThere) {
  horizon_ = clock_.Now() - absl::Milliseconds(500);  // an unsent outbox row, 0.5 s old
  ASSERT_OK(freshness_.Probe());
  EXPECT_EQ(freshness_.Staleness(), absl::Milliseconds(500));
  EXPECT_TRUE(freshness_.Fresh());
  clock_.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(freshness_.Staleness(), absl::Seconds(2));
  EXPECT_TRUE(freshness_.Fresh()) << "the bound itself is still within the bound";
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(freshness_.Fresh());
}

TEST_F(AccessFreshnessTest, AStalledTopicNeverAdvancesTheProof) {
  horizon_ = clock_.Now();
  ASSERT_OK(freshness_.Probe());
  clock_.Advance(absl::Seconds(3));
  horizon_ = clock_.Now();
  catch_up_ = absl::DeadlineExceededError("tail behind");
  EXPECT_FALSE(freshness_.Probe().ok());
  EXPECT_EQ(freshness_.Staleness(), absl::Seconds(3));
  EXPECT_FALSE(freshness_.Fresh());
  EXPECT_TRUE(freshness_.database_reachable());
  EXPECT_EQ(freshness_.probes_failed(), 1u);
  catch_up_ = absl::OkStatus();
  ASSERT_OK(freshness_.Probe());
  EXPECT_TRUE(freshness_.Fresh());
}

TEST_F(AccessFreshnessTest, AnUnreachableDatabaseIsReportedAndTheTopicIsNotAsked) {
  horizon_ = absl::UnavailableError("connection refused");
  EXPECT_FALSE(freshness_.Probe().ok());
  EXPECT_FALSE(freshness_.database_reachable());
  EXPECT_EQ(catch_ups_, 0);
  EXPECT_FALSE(freshness_.Fresh());
}

TEST_F(AccessFreshnessTest, AnOlderHorizonNeverMovesTheProofBack) {
  horizon_ = clock_.Now();
  ASSERT_OK(freshness_.Probe());
  horizon_ = clock_.Now() - absl::Seconds(10);  // a row stuck unsent since long ago
  ASSERT_OK(freshness_.Probe());
  EXPECT_EQ(freshness_.Staleness(), absl::ZeroDuration());
}

}  // namespace
}  // namespace pc::relationship
