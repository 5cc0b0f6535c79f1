// The NotificationService's behaviour without gRPC: tenant-checked pages, and the watch
// streams. A watch reads the change feed from the store (so resume-by-sequence is a range
// query and every replica sees every committed change) and waits on a FeedSignal between
// reads: this replica's projector signals each commit; changes committed by other replicas
// are picked up within `poll_interval`.
//
//   FeedSignal signal;
//   NotificationDomain domain({.cloud = "global"}, store, signal);
//   domain.WatchCustomers(call, req, [&](const v1::CustomerChange& c) { return writer->Write(c); },
//                         [&] { return ctx->IsCancelled(); });
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pc/auth/claims.h"
#include "pc/common/clock.h"
#include "store.h"

namespace pc::notification {

// Wakes watchers when the feed may have grown, and ends them on shutdown.
class FeedSignal {
 public:
  void Notify();
  // Blocks until Notify() after `generation` was taken, Shutdown(), or `timeout`.
  void WaitAfter(uint64_t generation, absl::Duration timeout);
  uint64_t generation() const;
  void Shutdown();
  bool shutting_down() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
  bool shutdown_ = false;
};

struct CallContext {
  pc::auth::Claims claims;
  // When the caller's authority ends (its token's `exp` plus the verifier's skew: the moment
  // a new call with the same token would be refused). A watch stream ends then, with
  // UNAUTHENTICATED; the client resumes with a fresh token.
  absl::Time authority_until = absl::InfiniteFuture();
};

struct DomainOptions {
  std::string cloud = "global";
  // What authority_until is compared with.
  const pc::Clock* clock = &pc::SystemClock::Get();
  // How far (in changes) a caught-up watcher may fall behind the head before its stream is
  // ended with RESOURCE_EXHAUSTED (it resumes from its last sequence).
  int64_t watch_buffer = 1000;
  // How often an idle watcher looks for changes committed by other replicas.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // A snapshot is read and sent in chunks of this many rows (each chunk one read transaction),
  // so a watch of a partner with 100 000 customers gets all of them in bounded memory.
  int snapshot_chunk = 500;
};

class NotificationDomain {
 public:
  NotificationDomain(DomainOptions options, NotificationStore& store, FeedSignal& signal)
      : options_(std::move(options)), store_(store), signal_(signal) {}

  absl::StatusOr<v1::CustomersPage> GetCustomersPage(const CallContext& call,
                                                     const v1::GetCustomersPageRequest& req);
  absl::StatusOr<v1::PartnersPage> GetPartnersPage(const CallContext& call,
                                                   const v1::GetPartnersPageRequest& req);
  // Streams until `send` returns false or `cancelled()` (CANCELLED), shutdown (UNAVAILABLE),
  // the watcher fell behind (RESOURCE_EXHAUSTED), or the caller's authority ended
  // (UNAUTHENTICATED, reason INVALID_TOKEN; both carry metadata `resume_after_sequence`). `opened` (if set) runs once the request
  // was accepted (authorized, valid resume point), before the first change: the adapter
  // sends initial metadata then, so a client knows its watch is live before any change.
  absl::Status WatchCustomers(const CallContext& call, const v1::WatchCustomersRequest& req,
                              const std::function<bool(const v1::CustomerChange&)>& send,
                              const std::function<bool()>& cancelled,
                              const std::function<void()>& opened = nullptr);
  absl::Status WatchPartners(const CallContext& call, const v1::WatchPartnersRequest& req,
                             const std::function<bool(const v1::PartnerChange&)>& send,
                             const std::function<bool()>& cancelled,
                             const std::function<void()>& opened = nullptr);

 private:
  absl::StatusOr<std::string> PartnerOf(const CallContext& call, const std::string& requested);
  absl::StatusOr<std::string> CustomerOf(const CallContext& call, const std::string& requested);
  // The feed's changes after `cursor` (at most 100) and `head`, the sequence up to which this
  // feed has no other change; `pending` is how many changes after `cursor` are known (more
  // than the batch if the watcher is behind; for a watcher that had `caught_up`, counted up
  // to watch_buffer + 1). Watchers of one feed share one read per signal generation: the
  // first one to look reads the store, the others are served from the recent changes it
  // cached (its last 256; a watcher further behind reads the store itself). Caches of feeds
  // nobody read for 5 minutes are dropped when a new feed is watched.
  absl::Status ReadFeed(Feed feed, const std::string& owner, int64_t cursor, uint64_t generation,
                        bool caught_up, int64_t* head,
                        std::vector<std::pair<int64_t, std::string>>* batch, int64_t* pending);
  // Where a chunked snapshot has got to.
  struct SnapshotCursor {
    bool rows_done = false;
    std::optional<std::string> after_key;
    std::string after_id;
  };
  // The query of the next snapshot chunk of `owner`'s rows after `position`.
  PageQuery SnapshotQuery(const std::string& owner, const SnapshotCursor& position) const;
  // Appends the next chunk of snapshot rows (kind and sequence are set by Watch); true while
  // more chunks follow.
  template <typename Change>
  using SnapshotChunk =
      std::function<absl::StatusOr<bool>(StoreTx&, SnapshotCursor*, std::vector<Change>*)>;
  // Snapshot (rows in chunks + SNAPSHOT_END at the head) or a checked resume point, then Tail.
  template <typename Change>
  absl::Status Watch(Feed feed, const std::string& owner, absl::Time until,
                     std::optional<int64_t> resume, const SnapshotChunk<Change>& snapshot,
                     const std::function<bool(const Change&)>& send,
                     const std::function<bool()>& cancelled, const std::function<void()>& opened);
  template <typename Change>
  absl::Status Tail(Feed feed, const std::string& owner, absl::Time until, int64_t cursor,
                    const std::function<bool(const Change&)>& send,
                    const std::function<bool()>& cancelled);

  struct FeedCache {
    std::atomic<absl::Time> used_at{absl::Now()};
    std::mutex mu;
    bool valid = false;
    uint64_t generation = 0;
    absl::Time read_at;
    // `recent` holds every change of the feed in (complete_after, head], oldest first.
    int64_t head = 0;
    int64_t complete_after = 0;
    std::deque<std::pair<int64_t, std::string>> recent;
  };

  DomainOptions options_;
  NotificationStore& store_;
  FeedSignal& signal_;
  std::mutex caches_mu_;
  std::map<std::pair<int, std::string>, std::shared_ptr<FeedCache>> caches_;
};

}  // namespace pc::notification
