// One live change feed per partner, shared by every open Customers page of that partner.
//
// The hub holds a single NotificationService.WatchCustomers stream per partner (not per
// browser), renders each change once into an SSE frame, keeps the last `ring_size` frames,
// and fans them out to the partner's subscribers. A subscriber says where it is (the
// `as_of_sequence` its page was rendered at, or the SSE Last-Event-ID it last saw) and gets
// every later change exactly once: first from the ring, then live. One that is older than
// the ring is told to reload (Subscribe returns kReset) rather than be given a gap.
//
// When the stream breaks (the notification service restarts, a deploy) the hub resumes it
// with `resume_after_sequence` = the last change it saw, so subscribers see neither a gap
// nor a repeat, and tells them the backend state ("live" / "reconnecting"). A partner's
// stream stops `linger` after its last subscriber left.
//
//   FeedHub hub(std::make_unique<GrpcWatchSource>(stub), render, {});
//   auto sub = hub.Subscribe(partner_id, bearer_token, after_sequence, sink);
//   ...
//   hub.Unsubscribe(partner_id, sub.id);
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "partnercenter/notification/v1/notification_service.pb.h"

namespace pc::portal {

// Where frames go: one open SSE response. Send must not block (queue and return).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void Send(std::string frame) = 0;
  // The hub gives up on this subscriber (e.g. its identity no longer works); the
  // connection should end so the browser reconnects and re-authenticates.
  virtual void Close() = 0;
};

// An open WatchCustomers stream (behind an interface so the hub is unit-tested).
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks until the server accepted the watch; false if it failed (then call Finish).
  virtual bool Start() = 0;
  // Blocks for the next change; false when the stream ended (then call Finish).
  virtual bool Read(partnercenter::notification::v1::CustomerChange* change) = 0;
  virtual absl::Status Finish() = 0;
  // Makes a blocked Read return false; safe from another thread.
  virtual void Cancel() = 0;
};

class WatchSource {
 public:
  virtual ~WatchSource() = default;
  // Creates the stream without blocking; WatchStream::Start connects.
  virtual std::unique_ptr<WatchStream> Open(const std::string& bearer_token,
                                            const std::string& partner_id,
                                            int64_t resume_after_sequence) = 0;
};

class FeedHub {
 public:
  struct Options {
    size_t ring_size = 4096;               // frames kept per partner for late subscribers
    absl::Duration linger = absl::Seconds(30);  // stream kept this long with no subscriber
    absl::Duration min_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(5);
  };
  // Renders one change into an SSE frame (id = its sequence).
  using Render = std::function<std::string(const partnercenter::notification::v1::CustomerChange&)>;
  // Renders a backend-state frame: state "live", "reconnecting" (+ why) or "reset" (reload).
  using RenderStatus = std::function<std::string(const std::string& state, const std::string& why)>;

  FeedHub(std::unique_ptr<WatchSource> source, Render render, RenderStatus render_status,
          Options options);
  ~FeedHub();  // stops every stream
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  enum class Outcome { kSubscribed, kReset };
  struct Subscription {
    Outcome outcome = Outcome::kReset;
    uint64_t id = 0;
  };
  // Replays the ring after `after_sequence` into `sink`, then keeps it subscribed. kReset
  // (nothing sent, not subscribed) when changes after `after_sequence` are no longer held.
  // `bearer_token` (the subscriber's, already verified for this partner) is what the
  // stream is opened or resumed with.
  Subscription Subscribe(const std::string& partner_id, const std::string& bearer_token,
                         int64_t after_sequence, std::shared_ptr<FrameSink> sink);
  void Unsubscribe(const std::string& partner_id, uint64_t id);

  // Partners with a stream, and subscribers in total (metrics, tests).
  size_t streams() const;
  size_t subscribers() const;

 private:
  struct Subscriber {
    std::shared_ptr<FrameSink> sink;
    std::string token;
    int64_t cursor = 0;  // last sequence this subscriber was given
  };
  struct Feed {
    std::string partner_id;
    int64_t held_after = 0;  // every change after this sequence is in `ring` or still to come
    int64_t last = 0;        // newest sequence seen
    std::deque<std::pair<int64_t, std::string>> ring;
    std::map<uint64_t, Subscriber> subscribers;
    std::string status_frame;  // latest backend state, sent to each new subscriber
    absl::Time idle_since = absl::InfiniteFuture();
    bool stopping = false;
    std::string token;           // the identity the stream is opened with
    WatchStream* stream = nullptr;  // the open one, for Cancel
    std::thread reader;
  };

  void Run(Feed* feed);
  void Deliver(Feed& feed, int64_t sequence, const std::string& frame);  // mu_ held
  void Broadcast(Feed& feed, const std::string& frame);                   // mu_ held
  void Reap();
  void StopFeed(std::unique_lock<std::mutex>& lock, Feed* feed);

  const std::unique_ptr<WatchSource> source_;
  const Render render_;
  const RenderStatus render_status_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Feed>> feeds_;  // guarded by mu_
  uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  std::thread reaper_;
};

}  // namespace pc::portal
