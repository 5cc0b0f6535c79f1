// Shared by the fuzz targets: callers drawn from a small set of tenants and roles (so the calls
// of one input meet each other's data), a fresh in-memory SQLite database per input, and the
// invariant every service answer must keep on hostile input.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "pc/auth/claims.h"
#include "pc/common/clock.h"
#include "pc/storage/database.h"

namespace pc::fuzz {

// A clock the input moves forward.
class Clock final : public pc::Clock {
 public:
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'750'000'000);
};

// A consumer's answer to a bad event: poison (DATA_LOSS, dead-lettered), refused, or retried
// later. Never INTERNAL or UNKNOWN.
inline void CheckConsumerAnswer(const absl::Status& s, const char* what) {
  if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnknown) {
    std::fprintf(stderr, "%s answered %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

inline pc::auth::Claims FuzzClaims(FuzzedDataProvider& in) {
  static const char* const kTenants[] = {"partner-a", "partner-b", "customer-1", "customer-2",
                                         "svc"};
  static const char* const kRoles[] = {"partner_admin", "partner_agent", "customer_admin",
                                       "service", "auditor"};
  pc::auth::Claims claims;
  claims.tenant_id = kTenants[in.ConsumeIntegralInRange<size_t>(0, 4)];
  claims.subject = "user@" + claims.tenant_id;
  claims.cloud = "global";
  claims.roles = {kRoles[in.ConsumeIntegralInRange<size_t>(0, 4)]};
  claims.display_name = "Fuzz User";
  return claims;
}

// A hostile request gets a precise answer: never INTERNAL, UNKNOWN or DATA_LOSS from a handler.
inline void CheckPrecise(const absl::Status& status, const char* what) {
  const absl::StatusCode code = status.code();
  if (code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown ||
      code == absl::StatusCode::kDataLoss) {
    std::fprintf(stderr, "imprecise answer from %s: %s\n", what, status.ToString().c_str());
    std::abort();
  }
}

// Aborts with `why` if `ok` is false (a broken invariant is a finding, like a crash).
inline void Require(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", why);
    std::abort();
  }
}

// The input of a handler fuzzer: calls, each [method][tenant][role][length lo][length hi]
// followed by `length` bytes of the serialized request (fuzz/seeds.sh writes seeds this way).
struct Call {
  uint8_t method = 0;
  pc::auth::Claims claims;
  std::string request;
};

class CallReader {
 public:
  CallReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool Next(Call* call) {
    if (size_ - pos_ < 5) return false;
    static const char* const kTenants[] = {"partner-a", "partner-b", "customer-1",
                                           "customer-2", "svc"};
    static const char* const kRoles[] = {"partner_admin", "partner_agent", "customer_admin",
                                         "service", "auditor"};
    const uint8_t* p = data_ + pos_;
    call->method = p[0];
    call->claims = {};
    call->claims.tenant_id = kTenants[p[1] % 5];
    call->claims.subject = "user@" + call->claims.tenant_id;
    call->claims.cloud = "global";
    call->claims.roles = {kRoles[p[2] % 5]};
    call->claims.display_name = "Fuzz User";
    const size_t length = std::min<size_t>(p[3] | (p[4] << 8), size_ - pos_ - 5);
    call->request.assign(reinterpret_cast<const char*>(p + 5), length);
    pos_ += 5 + length;
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Runs `dispatch` on each of the input's first `max_calls` calls, then `between()`.
template <typename Dispatch, typename Between>
void ForEachCall(const uint8_t* data, size_t size, int max_calls, Dispatch dispatch,
                 Between between) {
  CallReader reader(data, size);
  Call call;
  for (int i = 0; i < max_calls && reader.Next(&call); ++i) {
    dispatch(call);
    between();
  }
}

inline std::unique_ptr<pc::storage::Database> MemoryDatabase() {
  auto db = pc::storage::Open(":memory:");
  Require(db.ok(), "cannot open an in-memory SQLite database");
  return *std::move(db);
}

}  // namespace pc::fuzz
