// The identity flags every service shares — where the trusted JWT public keys are and which
// issuer and audience tokens must name — the verifier they configure (for --cloud), and
// --service_token_file, where a service finds its own token (pc::auth::TokenFile).
//
//   pc::runtime::Init(argc, argv, "relationship", {...});
//   auto verifier = pc::runtime::LoadVerifierFromFlags();
//   PC_CHECK_OK(verifier.status());
#pragma once

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "pc/auth/verifier.h"

ABSL_DECLARE_FLAG(std::string, jwt_keys_dir);
ABSL_DECLARE_FLAG(std::string, jwt_issuer);
ABSL_DECLARE_FLAG(std::string, jwt_audience);
ABSL_DECLARE_FLAG(std::string, service_token_file);

namespace pc::runtime {

// pc::auth::LoadVerifier(--jwt_keys_dir, {--jwt_issuer, --jwt_audience, --cloud}).
absl::StatusOr<pc::auth::Verifier> LoadVerifierFromFlags();

}  // namespace pc::runtime
