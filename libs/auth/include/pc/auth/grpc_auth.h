// Bearer tokens on gRPC calls: the server reads `authorization: Bearer <jwt>` metadata and
// verifies it; the client attaches it. A per-call helper rather than an interceptor, so
// each handler decides what it needs.
//
//   grpc::Status Get(grpc::ServerContext* ctx, const Req* req, Resp* resp) override {
//     absl::StatusOr<pc::auth::Claims> claims = pc::auth::Authenticate(*ctx, verifier_, clock_);
//     if (!claims.ok()) return pc::ToGrpcStatus(claims.status());
//     ...
//   }
//
//   grpc::ClientContext ctx;
//   pc::auth::AttachBearerToken(&ctx, token);
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "pc/auth/claims.h"
#include "pc/auth/token_cache.h"
#include "pc/auth/verifier.h"
#include "pc/common/clock.h"

namespace pc::auth {

inline constexpr char kAuthorizationHeader[] = "authorization";

// The token in an `authorization` value "Bearer <token>" (scheme case-insensitive).
// UNAUTHENTICATED (reason INVALID_TOKEN) for any other scheme or an empty token.
absl::StatusOr<std::string_view> ParseBearerToken(std::string_view header_value);

// Verifies the call's bearer token at `clock.Now()`. UNAUTHENTICATED if the metadata is
// missing, repeated, not "Bearer <jwt>", or the token fails verification. Accepts both
// grpc::ServerContext and grpc::CallbackServerContext.
absl::StatusOr<Claims> Authenticate(const grpc::ServerContextBase& ctx, const Verifier& verifier,
                                    const pc::Clock& clock);
// The same, verifying through `tokens` (a repeated token is verified once).
absl::StatusOr<Claims> Authenticate(const grpc::ServerContextBase& ctx, VerifiedTokenCache& tokens,
                                    const pc::Clock& clock);
// The raw bearer token of the call ("" if there is none): to forward the caller's identity
// when calling another service on its behalf.
std::string BearerTokenOf(const grpc::ServerContextBase& ctx);

// The call's `x-correlation-id` metadata (1–128 bytes), or a new UUID: put it on the events
// the call causes and forward it on calls made on its behalf.
std::string CorrelationIdOf(const grpc::ServerContextBase& ctx);
inline constexpr char kCorrelationHeader[] = "x-correlation-id";
// `value` if it is a usable correlation id (1–128 printable ASCII characters), else a new UUID.
// For ids arriving other ways than gRPC metadata (e.g. an HTTP header).
std::string CorrelationIdOr(std::string_view value);

// Adds `authorization: Bearer <token>` to an outgoing call.
void AttachBearerToken(grpc::ClientContext* ctx, std::string_view token);

// Prepares an outgoing call made on a user's behalf: the deadline, their bearer token and the
// correlation id of what they are doing.
void PrepareOutgoingCall(grpc::ClientContext* ctx, std::string_view bearer_token,
                         std::string_view correlation_id, absl::Duration deadline);

}  // namespace pc::auth
