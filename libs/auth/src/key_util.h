#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pc/auth/keys.h"

namespace pc::auth::internal {

absl::StatusOr<Algorithm> AlgorithmOfPublicKey(std::string_view pem);
absl::StatusOr<Algorithm> AlgorithmOfPrivateKey(std::string_view pem);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace pc::auth::internal
