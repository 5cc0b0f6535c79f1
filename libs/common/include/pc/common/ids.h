// Identifiers, secrets and hashes, all from OpenSSL's CSPRNG.
//
//   std::string event_id = pc::NewUuid();              // "3f2b…-4…" (RFC 4122 v4)
//   std::string token = pc::RandomUrlSafeToken(32);    // 256 bits, base64url, no padding
//   std::string stored = pc::Sha256Hex(token);        // what a database keeps
#pragma once

#include <string>
#include <string_view>

namespace pc {

// A random (version 4) UUID in canonical lower-case form.
std::string NewUuid();
// True if `s` is a canonical UUID (any version), lower or upper case.
bool IsUuid(std::string_view s);
// `num_bytes` random bytes from the CSPRNG, base64url-encoded without padding.
std::string RandomUrlSafeToken(int num_bytes);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace pc
