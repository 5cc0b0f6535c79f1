// A service's own access token, read from a file the platform keeps fresh (a projected
// service-account token, or a Secret an identity-provider sidecar rewrites; `make run` mints
// one per service). The file is re-read whenever its modification time or size changes, so
// a rotated token is used from the next call on, without a restart.
//
//   pc::auth::TokenFile token("/var/run/secrets/partnercenter/token");
//   absl::StatusOr<std::string> bearer = token.Get();   // FAILED_PRECONDITION if unreadable
#pragma once

#include <mutex>
#include <string>

#include "absl/status/statusor.h"

namespace pc::auth {

class TokenFile {
 public:
  explicit TokenFile(std::string path);
  // The file's content without surrounding whitespace; FAILED_PRECONDITION (naming the path,
  // never the content) if it cannot be read or is empty.
  absl::StatusOr<std::string> Get();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
  long long seen_mtime_ns_ = -1;  // guarded by mu_
  long long seen_size_ = -1;      // guarded by mu_
  std::string token_;             // guarded by mu_
};

}  // namespace pc::auth
