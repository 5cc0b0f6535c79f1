#include "pc/runtime/identity.h"

#include "absl/flags/flag.h"
#include "pc/runtime/flags.h"

ABSL_FLAG(std::string, jwt_keys_dir, ".local/jwt",
          "Directory of trusted JWT public keys, one <kid>.pub.pem per key");
ABSL_FLAG(std::string, jwt_issuer, "partnercenter-dev", "Expected JWT issuer (iss)");
ABSL_FLAG(std::string, jwt_audience, "partnercenter", "Expected JWT audience (aud)");
ABSL_FLAG(std::string, service_token_file, "",
          "File holding this service's own access token (role service, tid partnercenter, sub "
          "= the service), re-read when it changes; used only for calls the service makes as "
          "itself (docs/security.md). Empty: calls forward the caller's token.");

namespace pc::runtime {

absl::StatusOr<pc::auth::Verifier> LoadVerifierFromFlags() {
  return pc::auth::LoadVerifier(absl::GetFlag(FLAGS_jwt_keys_dir),
                                {.issuer = absl::GetFlag(FLAGS_jwt_issuer),
                                 .audience = absl::GetFlag(FLAGS_jwt_audience),
                                 .cloud = absl::GetFlag(FLAGS_cloud)});
}

}  // namespace pc::runtime
