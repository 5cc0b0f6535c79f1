// The portal's pages: an HTTP request in, an HTTP response out, with the three services
// called over gRPC on behalf of the signed-in user. No sockets here (http_server.h owns
// those), so every page and rule is unit-tested with fake stubs.
//
// Identity: in dev mode (a Minter is configured) /signin mints a JWT for the chosen tenant
// and role and keeps it in an HttpOnly, SameSite=Lax cookie; in production the JWT comes
// from the configured upstream header and the portal never mints. Either way the portal
// verifies it and forwards it unchanged; the services decide what it may do.
//
//   Portal portal(options, backends, tokens, clock);
//   HttpResponse page = portal.Handle(request);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backends.h"
#include "pc/auth/claims.h"
#include "pc/auth/minter.h"
#include "pc/auth/token_cache.h"
#include "pc/common/clock.h"

namespace pc::portal {

struct HttpRequest {
  std::string method;                          // "GET", "POST", …
  std::string path;                            // without the query string
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> form;     // decoded urlencoded POST body
  std::string cookie_header;
  std::string identity_header;                 // production: the upstream header's value
  std::string last_event_id;                   // SSE reconnect
  std::string correlation_id;
  std::string fetch_site;                      // Sec-Fetch-Site ("cross-site", "same-origin", …)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // Location, Set-Cookie, …
  std::string body;
};

// Security headers every response carries (CSP without inline script or style,
// no-referrer so a link's token never leaks, no framing, no caching of pages).
std::vector<std::pair<std::string, std::string>> SecurityHeaders();

// Readable text for a service's error: what happened and what to do, never a status dump.
// `service` names the backend ("relationship service") for availability errors.
std::string Explain(const absl::Status& status, const std::string& service);

class Portal {
 public:
  struct Options {
    std::string cloud = "global";
    std::string csrf_secret;            // HMAC key for CSRF tokens (random per process is fine
                                        // for one replica; share it across replicas)
    bool insecure_cookies = false;      // plain-HTTP local dev: no Secure attribute
    std::optional<pc::auth::Minter> dev_minter;  // set: dev sign-in; unset: production
    std::string identity_header;        // production: header carrying the user's JWT
    absl::Duration session_ttl = absl::Hours(8);
  };

  Portal(Options options, Backends backends, pc::auth::VerifiedTokenCache& tokens,
         const pc::Clock& clock);

  HttpResponse Handle(const HttpRequest& request);

  // GET /customers/events: who may open the live feed and from where. Either the grant or
  // the response to send instead (sign-in needed, wrong role, or — a complete SSE response
  // with a `reset` event — a resume point ahead of the feed, which only a forged or stale
  // page can have). Calls the notification service (blocking) to check the resume point.
  struct StreamGrant {
    std::string partner_id;
    std::string token;
    int64_t after_sequence = 0;
    absl::Time expires_at = absl::InfiniteFuture();  // the stream ends with the session
  };
  std::variant<StreamGrant, HttpResponse> AuthorizeCustomerStream(const HttpRequest& request);
  static constexpr char kCustomerStreamPath[] = "/customers/events";

  // SSE frames of the Customers feed (used by the FeedHub).
  static std::string ChangeFrame(const partnercenter::notification::v1::CustomerChange& change);
  static std::string StatusFrame(const std::string& state, const std::string& why);

  struct User {
    pc::auth::Claims claims;
    std::string token;
    std::string csrf;
  };

 private:
  std::optional<User> Authenticate(const HttpRequest& request) const;
  HttpResponse Route(const HttpRequest& request, const std::optional<User>& user);

  HttpResponse Home(const std::optional<User>& user);
  HttpResponse SignInPage(const HttpRequest& request, const std::string& error);
  HttpResponse SignIn(const HttpRequest& request);
  HttpResponse CustomersPage(const HttpRequest& request, const User& user);
  HttpResponse CustomerRecordPage(const HttpRequest& request, const User& user,
                                  const std::string& customer_id, const std::string& error);
  HttpResponse CustomerAction(const HttpRequest& request, const User& user,
                              const std::string& customer_id, const std::string& action);
  HttpResponse InvitationsPage(const HttpRequest& request, const User& user,
                               const std::string& error);
  HttpResponse NewInvitationPage(const HttpRequest& request, const User& user,
                                 const std::string& error);
  HttpResponse CreateInvitation(const HttpRequest& request, const User& user);
  HttpResponse InvitationAction(const HttpRequest& request, const User& user,
                                const std::string& id, const std::string& action);
  HttpResponse AcceptLanding(const HttpRequest& request, const std::optional<User>& user);
  HttpResponse RespondToInvitation(const HttpRequest& request, const User& user, bool accept);
  HttpResponse PartnersPage(const HttpRequest& request, const User& user,
                            const std::string& error);
  HttpResponse PartnerAction(const HttpRequest& request, const User& user,
                             const std::string& partner_id, const std::string& action);

  std::string Layout(const std::optional<User>& user, const std::string& title,
                     const std::string& body) const;
  HttpResponse Page(const std::optional<User>& user, const std::string& title,
                    const std::string& body, int status = 200) const;

  template <typename Stub, typename Req, typename Resp, typename Method>
  absl::Status Call(Stub& stub, Method method, const User& user, const HttpRequest& request,
                    const Req& req, Resp* resp);

  const Options options_;
  const Backends backends_;
  pc::auth::VerifiedTokenCache& tokens_;
  const pc::Clock& clock_;
};

}  // namespace pc::portal
