// Test doubles for the portal's live feed: a WatchSource whose streams the test scripts (push
// changes, end a stream with a status, refuse the next start) and a FrameSink that records what
// it is sent. Waits are bounded by kWait and end as soon as the awaited thing happened.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feed_hub.h"

namespace pc::portal::testing {

namespace v1 = ::partnercenter::notification::v1;

constexpr auto kWait = std::chrono::seconds(20);  // upper bound only; never slept

// Everything the hub opened and what each stream should do, scripted by the test.
class ScriptedSource : public WatchSource {
 public:
  struct Opened {
    std::string token;
    std::string partner;
    int64_t resume = 0;
  };

  class Stream : public WatchStream {
   public:
    explicit Stream(ScriptedSource& source) : source_(source) {}
    bool Start() override {
      std::unique_lock<std::mutex> lock(source_.mu_);
      if (!source_.refuse_next.ok()) {
        end_ = source_.refuse_next;
        source_.refuse_next = absl::OkStatus();
        return false;
      }
      return true;
    }
    bool Read(v1::CustomerChange* change) override {
      std::unique_lock<std::mutex> lock(source_.mu_);
      source_.cv_.wait(lock, [&] { return cancelled_ || !source_.pending.empty() || source_.end.has_value(); });
      if (cancelled_) {
        end_ = absl::CancelledError("cancelled");
        return false;
      }
      if (!source_.pending.empty()) {
        *change = source_.pending.front();
        source_.pending.pop_front();
        return true;
      }
      end_ = *source_.end;
      source_.end.reset();
      return false;
    }
    absl::Status Finish() override { return end_; }
    void Cancel() override {
      std::lock_guard<std::mutex> lock(source_.mu_);
      cancelled_ = true;
      source_.cv_.notify_all();
    }

   private:
    ScriptedSource& source_;
    bool cancelled_ = false;
    absl::Status end_;
  };

  std::unique_ptr<WatchStream> Open(const std::string& token, const std::string& partner,
                                    int64_t resume) override {
    std::lock_guard<std::mutex> lock(mu_);
    opened.push_back({token, partner, resume});
    cv_.notify_all();
    return std::make_unique<Stream>(*this);
  }

  void Push(int64_t sequence, const std::string& company_name = "") {
    std::lock_guard<std::mutex> lock(mu_);
    v1::CustomerChange c;
    c.set_sequence(sequence);
    c.set_kind(v1::CHANGE_KIND_UPSERT);
    c.mutable_customer()->set_customer_id(absl::StrCat("c", sequence));
    c.mutable_customer()->set_company_name(company_name);
    pending.push_back(c);
    cv_.notify_all();
  }
  void End(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    end = status;
    cv_.notify_all();
  }
  bool WaitOpened(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return opened.size() >= n; });
  }
  std::vector<Opened> Opens() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened;
  }

  absl::Status refuse_next;  // guarded by mu_

 private:
  friend class Stream;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Opened> opened;
  std::deque<v1::CustomerChange> pending;
  std::optional<absl::Status> end;
};

class RecordingSink : public FrameSink {
 public:
  void Send(std::string frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back(std::move(frame));
    cv_.notify_all();
  }
  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // Waits until `frame` arrived (or the bound passed); returns every frame so far.
  std::vector<std::string> WaitFor(const std::string& frame) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kWait, [&] {
      return std::find(frames_.begin(), frames_.end(), frame) != frames_.end();
    });
    return frames_;
  }
  bool WaitClosed() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return closed_; });
  }
  std::vector<std::string> Changes() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& f : frames_) {
      if (f.rfind("seq:", 0) == 0) out.push_back(f);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> frames_;
  bool closed_ = false;
};

}  // namespace pc::portal::testing
