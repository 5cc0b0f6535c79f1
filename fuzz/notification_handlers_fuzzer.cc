// Every NotificationService RPC's domain entry point (what the gRPC adapter calls after
// authentication) with arbitrary request messages from callers of every role, interleaved
// with events applied by the projector (method 4), on one fresh in-memory store. A watch is
// cancelled as soon as it is open, so the fuzzer covers its checks and its first read. Each
// answer must be OK, CANCELLED or a precise error (fuzz_common.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain.h"
#include "fuzz_common.h"
#include "projector.h"
#include "store.h"

namespace pc::notification {
namespace {

void Dispatch(NotificationDomain& domain, Projector& projector, const pc::fuzz::Call& fuzz_call) {
  const CallContext call{fuzz_call.claims};
  const std::string& bytes = fuzz_call.request;
  auto cancelled = [] { return true; };
  switch (fuzz_call.method % 5) {
    case 0: {
      v1::GetCustomersPageRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(domain.GetCustomersPage(call, req).status(), "GetCustomersPage");
    }
    case 1: {
      v1::GetPartnersPageRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(domain.GetPartnersPage(call, req).status(), "GetPartnersPage");
    }
    case 2: {
      v1::WatchCustomersRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(
          domain.WatchCustomers(call, req, [](const v1::CustomerChange&) { return false; }, cancelled),
          "WatchCustomers");
    }
    case 3: {
      v1::WatchPartnersRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(
          domain.WatchPartners(call, req, [](const v1::PartnerChange&) { return false; }, cancelled),
          "WatchPartners");
    }
    default:
      return pc::fuzz::CheckConsumerAnswer(projector.ApplyBytes(bytes), "Projector::ApplyBytes");
  }
}

}  // namespace
}  // namespace pc::notification

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pc::notification;  // NOLINT
  auto db = pc::fuzz::MemoryDatabase();
  pc::fuzz::Require(NotificationStore::Migrate(*db).ok(), "migrate");
  NotificationStore store(*db);
  Projector projector({}, store, [] {});
  FeedSignal signal;
  NotificationDomain domain({}, store, signal);
  pc::fuzz::ForEachCall(
      data, size, 8, [&](const pc::fuzz::Call& call) { Dispatch(domain, projector, call); },
      [] {});
  return 0;
}
