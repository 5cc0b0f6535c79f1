// Every RelationshipService RPC's domain entry point (what the gRPC adapter calls after
// authentication) with arbitrary request messages from callers of every role, in sequence on
// one fresh in-memory store. Each answer must be OK or a precise error (fuzz_common.h).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "access_cache.h"
#include "domain.h"
#include "fuzz_common.h"
#include "grpc_service.h"
#include "relationship_seed.h"
#include "store.h"

namespace pc::relationship {
namespace {

// Answers RequestAdminRestore's CreateInvitation like the invitation service would.
class FakeInvitations final : public InvitationClient {
 public:
  absl::StatusOr<partnercenter::invitation::v1::CreateInvitationResponse> CreateInvitation(
      const CallContext& call, const partnercenter::invitation::v1::CreateInvitationRequest& r) override {
    partnercenter::invitation::v1::CreateInvitationResponse out;
    out.mutable_invitation()->set_id("00000000-0000-4000-8000-000000000001");
    out.mutable_invitation()->set_kind(r.kind());
    out.mutable_invitation()->set_partner_id(call.claims.tenant_id);
    out.mutable_email_draft()->set_link("https://portal.example/invitations/accept?token=x");
    return out;
  }
};

#define PC_FUZZ_COUNT(Method, Req, Resp) +1
constexpr int kRpcs = 0 PC_RELATIONSHIP_RPCS(PC_FUZZ_COUNT);
#undef PC_FUZZ_COUNT

void Dispatch(RelationshipDomain& domain, const pc::fuzz::Call& fuzz_call) {
  const CallContext call{fuzz_call.claims, "corr-fuzz", "token"};
  int index = fuzz_call.method % kRpcs;
#define PC_FUZZ_CALL(Method, Req, Resp)                                      \
  if (index-- == 0) {                                                        \
    Req req;                                                                 \
    if (!req.ParseFromString(fuzz_call.request)) return;                     \
    pc::fuzz::CheckPrecise(domain.Method(call, req).status(), #Method);      \
    return;                                                                  \
  }
  PC_RELATIONSHIP_RPCS(PC_FUZZ_CALL)
#undef PC_FUZZ_CALL
}

}  // namespace
}  // namespace pc::relationship

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pc::relationship;  // NOLINT
  pc::fuzz::Clock clock;
  auto db = pc::fuzz::MemoryDatabase();
  pc::fuzz::Require(RelationshipStore::Migrate(*db).ok(), "migrate");
  RelationshipStore store(*db);
  FakeInvitations invitations;
  std::unique_ptr<RelationshipDomain> domain;
  AccessCache cache([&](const std::string& p, const std::string& c) { return domain->LoadAccess(p, c); });
  domain = std::make_unique<RelationshipDomain>(DomainOptions{}, store, clock, &invitations, cache);
  pc::fuzz::SeedRelationship(*domain, clock);
  pc::fuzz::ForEachCall(
      data, size, 8, [&](const pc::fuzz::Call& call) { Dispatch(*domain, call); },
      [&] { clock.Advance(absl::Minutes(1)); });
  return 0;
}
