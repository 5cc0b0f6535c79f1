#include "access_cache.h"

#include <optional>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "pc/common/errors.h"
#include "pc/events/envelope.h"

namespace pc::relationship {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;

namespace {

constexpr size_t kShards = 16;

// The cache is keyed like the relationship topic: one key per (partner, customer) pair.
using pc::events::RelationshipKey;

}  // namespace

// One lock, one recency list (most recent first) and one index per shard.
struct AccessCache::Shard {
  struct Node {
    std::string key;
    AccessEntry entry;
  };
  std::mutex mu;
  std::list<Node> lru;
  absl::flat_hash_map<std::string, std::list<Node>::iterator> index;
  size_t capacity = 0;
  uint64_t evictions = 0;

  // The entry, marked most recently used.
  std::optional<AccessEntry> Find(const std::string& key) {
    auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->entry;
  }
  // The node for `key` if present.
  Node* Peek(const std::string& key) {
    auto it = index.find(key);
    return it == index.end() ? nullptr : &*it->second;
  }
  // Stores `entry` unless a newer version is known; returns true if it changed.
  bool Put(const std::string& key, const AccessEntry& entry) {
    auto it = index.find(key);
    if (it != index.end()) {
      Node& node = *it->second;
      lru.splice(lru.begin(), lru, it->second);
      if (entry.version <= node.entry.version) return false;
      node.entry = entry;
      return true;
    }
    lru.push_front({key, entry});
    index.emplace(key, lru.begin());
    while (lru.size() > capacity) {
      index.erase(lru.back().key);
      lru.pop_back();
      ++evictions;
    }
    return true;
  }
};

AccessCache::AccessCache(Loader loader, AccessCacheOptions options)
    : loader_(std::move(loader)), fresh_(std::move(options.fresh)) {
  const size_t per_shard = std::max<size_t>(1, (options.capacity + kShards - 1) / kShards);
  for (size_t i = 0; i < kShards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->capacity = per_shard;
  }
}

AccessCache::~AccessCache() = default;

AccessCache::Shard& AccessCache::ShardOf(const std::string& key) const {
  return *shards_[absl::Hash<std::string>()(key) % kShards];
}

absl::StatusOr<AccessEntry> AccessCache::Load(const std::string& key,
                                              const std::string& partner_id,
                                              const std::string& customer_id) {
  absl::StatusOr<AccessEntry> loaded = loader_(partner_id, customer_id);
  if (!loaded.ok()) {
    unavailable_.fetch_add(1, std::memory_order_relaxed);
    return pc::WithReason(
        absl::UnavailableError(absl::StrCat(
            "admin access cannot be proven current: ", loaded.status().message())),
        kAccessStateUnavailable);
  }
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.Put(key, *loaded);
  return shard.Find(key).value_or(*loaded);
}

absl::StatusOr<AccessEntry> AccessCache::Get(const std::string& partner_id,
                                             const std::string& customer_id) {
  const std::string key = RelationshipKey(partner_id, customer_id);
  if (fresh_ && !fresh_()) {
    read_throughs_.fetch_add(1, std::memory_order_relaxed);
    return Load(key, partner_id, customer_id);
  }
  {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    if (std::optional<AccessEntry> found = shard.Find(key)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return *found;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return Load(key, partner_id, customer_id);
}

void AccessCache::Put(const std::string& partner_id, const std::string& customer_id,
                      const AccessEntry& entry) {
  const std::string key = RelationshipKey(partner_id, customer_id);
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.Put(key, entry);
}

bool AccessCache::ApplyEvent(const ev::EventEnvelope& e) {
  const std::string key = RelationshipKey(e.partner_id(), e.customer_id());
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  Shard::Node* known = shard.Peek(key);
  AccessEntry next;
  next.version = e.aggregate_version();
  switch (e.payload_case()) {
    case ev::EventEnvelope::kRelationshipEstablished:
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = e.relationship_established().admin_access();
      return shard.Put(key, next);
    case ev::EventEnvelope::kPermissionGranted:
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = common::ADMIN_ACCESS_GRANTED;
      return shard.Put(key, next);
    case ev::EventEnvelope::kPermissionRevoked:
      // With cause RELATIONSHIP_REMOVED a RelationshipRemoved follows at the next version.
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = common::ADMIN_ACCESS_REVOKED;
      return shard.Put(key, next);
    case ev::EventEnvelope::kRelationshipRemoved:
      next.state = common::RELATIONSHIP_STATE_REMOVED;
      // The removal revoked a granted permission (PermissionRevoked came first); otherwise
      // admin access stays what it was.
      next.admin_access =
          known != nullptr && known->entry.admin_access != common::ADMIN_ACCESS_GRANTED
              ? known->entry.admin_access
              : common::ADMIN_ACCESS_REVOKED;
      return shard.Put(key, next);
    default:
      // Services, support contacts, service requests: access unchanged, version advances.
      if (known == nullptr || e.aggregate_version() <= known->entry.version) return false;
      known->entry.version = e.aggregate_version();
      return true;
  }
}

size_t AccessCache::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    n += shard->lru.size();
  }
  return n;
}

size_t AccessCache::capacity() const { return shards_.size() * shards_.front()->capacity; }

uint64_t AccessCache::evictions() const {
  uint64_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    n += shard->evictions;
  }
  return n;
}

}  // namespace pc::relationship
