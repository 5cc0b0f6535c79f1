#include "feed_hub.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace pc::portal {
namespace v1 = ::partnercenter::notification::v1;

FeedHub::FeedHub(std::unique_ptr<WatchSource> source, Render render, RenderStatus render_status,
                 Options options)
    : source_(std::move(source)),
      render_(std::move(render)),
      render_status_(std::move(render_status)),
      options_(options) {
  reaper_ = std::thread([this] { Reap(); });
}

FeedHub::~FeedHub() {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
  while (!feeds_.empty()) StopFeed(lock, feeds_.begin()->second.get());
  lock.unlock();
  reaper_.join();
}

FeedHub::Subscription FeedHub::Subscribe(const std::string& partner_id,
                                         const std::string& bearer_token, int64_t after_sequence,
                                         std::shared_ptr<FrameSink> sink) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return {};
  auto [it, created] = feeds_.try_emplace(partner_id);
  if (created) {
    it->second = std::make_unique<Feed>();
    it->second->partner_id = partner_id;
    it->second->held_after = after_sequence;
    it->second->last = after_sequence;
    it->second->token = bearer_token;
  }
  Feed& feed = *it->second;
  if (feed.stopping || after_sequence < feed.held_after) return {};
  Subscriber sub{.sink = sink, .token = bearer_token, .cursor = after_sequence};
  for (const auto& [sequence, frame] : feed.ring) {
    if (sequence <= sub.cursor) continue;
    sink->Send(frame);
    sub.cursor = sequence;
  }
  if (!feed.status_frame.empty()) sink->Send(feed.status_frame);
  const uint64_t id = next_id_++;
  feed.subscribers.emplace(id, std::move(sub));
  feed.idle_since = absl::InfiniteFuture();
  if (feed.token.empty()) feed.token = bearer_token;
  if (created) {
    Feed* raw = &feed;
    feed.reader = std::thread([this, raw] { Run(raw); });
  }
  cv_.notify_all();
  return {.outcome = Outcome::kSubscribed, .id = id};
}

void FeedHub::Unsubscribe(const std::string& partner_id, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = feeds_.find(partner_id);
  if (it == feeds_.end()) return;
  it->second->subscribers.erase(id);
  if (it->second->subscribers.empty()) it->second->idle_since = absl::Now();
}

size_t FeedHub::streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return feeds_.size();
}

size_t FeedHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [_, feed] : feeds_) n += feed->subscribers.size();
  return n;
}

void FeedHub::Deliver(Feed& feed, int64_t sequence, const std::string& frame) {
  feed.ring.emplace_back(sequence, frame);
  while (feed.ring.size() > options_.ring_size) {
    feed.held_after = feed.ring.front().first;
    feed.ring.pop_front();
  }
  feed.last = sequence;
  for (auto& [_, sub] : feed.subscribers) {
    if (sequence <= sub.cursor) continue;
    sub.sink->Send(frame);
    sub.cursor = sequence;
  }
}

void FeedHub::Broadcast(Feed& feed, const std::string& frame) {
  for (auto& [_, sub] : feed.subscribers) sub.sink->Send(frame);
}

void FeedHub::Run(Feed* feed) {
  absl::Duration backoff = options_.min_backoff;
  std::unique_lock<std::mutex> lock(mu_);
  while (!feed->stopping) {
    if (feed->token.empty()) {
      // Nobody whose identity could open the stream: wait for a subscriber (or the reaper).
      if (!feed->subscribers.empty()) feed->token = feed->subscribers.begin()->second.token;
      else cv_.wait(lock, [&] { return feed->stopping || !feed->subscribers.empty(); });
      continue;
    }
    const std::string token = feed->token;
    std::unique_ptr<WatchStream> stream = source_->Open(token, feed->partner_id, feed->last);
    feed->stream = stream.get();
    lock.unlock();
    bool connected = stream->Start();
    if (connected) {
      lock.lock();
      backoff = options_.min_backoff;
      feed->status_frame = render_status_("live", "");
      Broadcast(*feed, feed->status_frame);
      lock.unlock();
      v1::CustomerChange change;
      while (stream->Read(&change)) {
        if (change.kind() != v1::CHANGE_KIND_UPSERT && change.kind() != v1::CHANGE_KIND_REMOVE) {
          continue;  // snapshots only come without a resume point, which the hub never uses
        }
        std::string frame = render_(change);
        lock.lock();
        if (change.sequence() > feed->last) Deliver(*feed, change.sequence(), frame);
        lock.unlock();
      }
    }
    const absl::Status status = stream->Finish();
    lock.lock();
    feed->stream = nullptr;
    if (feed->stopping) break;
    if (absl::IsUnauthenticated(status) || absl::IsPermissionDenied(status)) {
      // That identity no longer works (expired, revoked): end its subscribers' streams so
      // their browsers re-authenticate, and carry on with anyone else's.
      spdlog::info("customer feed for {}: identity refused ({}); dropping its subscribers",
                   feed->partner_id, std::string(status.message()));
      for (auto it = feed->subscribers.begin(); it != feed->subscribers.end();) {
        if (it->second.token == token) {
          it->second.sink->Close();
          it = feed->subscribers.erase(it);
        } else {
          ++it;
        }
      }
      feed->token.clear();
      if (feed->subscribers.empty()) feed->idle_since = absl::Now();
      continue;
    }
    if (absl::IsInvalidArgument(status) || absl::IsFailedPrecondition(status)) {
      // The feed cannot be resumed from where the hub is (e.g. the read model was rebuilt):
      // every page reloads from a fresh snapshot.
      spdlog::warn("customer feed for {} cannot resume after {}: {}", feed->partner_id,
                   feed->last, std::string(status.message()));
      Broadcast(*feed, render_status_("reset", std::string(status.message())));
      for (auto& [_, sub] : feed->subscribers) sub.sink->Close();
      feed->subscribers.clear();
      feed->stopping = true;
      feed->idle_since = absl::InfinitePast();
      break;
    }
    feed->status_frame = render_status_("reconnecting", std::string(status.message()));
    Broadcast(*feed, feed->status_frame);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return feed->stopping; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void FeedHub::StopFeed(std::unique_lock<std::mutex>& lock, Feed* feed) {
  feed->stopping = true;
  if (feed->stream != nullptr) feed->stream->Cancel();
  for (auto& [_, sub] : feed->subscribers) sub.sink->Close();
  cv_.notify_all();
  std::unique_ptr<Feed> owned = std::move(feeds_[feed->partner_id]);
  feeds_.erase(feed->partner_id);
  lock.unlock();
  if (owned->reader.joinable()) owned->reader.join();
  lock.lock();
}

void FeedHub::Reap() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutting_down_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return shutting_down_; });
    // One idle feed at a time, looked up afresh: StopFeed unlocks while it joins the reader,
    // and meanwhile the destructor may free feeds or a page may subscribe to this one.
    while (!shutting_down_) {
      const absl::Time now = absl::Now();
      Feed* idle = nullptr;
      for (auto& [_, feed] : feeds_) {
        if (feed->subscribers.empty() && now - feed->idle_since >= options_.linger) {
          idle = feed.get();
          break;
        }
      }
      if (idle == nullptr) break;
      StopFeed(lock, idle);
    }
  }
}

}  // namespace pc::portal
