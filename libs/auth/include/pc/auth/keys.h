// Signing keys: the public-key set a Verifier trusts, indexed by key id (`kid`), and key
// generation for local runs and tests.
//
// Only RS256 (RSA ≥ 2048 bits) and ES256 (EC P-256) keys are accepted; the algorithm is
// a property of the key, never taken from the token.
//
//   PC_ASSIGN_OR_RETURN(pc::auth::KeySet keys, pc::auth::KeySet::LoadDirectory("/etc/pc/jwt"));
//   // …or in memory:
//   pc::auth::KeySet keys;
//   PC_RETURN_IF_ERROR(keys.Add("2024-01", public_key_pem));
//
//   // Local runs: writes dev/jwt/dev-1.key.pem (0600) and dev/jwt/dev-1.pub.pem.
//   auto paths = pc::auth::GenerateDevKeyPair("dev/jwt", "dev-1");
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pc::auth {

enum class Algorithm { kRS256, kES256 };

// "RS256" or "ES256".
std::string_view AlgorithmName(Algorithm alg);

// True if `kid` is 1–64 characters of [A-Za-z0-9._-], not starting with '.', so that it
// is safe as a file name.
bool IsValidKeyId(std::string_view kid);

// Public keys by key id. Copyable and immutable once handed to a Verifier.
class KeySet {
 public:
  struct Key {
    Algorithm alg;
    std::string public_key_pem;
  };

  // Adds a PEM public key ("-----BEGIN PUBLIC KEY-----"). INVALID_ARGUMENT for a bad kid,
  // an unreadable key or an unsupported key type; ALREADY_EXISTS for a duplicate kid.
  absl::Status Add(std::string_view kid, std::string_view public_key_pem);
  // Adds the PEM public key in file `path` under `kid`. NOT_FOUND if it cannot be read.
  absl::Status AddFile(std::string_view kid, const std::string& path);
  // Loads every `<dir>/<kid>.pub.pem` (other files, e.g. private keys, are ignored).
  // NOT_FOUND if `dir` is not a readable directory; an empty directory yields an empty set.
  static absl::StatusOr<KeySet> LoadDirectory(const std::string& dir);

  // The key for `kid`, or nullptr.
  const Key* Find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }

 private:
  std::map<std::string, Key, std::less<>> keys_;
};

struct KeyPairPem {
  std::string private_key_pem;  // PKCS#8 "BEGIN PRIVATE KEY", unencrypted
  std::string public_key_pem;   // "BEGIN PUBLIC KEY"
};

// A fresh key pair: EC P-256 for ES256 (default) or RSA 2048 for RS256.
absl::StatusOr<KeyPairPem> GenerateKeyPair(Algorithm alg = Algorithm::kES256);

struct DevKeyPaths {
  std::string private_key_path;  // <dir>/<kid>.key.pem, mode 0600
  std::string public_key_path;   // <dir>/<kid>.pub.pem
};

// Writes a new ES256 key pair into `dir` (created if missing) for local runs. Refuses to
// overwrite: ALREADY_EXISTS if either file exists (callers may then reuse the pair).
absl::StatusOr<DevKeyPaths> GenerateDevKeyPair(const std::string& dir, std::string_view kid);

}  // namespace pc::auth
