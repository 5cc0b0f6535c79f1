// Shared by the storage tests: the contract fixture (parameterized by dialect), a fake
// Publisher, and waiting helpers (tests wait on hooks with generous deadlines, never sleep).
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "pc/kafka/publisher.h"
#include "pc/storage/database.h"
#include "pc/storage/migrations.h"
#include "pc/storage/outbox.h"
#include "pc/storage/test_database.h"
#include "pc/testing/status_matchers.h"

namespace pc::storage {
// Test names show "sqlite" / "postgres" instead of raw bytes.
inline void PrintTo(Dialect dialect, std::ostream* os) { *os << DialectName(dialect); }
}  // namespace pc::storage

namespace pc::storage::test_util {

inline constexpr absl::Duration kDeadline = absl::Seconds(60);

inline std::string HeaderOf(const pc::kafka::OutboundMessage& message, const std::string& name) {
  for (const auto& [key, value] : message.headers) {
    if (key == name) return value;
  }
  return "";
}

// A Publisher whose delivery reports arrive on a background thread, like librdkafka's.
// It can fail chosen events once and hold reports until Release().
class FakePublisher : public pc::kafka::Publisher {
 public:
  FakePublisher() : thread_([this] { Deliver(); }) {}
  ~FakePublisher() override {
    {
      absl::MutexLock lock(&mu_);
      held_ = false;
      stop_ = true;
    }
    thread_.join();
  }

  void Publish(const pc::kafka::OutboundMessage& message,
               pc::kafka::DeliveryCallback on_delivery) override {
    absl::MutexLock lock(&mu_);
    attempts_.push_back(message);
    absl::Status result;
    auto it = std::find(fail_once_.begin(), fail_once_.end(), HeaderOf(message, "event-id"));
    if (it != fail_once_.end()) {
      fail_once_.erase(it);
      result = absl::UnavailableError("injected delivery failure");
    }
    queue_.push_back({message, std::move(on_delivery), result});
  }

  absl::Status Flush(absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&empty), timeout)) {
      return absl::DeadlineExceededError("messages outstanding");
    }
    return absl::OkStatus();
  }

  // The next delivery of `event_id` fails (once).
  void FailOnce(const std::string& event_id) {
    absl::MutexLock lock(&mu_);
    fail_once_.push_back(event_id);
  }
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Waits until `n` messages are queued and not yet reported.
  bool WaitForPending(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kDeadline);
  }
  // Every Publish call, in order.
  std::vector<pc::kafka::OutboundMessage> attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  // The messages reported delivered, in report order.
  std::vector<pc::kafka::OutboundMessage> delivered() {
    absl::MutexLock lock(&mu_);
    return delivered_;
  }

 private:
  struct Pending {
    pc::kafka::OutboundMessage message;
    pc::kafka::DeliveryCallback callback;
    absl::Status result;
  };

  void Deliver() {
    while (true) {
      Pending next;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || (!held_ && !queue_.empty());
        };
        mu_.Await(absl::Condition(&ready));
        if (queue_.empty()) return;
        next = std::move(queue_.front());
        queue_.pop_front();
        if (next.result.ok()) delivered_.push_back(next.message);
      }
      next.callback(next.result);
    }
  }

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<pc::kafka::OutboundMessage> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<pc::kafka::OutboundMessage> delivered_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> fail_once_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Collects what the relay hooks report, and waits for it.
class RelayObserver {
 public:
  // Hooks that feed this observer (add to the options before constructing the relay).
  void Attach(OutboxRelayOptions& options) {
    options.on_marked_sent = [this](const std::vector<int64_t>& ids) {
      absl::MutexLock lock(&mu_);
      sent_.insert(sent_.end(), ids.begin(), ids.end());
    };
    options.on_idle = [this] {
      absl::MutexLock lock(&mu_);
      ++idle_;
    };
  }
  bool WaitForSent(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sent_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kDeadline);
  }
  bool WaitForIdle() {
    absl::MutexLock lock(&mu_);
    auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return idle_ > 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&idle), kDeadline);
  }
  std::vector<int64_t> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> sent_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
};

inline OutboxRecord MakeRecord(const std::string& event_id, const std::string& aggregate = "agg") {
  return OutboxRecord{.topic = "partnercenter.global.test-events.v1",
                      .key = aggregate,
                      .event_id = event_id,
                      .event_type = "TestHappened",
                      .payload = std::string("payload\0of ", 11) + event_id,
                      .headers = {{"correlation-id", "corr-" + event_id}},
                      .aggregate_key = aggregate};
}

// A fresh, migrated (outbox + inbox) database of the dialect under test.
class StorageContractTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    auto test_db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(test_db.ok()) << test_db.status();
    test_db_ = *std::move(test_db);
    auto db = test_db_->Open();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_OK(MigrateOutboxAndInbox(*db_));
  }

  bool postgres() const { return GetParam() == Dialect::kPostgres; }
  // The DDL for the dialect under test.
  std::string Ddl(const std::string& sqlite, const std::string& postgres_sql) const {
    return postgres() ? postgres_sql : sqlite;
  }
  absl::Status Script(const std::string& sql) {
    return db_->InTransaction([&](Transaction& tx) { return tx.ExecuteScript(sql); });
  }
  // SELECT COUNT(*) FROM `from_where`; -1 on error (the test then fails on the comparison).
  int64_t Count(const std::string& from_where, const std::vector<Value>& params = {}) {
    int64_t count = -1;
    absl::Status status = db_->InTransaction([&](Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne("SELECT COUNT(*) FROM " + from_where, params);
      if (!row.ok()) return row.status();
      auto n = row->GetInt64(0);
      if (!n.ok()) return n.status();
      count = *n;
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return count;
  }
  absl::Status AppendCommitted(const OutboxRecord& record) {
    return db_->InTransaction([&](Transaction& tx) { return Outbox::Append(tx, record); });
  }

  std::unique_ptr<TestDatabase> test_db_;
  std::unique_ptr<Database> db_;
};

inline std::string DialectTestName(const ::testing::TestParamInfo<Dialect>& info) {
  return info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
}

// A fresh, empty database of `kDialect` for each test; OpenOrDie() gives handles on it (call
// it twice for two "replicas").
template <Dialect kDialect>
class FreshDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto test_db = TestDatabase::Create(kDialect);
    ASSERT_TRUE(test_db.ok()) << test_db.status();
    test_db_ = *std::move(test_db);
  }
  std::unique_ptr<Database> OpenOrDie(const DatabaseOptions& options = {}) {
    auto db = test_db_->Open(options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }
  std::unique_ptr<TestDatabase> test_db_;
};

}  // namespace pc::storage::test_util
