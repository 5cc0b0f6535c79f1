// Every InvitationService RPC's domain entry point (what the gRPC adapter calls after
// authentication) with arbitrary request messages from callers of every role, in sequence on
// one fresh in-memory store. Each answer must be OK or a precise error (fuzz_common.h). A
// created invitation's token is remembered, so a later Preview/Accept/Decline whose token
// field is "@" uses it and reaches the paths behind a valid link.
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain.h"
#include "fuzz_common.h"
#include "sql_repository.h"

namespace pc::invitation {
namespace {

std::string TokenOf(const std::string& link) {
  const size_t at = link.find("token=");
  return at == std::string::npos ? "" : link.substr(at + 6);
}

template <typename Req>
void UseRememberedToken(Req& req, const std::string& token) {
  if (req.token() == "@") req.set_token(token);
}

void Dispatch(InvitationDomain& domain, const pc::fuzz::Call& fuzz_call, std::string* token) {
  const CallContext call{fuzz_call.claims, "corr-fuzz"};
  const std::string& bytes = fuzz_call.request;
  switch (fuzz_call.method % 8) {
    case 0: {
      v1::CreateInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      auto created = domain.Create(call, req);
      pc::fuzz::CheckPrecise(created.status(), "Create");
      if (created.ok()) *token = TokenOf(created->email_draft().link());
      return;
    }
    case 1: {
      v1::GetInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(domain.Get(call, req).status(), "Get");
    }
    case 2: {
      v1::ListInvitationsRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(domain.List(call, req).status(), "List");
    }
    case 3: {
      v1::CancelInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      return pc::fuzz::CheckPrecise(domain.Cancel(call, req).status(), "Cancel");
    }
    case 4: {
      v1::ResendInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      auto resent = domain.Resend(call, req);
      pc::fuzz::CheckPrecise(resent.status(), "Resend");
      if (resent.ok()) *token = TokenOf(resent->email_draft().link());
      return;
    }
    case 5: {
      v1::PreviewInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      UseRememberedToken(req, *token);
      return pc::fuzz::CheckPrecise(domain.Preview(call, req).status(), "Preview");
    }
    case 6: {
      v1::AcceptInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      UseRememberedToken(req, *token);
      return pc::fuzz::CheckPrecise(domain.Accept(call, req).status(), "Accept");
    }
    default: {
      v1::DeclineInvitationRequest req;
      if (!req.ParseFromString(bytes)) return;
      UseRememberedToken(req, *token);
      return pc::fuzz::CheckPrecise(domain.Decline(call, req).status(), "Decline");
    }
  }
}

}  // namespace
}  // namespace pc::invitation

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pc::invitation;  // NOLINT
  pc::fuzz::Clock clock;
  auto db = pc::fuzz::MemoryDatabase();
  pc::fuzz::Require(SqlRepository::Migrate(*db).ok(), "migrate");
  SqlRepository repository(*db);
  InvitationDomain domain(DomainOptions{.cloud = "global", .portal_base_url = "https://portal.example"},
                          repository, clock, nullptr);
  std::string token;
  pc::fuzz::ForEachCall(
      data, size, 8, [&](const pc::fuzz::Call& call) { Dispatch(domain, call, &token); },
      [&] { clock.Advance(absl::Minutes(1)); });
  pc::fuzz::CheckPrecise(domain.ExpireDue().status(), "ExpireDue");
  return 0;
}
