#include "pc/auth/token_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pc::auth {

TokenFile::TokenFile(std::string path) : path_(std::move(path)) {}

absl::StatusOr<std::string> TokenFile::Get() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the token file ", path_));
  }
  const long long mtime = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  std::lock_guard lock(mu_);
  if (mtime != seen_mtime_ns_ || static_cast<long long>(st.st_size) != seen_size_) {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read the token file ", path_));
    token_ = std::string(absl::StripAsciiWhitespace(text.str()));
    seen_mtime_ns_ = mtime;
    seen_size_ = st.st_size;
  }
  if (token_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the token file ", path_, " is empty"));
  }
  return token_;
}

}  // namespace pc::auth
