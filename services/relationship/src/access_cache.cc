#include "access_cache.h"

#include <mutex>

#include "absl/strings/str_cat.h"

namespace pc::relationship {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;

std::string AccessCache::Key(const std::string& partner_id, const std::string& customer_id) {
  return absl::StrCat(partner_id, ":", customer_id);
}

absl::StatusOr<AccessEntry> AccessCache::Get(const std::string& partner_id,
                                             const std::string& customer_id) {
  const std::string key = Key(partner_id, customer_id);
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<AccessEntry> loaded = loader_(partner_id, customer_id);
  if (!loaded.ok()) return loaded.status();
  std::unique_lock lock(mu_);
  PutLocked(key, *loaded);
  return entries_.at(key);
}

void AccessCache::Put(const std::string& partner_id, const std::string& customer_id,
                      const AccessEntry& entry) {
  std::unique_lock lock(mu_);
  PutLocked(Key(partner_id, customer_id), entry);
}

bool AccessCache::PutLocked(const std::string& key, const AccessEntry& entry) {
  auto [it, inserted] = entries_.try_emplace(key, entry);
  if (inserted) return true;
  if (entry.version <= it->second.version) return false;
  it->second = entry;
  return true;
}

bool AccessCache::ApplyEvent(const ev::EventEnvelope& e) {
  const std::string key = Key(e.partner_id(), e.customer_id());
  std::unique_lock lock(mu_);
  auto it = entries_.find(key);
  AccessEntry next;
  next.version = e.aggregate_version();
  switch (e.payload_case()) {
    case ev::EventEnvelope::kRelationshipEstablished:
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = e.relationship_established().admin_access();
      return PutLocked(key, next);
    case ev::EventEnvelope::kPermissionGranted:
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = common::ADMIN_ACCESS_GRANTED;
      return PutLocked(key, next);
    case ev::EventEnvelope::kPermissionRevoked:
      // With cause RELATIONSHIP_REMOVED a RelationshipRemoved follows at the next version.
      next.state = common::RELATIONSHIP_STATE_ACTIVE;
      next.admin_access = common::ADMIN_ACCESS_REVOKED;
      return PutLocked(key, next);
    case ev::EventEnvelope::kRelationshipRemoved:
      next.state = common::RELATIONSHIP_STATE_REMOVED;
      // The removal revoked a granted permission (PermissionRevoked came first); otherwise
      // admin access stays what it was.
      next.admin_access = it != entries_.end() && it->second.admin_access !=
                                                      common::ADMIN_ACCESS_GRANTED
                              ? it->second.admin_access
                              : common::ADMIN_ACCESS_REVOKED;
      return PutLocked(key, next);
    default:
      // Services, support contacts, service requests: access unchanged, version advances.
      if (it == entries_.end() || e.aggregate_version() <= it->second.version) return false;
      it->second.version = e.aggregate_version();
      return true;
  }
}

size_t AccessCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace pc::relationship
