// FeedHub against a scripted WatchSource: one stream per partner shared by its pages, replay
// from the ring without repeats, resume after a broken stream, and who gets dropped when an
// identity stops working. Tests wait on what the sinks received, never on time.
#include "feed_hub.h"
#include "fake_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pc::portal {
namespace {

namespace v1 = ::partnercenter::notification::v1;
using ::pc::portal::testing::RecordingSink;
using ::pc::portal::testing::ScriptedSource;
using ::testing::ElementsAre;

class FeedHubTest : public ::testing::Test {
 protected:
  FeedHubTest()
      : source_(new ScriptedSource),
        hub_(std::unique_ptr<WatchSource>(source_),
             [](const v1::CustomerChange& c) { return absl::StrCat("seq:", c.sequence()); },
             [](const std::string& state, const std::string&) { return "status:" + state; },
             {.ring_size = 3, .min_backoff = absl::Milliseconds(1),
              .max_backoff = absl::Milliseconds(1)}) {}

  ScriptedSource* source_;  // owned by hub_
  FeedHub hub_;
};

TEST_F(FeedHubTest, PagesOfOnePartnerShareOneStreamAndEachGetsEveryChangeOnce) {
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  ASSERT_EQ(hub_.Subscribe("p1", "token-a", 10, a).outcome, FeedHub::Outcome::kSubscribed);
  ASSERT_EQ(hub_.Subscribe("p1", "token-b", 10, b).outcome, FeedHub::Outcome::kSubscribed);
  ASSERT_TRUE(source_->WaitOpened(1));
  source_->Push(11);
  source_->Push(12);
  a->WaitFor("seq:12");
  b->WaitFor("seq:12");
  EXPECT_THAT(a->Changes(), ElementsAre("seq:11", "seq:12"));
  EXPECT_THAT(b->Changes(), ElementsAre("seq:11", "seq:12"));
  const auto opens = source_->Opens();
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].partner, "p1");
  EXPECT_EQ(opens[0].resume, 10);  // resumed after the first page's sequence: no snapshot
  EXPECT_EQ(hub_.streams(), 1u);
  EXPECT_EQ(hub_.subscribers(), 2u);
}

TEST_F(FeedHubTest, PartnersNeverShareAStream) {
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "token-a", 0, a);
  hub_.Subscribe("p2", "token-b", 0, b);
  ASSERT_TRUE(source_->WaitOpened(2));
  const auto opens = source_->Opens();
  EXPECT_NE(opens[0].partner, opens[1].partner);
  EXPECT_NE(opens[0].token, opens[1].token);  // each partner's stream uses its own identity
  EXPECT_EQ(hub_.streams(), 2u);
}

TEST_F(FeedHubTest, ALateSubscriberIsReplayedWhatItMissedAndNothingTwice) {
  auto first = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 10, first);
  ASSERT_TRUE(source_->WaitOpened(1));
  source_->Push(11);
  source_->Push(12);
  source_->Push(13);
  first->WaitFor("seq:13");
  // Its page was rendered at 11 (or it reconnects with Last-Event-ID 11).
  auto late = std::make_shared<RecordingSink>();
  ASSERT_EQ(hub_.Subscribe("p1", "t", 11, late).outcome, FeedHub::Outcome::kSubscribed);
  source_->Push(14);
  late->WaitFor("seq:14");
  EXPECT_THAT(late->Changes(), ElementsAre("seq:12", "seq:13", "seq:14"));
  // A page rendered ahead of the stream skips what it already shows.
  auto ahead = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 15, ahead);
  source_->Push(15);
  source_->Push(16);
  ahead->WaitFor("seq:16");
  EXPECT_THAT(ahead->Changes(), ElementsAre("seq:16"));
}

TEST_F(FeedHubTest, ASubscriberOlderThanTheRingIsToldToReload) {
  auto first = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 10, first);
  ASSERT_TRUE(source_->WaitOpened(1));
  for (int64_t s = 11; s <= 15; ++s) source_->Push(s);  // ring holds 3: 13, 14, 15
  first->WaitFor("seq:15");
  auto stale = std::make_shared<RecordingSink>();
  EXPECT_EQ(hub_.Subscribe("p1", "t", 11, stale).outcome, FeedHub::Outcome::kReset);
  EXPECT_EQ(hub_.Subscribe("p1", "t", 9, stale).outcome, FeedHub::Outcome::kReset);
  EXPECT_TRUE(stale->Changes().empty());
  EXPECT_EQ(hub_.Subscribe("p1", "t", 12, stale).outcome, FeedHub::Outcome::kSubscribed);
  EXPECT_THAT(stale->Changes(), ElementsAre("seq:13", "seq:14", "seq:15"));
}

TEST_F(FeedHubTest, ABrokenStreamResumesAfterTheLastChangeWithoutGapOrRepeat) {
  auto sink = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 0, sink);
  ASSERT_TRUE(source_->WaitOpened(1));
  source_->Push(1);
  source_->Push(2);
  sink->WaitFor("seq:2");
  source_->End(absl::UnavailableError("notification restarted"));
  ASSERT_TRUE(source_->WaitOpened(2));
  EXPECT_EQ(source_->Opens()[1].resume, 2);
  source_->Push(3);
  const auto frames = sink->WaitFor("seq:3");
  EXPECT_THAT(sink->Changes(), ElementsAre("seq:1", "seq:2", "seq:3"));
  // The page was told the backend dropped and came back.
  auto reconnecting = std::find(frames.begin(), frames.end(), "status:reconnecting");
  ASSERT_NE(reconnecting, frames.end());
  EXPECT_NE(std::find(reconnecting, frames.end(), "status:live"), frames.end());
}

TEST_F(FeedHubTest, ABackendThatRefusesTheWatchIsRetried) {
  source_->refuse_next = absl::UnavailableError("down");
  auto sink = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 5, sink);
  ASSERT_TRUE(source_->WaitOpened(2));
  source_->Push(6);
  sink->WaitFor("seq:6");
  EXPECT_THAT(sink->Changes(), ElementsAre("seq:6"));
  EXPECT_EQ(source_->Opens()[1].resume, 5);
}

TEST_F(FeedHubTest, AnIdentityThatStopsWorkingLosesItsSubscribersOnly) {
  auto expired = std::make_shared<RecordingSink>();
  auto other = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "old-token", 0, expired);
  hub_.Subscribe("p1", "new-token", 0, other);
  ASSERT_TRUE(source_->WaitOpened(1));
  EXPECT_EQ(source_->Opens()[0].token, "old-token");
  source_->End(absl::UnauthenticatedError("token expired"));
  EXPECT_TRUE(expired->WaitClosed());
  ASSERT_TRUE(source_->WaitOpened(2));
  EXPECT_EQ(source_->Opens()[1].token, "new-token");
  source_->Push(1);
  other->WaitFor("seq:1");
  EXPECT_THAT(other->Changes(), ElementsAre("seq:1"));
  EXPECT_TRUE(expired->Changes().empty());
  EXPECT_EQ(hub_.subscribers(), 1u);
}

TEST_F(FeedHubTest, AFeedThatCannotResumeSendsEveryPageToReload) {
  auto sink = std::make_shared<RecordingSink>();
  hub_.Subscribe("p1", "t", 7, sink);
  ASSERT_TRUE(source_->WaitOpened(1));
  source_->End(absl::InvalidArgumentError("resume_after_sequence is ahead of this feed"));
  sink->WaitFor("status:reset");
  EXPECT_TRUE(sink->WaitClosed());
}

TEST_F(FeedHubTest, UnsubscribedSinksGetNothingMore) {
  auto gone = std::make_shared<RecordingSink>();
  auto stays = std::make_shared<RecordingSink>();
  const auto sub = hub_.Subscribe("p1", "t", 0, gone);
  hub_.Subscribe("p1", "t", 0, stays);
  ASSERT_TRUE(source_->WaitOpened(1));
  hub_.Unsubscribe("p1", sub.id);
  source_->Push(1);
  stays->WaitFor("seq:1");
  EXPECT_TRUE(gone->Changes().empty());
}

}  // namespace
}  // namespace pc::portal
