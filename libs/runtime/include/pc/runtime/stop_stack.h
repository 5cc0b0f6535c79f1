// Stop actions registered during start-up and run in reverse order at shutdown (what was
// started last stops first: consumers before the relay, the relay before the producer flush,
// the flush before the store closes). Each run is logged with its duration.
//
//   pc::runtime::StopStack stops;
//   stops.Add("store", [&] { store.Close(); });
//   stops.Add("outbox relay", [&] { relay.Stop(); });
//   stops.RunAll();   // "outbox relay", then "store"
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pc::runtime {

class StopStack {
 public:
  // Registers `stop`, to run before every action added earlier.
  void Add(std::string name, std::function<void()> stop);
  // Runs the actions not yet run, newest first, each once. An action that throws is logged
  // and the rest still run.
  void RunAll();

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::function<void()>>> actions_;
};

}  // namespace pc::runtime
