// A child process for end-to-end tests: start a real binary, read its output line by line
// with a deadline, signal it (SIGTERM, or SIGKILL to simulate a crash) and reap it.
//
//   pc::testing::Subprocess relay({"/path/to/bin", "--flag=x"}, {{"PC_X", "1"}});
//   ASSERT_TRUE(relay.WaitForLine([](const std::string& l) { return l.starts_with("READY"); },
//                                 absl::Seconds(60)).ok());
//   relay.Kill(SIGKILL);
//   int status = relay.Wait();
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pc::testing {

class Subprocess {
 public:
  // Starts `argv` with the parent's environment plus `env`; stdout and stderr go to a pipe
  // that WaitForLine reads (and to `log_path`, if given, for post-mortems).
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
             std::string log_path = "");
  ~Subprocess();  // SIGKILL + reap if still running.
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Examines output lines not examined by an earlier call until `match` returns true for one
  // (returned), the process closes its output (FAILED_PRECONDITION with the last lines), or
  // `timeout` passes (DEADLINE_EXCEEDED). Output is drained continuously by a reader thread,
  // so a chatty process never blocks on a full pipe while nobody waits on it. `match` runs
  // under the output lock: it must not call back into this Subprocess.
  absl::StatusOr<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                          absl::Duration timeout);
  // Every line read so far.
  std::vector<std::string> lines() const;
  void Kill(int signal);
  // Reaps the process; returns its wait status (see WIFEXITED / WTERMSIG).
  int Wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::string log_path_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;  // guarded by mu_
  bool closed_ = false;             // guarded by mu_: the output reached EOF
  size_t examined_ = 0;             // lines already offered to a WaitForLine match
  std::thread reader_;
};

}  // namespace pc::testing
