// EventEnvelope decoding, then the relationship service's invitation-event applier fed what
// decoded: up to four message values applied in order to a fresh in-memory store, so one
// input can establish a relationship and then restore admin permission on it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "access_cache.h"
#include "domain.h"
#include "fuzz_common.h"
#include "pc/events/envelope.h"
#include "store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  pc::fuzz::Clock clock;
  auto db = pc::fuzz::MemoryDatabase();
  pc::fuzz::Require(pc::relationship::RelationshipStore::Migrate(*db).ok(), "migrate");
  pc::relationship::RelationshipStore store(*db);
  std::unique_ptr<pc::relationship::RelationshipDomain> domain;
  pc::relationship::AccessCache cache(
      [&](const std::string& p, const std::string& c) { return domain->LoadAccess(p, c); });
  domain = std::make_unique<pc::relationship::RelationshipDomain>(
      pc::relationship::DomainOptions{}, store, clock, nullptr, cache);

  for (int i = 0; i < 4 && in.remaining_bytes() > 0; ++i) {
    const std::string value = in.ConsumeRandomLengthString(4096);
    absl::StatusOr<partnercenter::events::v1::EventEnvelope> envelope = pc::events::Decode(value);
    pc::fuzz::Require(envelope.ok() || envelope.status().code() == absl::StatusCode::kDataLoss,
                      "Decode refused bytes with a code other than DATA_LOSS");
    if (!envelope.ok()) continue;
    pc::fuzz::CheckConsumerAnswer(domain->ApplyInvitationEvent(*envelope), "ApplyInvitationEvent");
    clock.Advance(absl::Minutes(in.ConsumeIntegralInRange<int>(0, 30)));
  }
  return 0;
}
