// EventEnvelope decoding, then the notification projector (read models and change feeds) fed
// what decoded: up to four message values applied in order to a fresh in-memory store, so one
// input can create rows and then change them; the pages are read back after each.
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain.h"
#include "fuzz_common.h"
#include "pc/events/envelope.h"
#include "projector.h"
#include "store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  auto db = pc::fuzz::MemoryDatabase();
  pc::fuzz::Require(pc::notification::NotificationStore::Migrate(*db).ok(), "migrate");
  pc::notification::NotificationStore store(*db);
  pc::notification::Projector projector({}, store, [] {});
  pc::notification::FeedSignal signal;
  pc::notification::NotificationDomain domain({}, store, signal);

  for (int i = 0; i < 4 && in.remaining_bytes() > 0; ++i) {
    const std::string value = in.ConsumeRandomLengthString(4096);
    absl::StatusOr<partnercenter::events::v1::EventEnvelope> envelope = pc::events::Decode(value);
    pc::fuzz::Require(envelope.ok() || envelope.status().code() == absl::StatusCode::kDataLoss,
                      "Decode refused bytes with a code other than DATA_LOSS");
    absl::Status applied = projector.ApplyBytes(value);
    pc::fuzz::CheckConsumerAnswer(applied, "Projector::ApplyBytes");
    if (!envelope.ok()) {
      pc::fuzz::Require(applied.code() == absl::StatusCode::kDataLoss,
                        "the projector applied bytes Decode refused");
    } else {
      pc::notification::CallContext partner{{.subject = "u", .tenant_id = envelope->partner_id(),
                                             .cloud = "global", .roles = {"partner_agent"}}};
      partnercenter::notification::v1::GetCustomersPageRequest req;
      req.set_partner_id(envelope->partner_id());
      pc::fuzz::CheckPrecise(domain.GetCustomersPage(partner, req).status(), "GetCustomersPage");
    }
  }
  return 0;
}
