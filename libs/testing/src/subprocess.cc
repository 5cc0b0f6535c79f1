#include "pc/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pc::testing {

Subprocess::Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env,
                       std::string log_path)
    : log_path_(std::move(log_path)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed\n", args[0]);
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  reader_ = std::thread([this] {
    std::ofstream log;
    if (!log_path_.empty()) log.open(log_path_, std::ios::app);
    std::string buffer;
    char chunk[4096];
    while (true) {
      const ssize_t n = read(out_fd_, chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      std::vector<std::string> complete;
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        complete.push_back(buffer.substr(0, nl));
        buffer.erase(0, nl + 1);
      }
      if (complete.empty()) continue;
      if (log.is_open()) {
        for (const auto& line : complete) log << line << "\n";
        log.flush();
      }
      std::lock_guard lock(mu_);
      for (auto& line : complete) lines_.push_back(std::move(line));
      changed_.notify_all();
    }
    std::lock_guard lock(mu_);
    if (!buffer.empty()) lines_.push_back(buffer);
    closed_ = true;
    changed_.notify_all();
  });
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    Kill(SIGKILL);
    Wait();
  }
  if (reader_.joinable()) reader_.join();  // the pipe closes when the process is gone
  if (out_fd_ >= 0) close(out_fd_);
}

std::vector<std::string> Subprocess::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

absl::StatusOr<std::string> Subprocess::WaitForLine(
    const std::function<bool(const std::string&)>& match, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_lock lock(mu_);
  auto last_lines = [&] {
    return absl::StrJoin(lines_.end() - std::min<size_t>(lines_.size(), 20), lines_.end(), "\n");
  };
  while (true) {
    while (examined_ < lines_.size()) {
      const std::string line = lines_[examined_++];
      if (match(line)) return line;
    }
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat("process output closed; last lines:\n", last_lines()));
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no matching output line; last lines:\n", last_lines()));
    }
    changed_.wait_for(lock, absl::ToChronoMilliseconds(left) + std::chrono::milliseconds(1));
  }
}

void Subprocess::Kill(int signal) {
  if (!reaped_ && pid_ > 0) kill(pid_, signal);
}

int Subprocess::Wait() {
  if (!reaped_) {
    waitpid(pid_, &wait_status_, 0);
    reaped_ = true;
  }
  return wait_status_;
}

}  // namespace pc::testing
