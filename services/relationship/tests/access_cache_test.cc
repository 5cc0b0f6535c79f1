// AccessCache: newest version wins whichever source (commit, topic, store) arrives first.
#include "access_cache.h"

#include "gtest/gtest.h"
#include "pc/common/ids.h"
#include "pc/events/envelope.h"
#include "pc/testing/status_matchers.h"

namespace pc::relationship {
namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
using ::pc::testing::StatusIs;

ev::EventEnvelope Event(int64_t version, const std::function<void(ev::EventEnvelope&)>& payload) {
  ev::EventEnvelope e = pc::events::NewEnvelope(
      {.cloud = "global", .partner_id = "p", .customer_id = "c", .aggregate_id = "p:c",
       .aggregate_version = version},
      absl::Now());
  payload(e);
  pc::events::Seal(e);
  return e;
}

class AccessCacheTest : public ::testing::Test {
 protected:
  AccessCache cache_{[this](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
    ++loads_;
    return stored_;
  }};
  AccessEntry stored_;
  int loads_ = 0;
};

TEST_F(AccessCacheTest, MissLoadsOnceThenAnswersFromMemory) {
  stored_ = {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_GRANTED, 4};
  ASSERT_OK_AND_ASSIGN(AccessEntry first, cache_.Get("p", "c"));
  ASSERT_OK_AND_ASSIGN(AccessEntry second, cache_.Get("p", "c"));
  EXPECT_EQ(first.version, 4);
  EXPECT_EQ(second.admin_access, common::ADMIN_ACCESS_GRANTED);
  EXPECT_EQ(loads_, 1);
  EXPECT_EQ(cache_.misses(), 1u);
  EXPECT_EQ(cache_.hits(), 1u);
}

TEST_F(AccessCacheTest, EventsUpdateAndOlderOnesAreIgnored) {
  EXPECT_TRUE(cache_.ApplyEvent(Event(1, [](ev::EventEnvelope& e) {
    e.mutable_relationship_established()->set_admin_access(common::ADMIN_ACCESS_GRANTED);
  })));
  EXPECT_TRUE(cache_.ApplyEvent(Event(3, [](ev::EventEnvelope& e) {
    e.mutable_permission_revoked()->set_reason("r");
  })));
  // A late PermissionGranted at version 2 must not undo the revoke at version 3.
  EXPECT_FALSE(cache_.ApplyEvent(Event(2, [](ev::EventEnvelope& e) {
    e.mutable_permission_granted()->set_restored(false);
  })));
  ASSERT_OK_AND_ASSIGN(AccessEntry entry, cache_.Get("p", "c"));
  EXPECT_EQ(entry.admin_access, common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(entry.version, 3);
  EXPECT_EQ(loads_, 0);
  // A service event advances the version, access unchanged.
  EXPECT_TRUE(cache_.ApplyEvent(Event(4, [](ev::EventEnvelope& e) {
    e.mutable_service_provisioned()->mutable_service()->set_id("s");
  })));
  ASSERT_OK_AND_ASSIGN(entry, cache_.Get("p", "c"));
  EXPECT_EQ(entry.version, 4);
  EXPECT_EQ(entry.admin_access, common::ADMIN_ACCESS_REVOKED);
}

TEST_F(AccessCacheTest, AStaleLoadNeverOverwritesANewerEntry) {
  cache_.Put("p", "c", {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_REVOKED, 7});
  cache_.Put("p", "c", {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_GRANTED, 6});
  ASSERT_OK_AND_ASSIGN(AccessEntry entry, cache_.Get("p", "c"));
  EXPECT_EQ(entry.admin_access, common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(AccessCacheTest, RemovalKeepsANotRequestedAdminAndEndsAGrantedOne) {
  cache_.Put("p", "c", {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_NOT_REQUESTED, 1});
  EXPECT_TRUE(cache_.ApplyEvent(Event(2, [](ev::EventEnvelope& e) {
    e.mutable_relationship_removed()->set_reason("r");
  })));
  ASSERT_OK_AND_ASSIGN(AccessEntry entry, cache_.Get("p", "c"));
  EXPECT_EQ(entry.state, common::RELATIONSHIP_STATE_REMOVED);
  EXPECT_EQ(entry.admin_access, common::ADMIN_ACCESS_NOT_REQUESTED);
}

TEST_F(AccessCacheTest, LoadErrorsFailClosedAndAreNotCached) {
  AccessCache failing([](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
    return absl::UnavailableError("db down");
  });
  EXPECT_THAT(failing.Get("p", "c"),
              StatusIs(absl::StatusCode::kUnavailable, kAccessStateUnavailable));
  EXPECT_EQ(failing.size(), 0u);
  EXPECT_EQ(failing.unavailable(), 1u);
}

// ---- Bounded staleness ----------------------------------------------------------------------

TEST(AccessCacheStalenessTest, NotFreshEveryGetReadsTheStoreAndRemembersTheNewest) {
  bool fresh = false;
  int loads = 0;
  AccessEntry stored{common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_GRANTED, 1};
  AccessCache cache(
      [&](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
        ++loads;
        return stored;
      },
      {.fresh = [&] { return fresh; }});
  ASSERT_OK_AND_ASSIGN(AccessEntry first, cache.Get("p", "c"));
  EXPECT_EQ(first.admin_access, common::ADMIN_ACCESS_GRANTED);
  // A revoke this replica never heard of (the topic is stalled): the store has it.
  stored = {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_REVOKED, 2};
  ASSERT_OK_AND_ASSIGN(AccessEntry second, cache.Get("p", "c"));
  EXPECT_EQ(second.admin_access, common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.read_throughs(), 2u);
  // Proven current again: memory answers, with what the read-through left there.
  fresh = true;
  ASSERT_OK_AND_ASSIGN(AccessEntry third, cache.Get("p", "c"));
  EXPECT_EQ(third.admin_access, common::ADMIN_ACCESS_REVOKED);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(AccessCacheStalenessTest, NotFreshAndNoStoreDeniesWithUnavailable) {
  AccessCache cache(
      [](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
        return absl::UnavailableError("connection refused");
      },
      {.fresh = [] { return false; }});
  cache.Put("p", "c", {common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_GRANTED, 3});
  // Memory says "granted", but memory can't be trusted and the store can't be asked.
  EXPECT_THAT(cache.Get("p", "c"),
              StatusIs(absl::StatusCode::kUnavailable, kAccessStateUnavailable));
}

// ---- Bounded size -----------------------------------------------------------------------------

TEST(AccessCacheSizeTest, StaysWithinItsCapacityUnderCallsForRandomCustomers) {
  int loads = 0;
  AccessCache cache(
      [&](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
        ++loads;
        return AccessEntry{};  // "no relationship": negative entries count too
      },
      {.capacity = 64});
  constexpr int kCalls = 5000;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_OK(cache.Get("p", pc::NewUuid()).status());
    ASSERT_LE(cache.size(), cache.capacity());
  }
  EXPECT_EQ(cache.capacity(), 64u);
  EXPECT_EQ(loads, kCalls);
  EXPECT_EQ(cache.evictions(), kCalls - cache.size());
}

TEST(AccessCacheSizeTest, ARecentlyUsedPairIsNotTheOneDropped) {
  int loads_of_hot = 0;
  AccessCache cache(
      [&](const std::string&, const std::string& c) -> absl::StatusOr<AccessEntry> {
        loads_of_hot += c == "hot";
        return AccessEntry{common::RELATIONSHIP_STATE_ACTIVE, common::ADMIN_ACCESS_GRANTED, 1};
      },
      {.capacity = 32});
  ASSERT_OK(cache.Get("p", "hot").status());
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(cache.Get("p", pc::NewUuid()).status());
    ASSERT_OK(cache.Get("p", "hot").status());  // used after every other pair
  }
  EXPECT_EQ(loads_of_hot, 1) << "the most recently used pair was evicted";
  EXPECT_GT(cache.evictions(), 0u);
}

}  // namespace
}  // namespace pc::relationship
