#include "pc/runtime/identity.h"

#include "absl/flags/flag.h"
#include "pc/runtime/flags.h"

ABSL_FLAG(std::string, jwt_keys_dir, ".local/jwt",
          "Directory of trusted JWT public keys, one <kid>.pub.pem per key");
ABSL_FLAG(std::string, jwt_issuer, "partnercenter-dev", "Expected JWT issuer (iss)");
ABSL_FLAG(std::string, jwt_audience, "partnercenter", "Expected JWT audience (aud)");

namespace pc::runtime {

absl::StatusOr<pc::auth::Verifier> LoadVerifierFromFlags() {
  return pc::auth::LoadVerifier(absl::GetFlag(FLAGS_jwt_keys_dir),
                                {.issuer = absl::GetFlag(FLAGS_jwt_issuer),
                                 .audience = absl::GetFlag(FLAGS_jwt_audience),
                                 .cloud = absl::GetFlag(FLAGS_cloud)});
}

}  // namespace pc::runtime
