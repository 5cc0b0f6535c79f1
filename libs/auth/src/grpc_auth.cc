#include "pc/auth/grpc_auth.h"

#include <chrono>
#include <iterator>
#include <string>

#include "absl/strings/match.h"
#include "pc/common/errors.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"

namespace pc::auth {
namespace {

absl::Status Unauthenticated(std::string_view why) {
  return pc::WithReason(absl::UnauthenticatedError(std::string(why)), pc::reason::kInvalidToken);
}

}  // namespace

absl::StatusOr<std::string_view> ParseBearerToken(std::string_view header_value) {
  constexpr std::string_view kScheme = "Bearer ";
  if (header_value.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(header_value.data(), kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size()))) {
    return Unauthenticated("authorization is not a Bearer token");
  }
  std::string_view token = header_value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return Unauthenticated("empty bearer token");
  if (token.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Unauthenticated("malformed bearer token");
  }
  return token;
}

namespace {

absl::StatusOr<std::string_view> TokenOf(const grpc::ServerContextBase& ctx) {
  auto [first, last] = ctx.client_metadata().equal_range(grpc::string_ref(kAuthorizationHeader));
  if (first == last) return Unauthenticated("missing authorization metadata");
  if (std::next(first) != last) return Unauthenticated("repeated authorization metadata");
  const grpc::string_ref& value = first->second;
  return ParseBearerToken(std::string_view(value.data(), value.size()));
}

}  // namespace

absl::StatusOr<Claims> Authenticate(const grpc::ServerContextBase& ctx, const Verifier& verifier,
                                    const pc::Clock& clock) {
  PC_ASSIGN_OR_RETURN(std::string_view token, TokenOf(ctx));
  return verifier.Verify(token, clock.Now());
}

absl::StatusOr<Claims> Authenticate(const grpc::ServerContextBase& ctx, VerifiedTokenCache& tokens,
                                    const pc::Clock& clock) {
  PC_ASSIGN_OR_RETURN(std::string_view token, TokenOf(ctx));
  return tokens.Verify(token, clock.Now());
}

std::string BearerTokenOf(const grpc::ServerContextBase& ctx) {
  absl::StatusOr<std::string_view> token = TokenOf(ctx);
  return token.ok() ? std::string(*token) : "";
}

std::string CorrelationIdOf(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(kCorrelationHeader);
  return CorrelationIdOr(it == md.end() ? std::string_view()
                                        : std::string_view(it->second.data(), it->second.size()));
}

std::string CorrelationIdOr(std::string_view value) {
  if (value.empty() || value.size() > 128) return pc::NewUuid();
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return pc::NewUuid();
  }
  return std::string(value);
}

void AttachBearerToken(grpc::ClientContext* ctx, std::string_view token) {
  ctx->AddMetadata(kAuthorizationHeader, std::string("Bearer ").append(token));
}

void PrepareOutgoingCall(grpc::ClientContext* ctx, std::string_view bearer_token,
                         std::string_view correlation_id, absl::Duration deadline) {
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  AttachBearerToken(ctx, bearer_token);
  if (!correlation_id.empty()) ctx->AddMetadata(kCorrelationHeader, std::string(correlation_id));
}

}  // namespace pc::auth
