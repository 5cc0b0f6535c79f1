// The in-memory answer to CheckAdminAccess: (partner, customer) → relationship state, admin
// access and the relationship version it reflects.
//
// Kept current on every replica from three sources, newest version wins:
//   - the replica's own commits (read-your-writes: Put right after the commit),
//   - the relationship topic, tailed by every replica (ApplyEvent), so a revoke committed by
//     another replica is seen here as soon as its event arrives,
//   - the database, read through on a miss (the loader), including "no relationship".
// A late, older update never overwrites a newer one.
#pragma once

#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "partnercenter/common/v1/common.pb.h"
#include "partnercenter/events/v1/events.pb.h"

namespace pc::relationship {

struct AccessEntry {
  partnercenter::common::v1::RelationshipState state =
      partnercenter::common::v1::RELATIONSHIP_STATE_UNSPECIFIED;  // UNSPECIFIED: none
  partnercenter::common::v1::AdminAccess admin_access =
      partnercenter::common::v1::ADMIN_ACCESS_UNSPECIFIED;
  int64_t version = 0;  // 0 with state UNSPECIFIED: no relationship (as of the load)
};

class AccessCache {
 public:
  // Reads the current entry from the store (state UNSPECIFIED if there is no relationship).
  using Loader =
      std::function<absl::StatusOr<AccessEntry>(const std::string& partner_id,
                                                const std::string& customer_id)>;

  explicit AccessCache(Loader loader) : loader_(std::move(loader)) {}

  // The entry for the pair: from memory, or loaded (and remembered) on a miss.
  absl::StatusOr<AccessEntry> Get(const std::string& partner_id, const std::string& customer_id);
  // Remembers `entry` unless a newer version is already known.
  void Put(const std::string& partner_id, const std::string& customer_id,
           const AccessEntry& entry);
  // Applies a relationship event (any type): access-changing events set the entry; the rest
  // only advance a known entry's version. Returns true if the entry changed.
  bool ApplyEvent(const partnercenter::events::v1::EventEnvelope& event);

  size_t size() const;
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }

 private:
  static std::string Key(const std::string& partner_id, const std::string& customer_id);
  // Under the writer lock.
  bool PutLocked(const std::string& key, const AccessEntry& entry);

  Loader loader_;
  mutable std::shared_mutex mu_;
  absl::flat_hash_map<std::string, AccessEntry> entries_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace pc::relationship
