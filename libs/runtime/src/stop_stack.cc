#include "pc/runtime/stop_stack.h"

#include <exception>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {

void StopStack::Add(std::string name, std::function<void()> stop) {
  std::lock_guard lock(mu_);
  actions_.emplace_back(std::move(name), std::move(stop));
}

void StopStack::RunAll() {
  while (true) {
    std::pair<std::string, std::function<void()>> action;
    {
      std::lock_guard lock(mu_);
      if (actions_.empty()) return;
      action = std::move(actions_.back());
      actions_.pop_back();
    }
    spdlog::info("stopping {}", action.first);
    absl::Time start = absl::Now();
    try {
      action.second();
      spdlog::info("stopped {} in {}", action.first, absl::FormatDuration(absl::Now() - start));
    } catch (const std::exception& e) {
      spdlog::error("stopping {} failed after {}: {}", action.first,
                    absl::FormatDuration(absl::Now() - start), e.what());
    }
  }
}

}  // namespace pc::runtime
