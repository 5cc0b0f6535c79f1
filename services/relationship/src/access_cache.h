// The in-memory answer to CheckAdminAccess: (partner, customer) → relationship state, admin
// access and the relationship version it reflects.
//
// Kept current on every replica from three sources, newest version wins:
//   - the replica's own commits (read-your-writes: Put right after the commit),
//   - the relationship topic, tailed by every replica (ApplyEvent), so a revoke committed by
//     another replica is seen here as soon as its event arrives,
//   - the database, read through on a miss (the loader), including "no relationship".
// A late, older update never overwrites a newer one.
//
// Bounded staleness: memory answers only while `fresh()` says the tail has provably caught
// up (AccessFreshness); otherwise every Get reads the store, and when the store cannot
// answer either, Get fails closed with UNAVAILABLE (reason ACCESS_STATE_UNAVAILABLE).
//
// Bounded size: at most `capacity` pairs, negative answers included; the least recently used
// pair of a shard is dropped first (a dropped pair is simply loaded again when asked for).
//
//   AccessCache cache(loader, {.capacity = 100'000, .fresh = [&] { return f.Fresh(); }});
//   PC_ASSIGN_OR_RETURN(AccessEntry e, cache.Get(partner_id, customer_id));
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "partnercenter/common/v1/common.pb.h"
#include "partnercenter/events/v1/events.pb.h"

namespace pc::relationship {

// CheckAdminAccess could not prove a current answer (stale cache and no database).
inline constexpr char kAccessStateUnavailable[] = "ACCESS_STATE_UNAVAILABLE";

struct AccessEntry {
  partnercenter::common::v1::RelationshipState state =
      partnercenter::common::v1::RELATIONSHIP_STATE_UNSPECIFIED;  // UNSPECIFIED: none
  partnercenter::common::v1::AdminAccess admin_access =
      partnercenter::common::v1::ADMIN_ACCESS_UNSPECIFIED;
  int64_t version = 0;  // 0 with state UNSPECIFIED: no relationship (as of the load)
};

struct AccessCacheOptions {
  // Most pairs kept (rounded up to a multiple of the shard count).
  size_t capacity = 100'000;
  // True while memory is provably within the staleness bound; unset: always.
  std::function<bool()> fresh = {};
};

class AccessCache {
 public:
  // Reads the current entry from the store (state UNSPECIFIED if there is no relationship).
  using Loader =
      std::function<absl::StatusOr<AccessEntry>(const std::string& partner_id,
                                                const std::string& customer_id)>;

  explicit AccessCache(Loader loader, AccessCacheOptions options = {});
  ~AccessCache();

  // The entry for the pair: from memory while fresh, else loaded (and remembered).
  // UNAVAILABLE with reason ACCESS_STATE_UNAVAILABLE if it must load and the store fails.
  absl::StatusOr<AccessEntry> Get(const std::string& partner_id, const std::string& customer_id);
  // Remembers `entry` unless a newer version is already known.
  void Put(const std::string& partner_id, const std::string& customer_id,
           const AccessEntry& entry);
  // Applies a relationship event (any type): access-changing events set the entry; the rest
  // only advance a known entry's version. Returns true if the entry changed.
  bool ApplyEvent(const partnercenter::events::v1::EventEnvelope& event);

  size_t size() const;
  size_t capacity() const;
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }              // loads: pair not in memory
  uint64_t read_throughs() const { return read_throughs_.load(); }  // loads: memory not fresh
  uint64_t unavailable() const { return unavailable_.load(); }    // loads that failed
  uint64_t evictions() const;

 private:
  struct Shard;
  Shard& ShardOf(const std::string& key) const;
  absl::StatusOr<AccessEntry> Load(const std::string& key, const std::string& partner_id,
                                   const std::string& customer_id);

  Loader loader_;
  std::function<bool()> fresh_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> read_throughs_{0};
  std::atomic<uint64_t> unavailable_{0};
};

}  // namespace pc::relationship
