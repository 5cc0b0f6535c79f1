// AccessCache: newest version wins whichever source (commit, topic, store) arrives first.
#include "access_cache.h"

#include "gtest/gtest.h"
#include "pc/events/envelope.h"
#include "pc/testing/status_matchers.h"

namespace pc::relationship {
namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;

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

TEST_F(AccessCacheTest, LoadErrorsAreReturnedAndNotCached) {
  AccessCache failing([](const std::string&, const std::string&) -> absl::StatusOr<AccessEntry> {
    return absl::UnavailableError("db down");
  });
  EXPECT_FALSE(failing.Get("p", "c").ok());
  EXPECT_EQ(failing.size(), 0u);
}

}  // namespace
}  // namespace pc::relationship
