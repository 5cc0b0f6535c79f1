// Watch streams: snapshot then live, resume without gap or duplicate, 50 concurrent watchers,
// a slow watcher ended with RESOURCE_EXHAUSTED, shutdown with UNAVAILABLE, tenant checks —
// against the domain on SQLite, and once through real gRPC.
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "domain.h"
#include "events.h"
#include "grpc_service.h"
#include "gtest/gtest.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/errors.h"
#include "pc/storage/database.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/grpc_server.h"
#include "pc/testing/status_matchers.h"
#include "projector.h"

namespace pc::notification::testing {
namespace {

using ::pc::testing::StatusIs;
using Code = absl::StatusCode;

CallContext PartnerCall(const std::string& tenant) {
  return {{.subject = "u", .tenant_id = tenant, .cloud = "global", .roles = {"partner_admin"}}};
}

// A watcher on its own thread: records what it receives; tests wait on it (bounded).
class Watcher {
 public:
  // `block_at`: the watcher's send blocks when it gets this sequence, until Release().
  Watcher(NotificationDomain& domain, FeedSignal& signal, const CallContext& call,
          std::optional<int64_t> resume, int64_t stop_after = -1, int64_t block_at = -1)
      : signal_(signal),
        thread_([this, &domain, call, resume, stop_after, block_at] {
          v1::WatchCustomersRequest req;
          if (resume) req.set_resume_after_sequence(*resume);
          absl::Status s = domain.WatchCustomers(
              call, req,
              [&](const v1::CustomerChange& c) {
                std::unique_lock lock(mu_);
                changes_.push_back(c);
                cv_.notify_all();
                if (c.sequence() == block_at && c.kind() == v1::CHANGE_KIND_UPSERT) {
                  cv_.wait(lock, [&] { return released_; });
                }
                return stop_after < 0 || c.sequence() < stop_after ||
                       c.kind() != v1::CHANGE_KIND_UPSERT;
              },
              [this] { return cancelled_.load(); });
          std::lock_guard lock(mu_);
          status_ = s;
          done_ = true;
          cv_.notify_all();
        }) {}
  ~Watcher() {
    cancelled_ = true;
    Release();
    signal_.Notify();  // wake it from its wait so it sees the cancellation
    thread_.join();
  }

  // Waits until a change with `sequence` (live) arrived.
  bool WaitForSequence(int64_t sequence) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] {
      for (const auto& c : changes_) {
        if (c.sequence() >= sequence && c.kind() != v1::CHANGE_KIND_SNAPSHOT &&
            c.kind() != v1::CHANGE_KIND_SNAPSHOT_END) {
          return true;
        }
      }
      return false;
    });
  }
  bool WaitForKind(v1::ChangeKind kind) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] {
      for (const auto& c : changes_) {
        if (c.kind() == kind) return true;
      }
      return false;
    });
  }
  absl::Status WaitDone() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return done_; }));
    return status_;
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Sequences of the live (UPSERT/REMOVE) changes received.
  std::vector<int64_t> LiveSequences() {
    std::lock_guard lock(mu_);
    std::vector<int64_t> out;
    for (const auto& c : changes_) {
      if (c.kind() == v1::CHANGE_KIND_UPSERT || c.kind() == v1::CHANGE_KIND_REMOVE) {
        out.push_back(c.sequence());
      }
    }
    return out;
  }
  std::vector<v1::CustomerChange> changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::CustomerChange> changes_;
  absl::Status status_;
  bool done_ = false;
  bool released_ = false;
  std::atomic<bool> cancelled_{false};
  FeedSignal& signal_;
  std::thread thread_;
};

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(DomainOptions{}); }

  void Make(DomainOptions options) {
    auto db = pc::storage::Open(":memory:");
    ASSERT_OK(db.status());
    db_ = *std::move(db);
    ASSERT_OK(NotificationStore::Migrate(*db_));
    store_ = std::make_unique<NotificationStore>(*db_);
    projector_ = std::make_unique<Projector>(ProjectorOptions{}, *store_,
                                             [this] { signal_.Notify(); });
    // A long poll interval: only the projector's signal wakes watchers in these tests.
    options.poll_interval = absl::Minutes(5);
    domain_ = std::make_unique<NotificationDomain>(options, *store_, signal_);
  }

  // Applies `n` changes for partner p1 (customers c-<i>); returns the last sequence.
  void ApplyChanges(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(projector_->Apply(events_.Established("p1", absl::StrCat("c-", next_++), 1)));
    }
  }

  EventFactory events_;
  int next_ = 0;
  std::unique_ptr<pc::storage::Database> db_;
  std::unique_ptr<NotificationStore> store_;
  std::unique_ptr<Projector> projector_;
  FeedSignal signal_;
  std::unique_ptr<NotificationDomain> domain_;
};

TEST_F(WatchTest, SnapshotThenLiveChanges) {
  ApplyChanges(3);
  Watcher w(*domain_, signal_, PartnerCall("p1"), std::nullopt);
  ASSERT_TRUE(w.WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  std::vector<v1::CustomerChange> snapshot = w.changes();
  ASSERT_EQ(snapshot.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(snapshot[i].kind(), v1::CHANGE_KIND_SNAPSHOT);
    EXPECT_EQ(snapshot[i].sequence(), 3);
  }
  EXPECT_EQ(snapshot[3].sequence(), 3);
  ApplyChanges(1);  // after it subscribed
  ASSERT_TRUE(w.WaitForSequence(4));
  EXPECT_EQ(w.LiveSequences(), (std::vector<int64_t>{4}));
  EXPECT_EQ(w.changes().back().customer().customer_id(), "c-3");
}

TEST_F(WatchTest, ResumeDeliversEachLaterChangeExactlyOnceInOrder) {
  ApplyChanges(2);
  int64_t last_seen = 0;
  {
    Watcher first(*domain_, signal_, PartnerCall("p1"), /*resume=*/0, /*stop_after=*/2);
    ASSERT_OK(first.WaitDone().code() == Code::kCancelled ? absl::OkStatus()
                                                          : absl::InternalError("not cancelled"));
    last_seen = first.LiveSequences().back();
    EXPECT_EQ(first.LiveSequences(), Range(1, 2));
  }
  ApplyChanges(5);  // while disconnected
  Watcher second(*domain_, signal_, PartnerCall("p1"), last_seen);
  ASSERT_TRUE(second.WaitForSequence(7));
  ApplyChanges(2);  // live again
  ASSERT_TRUE(second.WaitForSequence(9));
  EXPECT_EQ(second.LiveSequences(), Range(3, 9));
}

// Retention deletes old feed rows: a resume point whose next change is gone gets a clean reset
// (the snapshot and SNAPSHOT_END, as a new watcher would), never a silent gap; a resume point
// right before the oldest kept change resumes as usual.
TEST_F(WatchTest, AResumePointOlderThanTheRetainedChangesGetsASnapshot) {
  ApplyChanges(5);
  auto exec = [&](const std::string& sql, std::vector<pc::storage::Value> params) {
    ASSERT_OK(db_->InTransaction([&](pc::storage::Transaction& tx) {
      return tx.Execute(sql, params).status();
    }));
  };
  exec("UPDATE feed_events SET created_at = 1", {});  // the first five are old
  ApplyChanges(2);                                     // 6 and 7, appended now
  // What the retention rule runs.
  ASSERT_OK_AND_ASSIGN(int64_t pruned, store_->PruneFeed(absl::Now() - absl::Hours(1)));
  EXPECT_EQ(pruned, 5);

  Watcher gap(*domain_, signal_, PartnerCall("p1"), /*resume=*/2);
  ASSERT_TRUE(gap.WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  std::vector<v1::CustomerChange> got = gap.changes();
  ASSERT_EQ(got.size(), 8u);  // 7 customers, then the end marker
  EXPECT_EQ(got.front().kind(), v1::CHANGE_KIND_SNAPSHOT);
  EXPECT_EQ(got.back().kind(), v1::CHANGE_KIND_SNAPSHOT_END);
  EXPECT_EQ(got.back().sequence(), 7);

  Watcher adjacent(*domain_, signal_, PartnerCall("p1"), /*resume=*/5);
  ASSERT_TRUE(adjacent.WaitForSequence(7));
  EXPECT_EQ(adjacent.LiveSequences(), Range(6, 7));
  for (const v1::CustomerChange& c : adjacent.changes()) {
    EXPECT_NE(c.kind(), v1::CHANGE_KIND_SNAPSHOT_END) << "resumed without a gap: no reset";
  }
}

// A snapshot larger than one chunk arrives whole (it once stopped at a hard-coded 10 000 rows),
// and a change made while it is read still reaches the watcher.
TEST_F(WatchTest, ASnapshotLargerThanAChunkArrivesWhole) {
  Make(DomainOptions{.snapshot_chunk = 3});
  ApplyChanges(10);
  Watcher w(*domain_, signal_, PartnerCall("p1"), std::nullopt);
  ASSERT_TRUE(w.WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  std::set<std::string> customers;
  for (const v1::CustomerChange& c : w.changes()) {
    if (c.kind() == v1::CHANGE_KIND_SNAPSHOT) customers.insert(c.customer().customer_id());
  }
  EXPECT_EQ(customers.size(), 10u);
  EXPECT_EQ(w.changes().size(), 11u) << "each row once, then the end marker";
  EXPECT_EQ(w.changes().back().sequence(), 10);
  ApplyChanges(1);
  ASSERT_TRUE(w.WaitForSequence(11));
}

// The feeds of a cloud share one clock: another partner's changes take sequence numbers too,
// so one partner's sequence increases strictly but with gaps, and a resume point from it
// still delivers exactly that partner's later changes.
TEST_F(WatchTest, SequencesIncreaseStrictlyAcrossPartnersAndResumeStaysExact) {
  ApplyChanges(1);                                                           // p1: 1
  ASSERT_OK(projector_->Apply(events_.Established("p2", "c-other", 1)));     // p2: 2
  ApplyChanges(1);                                                           // p1: 3
  Watcher w(*domain_, signal_, PartnerCall("p1"), /*resume=*/0);
  ASSERT_TRUE(w.WaitForSequence(3));
  EXPECT_EQ(w.LiveSequences(), (std::vector<int64_t>{1, 3}));
  Watcher later(*domain_, signal_, PartnerCall("p1"), /*resume=*/2);
  ASSERT_TRUE(later.WaitForSequence(3));
  EXPECT_EQ(later.LiveSequences(), (std::vector<int64_t>{3}));
}

TEST_F(WatchTest, FiftyConcurrentWatchersReceiveTheSameSequence) {
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < 50; ++i) {
    watchers.push_back(std::make_unique<Watcher>(*domain_, signal_, PartnerCall("p1"), std::nullopt));
  }
  for (auto& w : watchers) ASSERT_TRUE(w->WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  ApplyChanges(20);
  for (auto& w : watchers) {
    ASSERT_TRUE(w->WaitForSequence(20));
    EXPECT_EQ(w->LiveSequences(), Range(1, 20));
  }
}

TEST_F(WatchTest, ASlowWatcherIsEndedWithResourceExhaustedAndResumes) {
  Make(DomainOptions{.watch_buffer = 5});
  auto slow = std::make_unique<Watcher>(*domain_, signal_, PartnerCall("p1"), std::nullopt, -1,
                                        /*block_at=*/1);
  ASSERT_TRUE(slow->WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  ApplyChanges(1);
  ASSERT_TRUE(slow->WaitForSequence(1));  // it is now stuck in its send
  ApplyChanges(10);                       // the projector is not held up by it
  slow->Release();
  EXPECT_THAT(slow->WaitDone(), StatusIs(Code::kResourceExhausted, "WATCHER_TOO_SLOW"));
  const int64_t last = slow->LiveSequences().back();
  EXPECT_EQ(last, 1);
  Watcher resumed(*domain_, signal_, PartnerCall("p1"), last);
  ASSERT_TRUE(resumed.WaitForSequence(11));
  EXPECT_EQ(resumed.LiveSequences(), Range(2, 11));
}

TEST_F(WatchTest, ShutdownEndsStreamsWithUnavailable) {
  Watcher w(*domain_, signal_, PartnerCall("p1"), std::nullopt);
  ASSERT_TRUE(w.WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
  signal_.Shutdown();
  EXPECT_THAT(w.WaitDone(), StatusIs(Code::kUnavailable));
}

TEST_F(WatchTest, WatchersStayInTheirTenantAndValidateTheResumePoint) {
  v1::WatchCustomersRequest foreign;
  foreign.set_partner_id("p2");
  auto never = [](const v1::CustomerChange&) { return true; };
  auto no = [] { return false; };
  EXPECT_THAT(domain_->WatchCustomers(PartnerCall("p1"), foreign, never, no),
              StatusIs(Code::kPermissionDenied));
  v1::WatchPartnersRequest partners;
  EXPECT_THAT(domain_->WatchPartners(PartnerCall("p1"), partners,
                                     [](const v1::PartnerChange&) { return true; }, no),
              StatusIs(Code::kPermissionDenied));
  v1::WatchCustomersRequest ahead;
  ahead.set_resume_after_sequence(99);
  EXPECT_THAT(domain_->WatchCustomers(PartnerCall("p1"), ahead, never, no),
              StatusIs(Code::kInvalidArgument));
}

TEST_F(WatchTest, OverGrpcACustomerAdminWatchesItsPartnersLive) {
  auto pair = pc::auth::GenerateKeyPair();
  ASSERT_OK(pair.status());
  pc::auth::KeySet keys;
  ASSERT_OK(keys.Add("k1", pair->public_key_pem));
  auto verifier = pc::auth::Verifier::Create(
      {.issuer = "t", .audience = "partnercenter", .cloud = "global"}, keys);
  ASSERT_OK(verifier.status());
  auto minter = pc::auth::Minter::Create({.private_key_pem = pair->private_key_pem, .kid = "k1",
                                          .issuer = "t", .audience = "partnercenter"});
  ASSERT_OK(minter.status());
  NotificationGrpcService service(*domain_, *verifier, pc::SystemClock::Get());
  pc::testing::InProcessServer server({&service});
  auto stub = v1::NotificationService::NewStub(server.Channel());
  grpc::ClientContext ctx;
  pc::auth::AttachBearerToken(
      &ctx, *minter->Mint({.subject = "a", .tenant_id = "c-0", .cloud = "global",
                           .roles = {"customer_admin"}},
                          absl::Hours(1), absl::Now()));
  v1::WatchPartnersRequest req;
  auto reader = stub->WatchPartners(&ctx, req);
  v1::PartnerChange change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_SNAPSHOT_END);
  ApplyChanges(1);  // c-0 gets partner p1
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_UPSERT);
  EXPECT_EQ(change.partner().partner_id(), "p1");
  EXPECT_EQ(change.sequence(), 1);
  signal_.Shutdown();
  EXPECT_FALSE(reader->Read(&change));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(WatchTest, AStreamEndsUnauthenticatedWhenItsAuthorityEndsAndResumesWithoutLoss) {
  pc::testing::FakeClock clock;
  DomainOptions options;
  options.clock = &clock;
  Make(options);
  CallContext call = PartnerCall("p1");
  call.authority_until = clock.Now() + absl::Minutes(1);
  int64_t last_seen = 0;
  {
    Watcher w(*domain_, signal_, call, std::nullopt);
    ASSERT_TRUE(w.WaitForKind(v1::CHANGE_KIND_SNAPSHOT_END));
    ApplyChanges(1);
    ASSERT_TRUE(w.WaitForSequence(1));
    clock.Advance(absl::Minutes(1));  // the token's exp (+ skew) is reached
    signal_.Notify();                 // as any change or the poll interval would wake it
    const absl::Status ended = w.WaitDone();
    EXPECT_THAT(ended, StatusIs(Code::kUnauthenticated));
    EXPECT_EQ(pc::ReasonOf(ended), pc::reason::kInvalidToken);
    EXPECT_EQ(pc::ReasonMetadataOf(ended).at("resume_after_sequence"), "1");
    last_seen = w.LiveSequences().back();
  }
  ApplyChanges(2);  // while it was reconnecting
  CallContext fresh = PartnerCall("p1");
  fresh.authority_until = clock.Now() + absl::Hours(1);
  Watcher resumed(*domain_, signal_, fresh, last_seen);
  ASSERT_TRUE(resumed.WaitForSequence(3));
  EXPECT_EQ(resumed.LiveSequences(), Range(2, 3));
}

TEST_F(WatchTest, OverGrpcAWatchEndsUnauthenticatedAtItsTokensExpiry) {
  auto pair = pc::auth::GenerateKeyPair();
  ASSERT_OK(pair.status());
  pc::auth::KeySet keys;
  ASSERT_OK(keys.Add("k1", pair->public_key_pem));
  auto verifier = pc::auth::Verifier::Create(
      {.issuer = "t", .audience = "partnercenter", .cloud = "global",
       .clock_skew = absl::ZeroDuration()},
      keys);
  ASSERT_OK(verifier.status());
  auto minter = pc::auth::Minter::Create({.private_key_pem = pair->private_key_pem, .kid = "k1",
                                          .issuer = "t", .audience = "partnercenter"});
  ASSERT_OK(minter.status());
  NotificationGrpcService service(*domain_, *verifier, pc::SystemClock::Get());
  pc::testing::InProcessServer server({&service});
  auto stub = v1::NotificationService::NewStub(server.Channel());
  const pc::auth::Claims partner{.subject = "a", .tenant_id = "p1", .cloud = "global",
                                 .roles = {"partner_admin"}};
  grpc::ClientContext ctx;
  pc::auth::AttachBearerToken(&ctx, *minter->Mint(partner, absl::Seconds(2), absl::Now()));
  auto reader = stub->WatchCustomers(&ctx, v1::WatchCustomersRequest());
  v1::CustomerChange change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_SNAPSHOT_END);
  const int64_t last_seen = change.sequence();
  // Nothing else happens: the stream ends by itself when the token expires.
  EXPECT_FALSE(reader->Read(&change));
  const grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();

  ApplyChanges(1);  // missed while reconnecting
  grpc::ClientContext again;
  pc::auth::AttachBearerToken(&again, *minter->Mint(partner, absl::Hours(1), absl::Now()));
  v1::WatchCustomersRequest resume;
  resume.set_resume_after_sequence(last_seen);
  auto resumed = stub->WatchCustomers(&again, resume);
  ASSERT_TRUE(resumed->Read(&change));
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_UPSERT);
  EXPECT_EQ(change.sequence(), last_seen + 1);
  signal_.Shutdown();
  EXPECT_FALSE(resumed->Read(&change));
  resumed->Finish();
}

}  // namespace
}  // namespace pc::notification::testing
