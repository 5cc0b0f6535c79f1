#include "portal.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "pc/auth/authorization.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"
#include "pc/common/validation.h"
#include "pc/common/url.h"
#include "web.h"

namespace pc::portal {
namespace {

namespace cv1 = ::partnercenter::common::v1;
namespace iv1 = ::partnercenter::invitation::v1;
namespace nv1 = ::partnercenter::notification::v1;
namespace rv1 = ::partnercenter::relationship::v1;

constexpr char kSessionCookie[] = "pc_session";
constexpr char kLinkMarker[] = "[invitation link]";

std::string E(std::string_view text) { return HtmlEscape(text); }

std::string Field(const HttpRequest& r, const std::string& name) {
  auto it = r.form.find(name);
  return it == r.form.end() ? "" : it->second;
}
std::string Query(const HttpRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? "" : it->second;
}

std::string Time(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string AdminLabel(cv1::AdminAccess a) {
  switch (a) {
    case cv1::ADMIN_ACCESS_GRANTED: return "Granted";
    case cv1::ADMIN_ACCESS_REVOKED: return "Admin revoked — support responsibility retained";
    case cv1::ADMIN_ACCESS_NOT_REQUESTED: return "Not granted — support responsibility retained";
    default: return "Unknown";
  }
}

std::string AdminKey(cv1::AdminAccess a) {
  switch (a) {
    case cv1::ADMIN_ACCESS_GRANTED: return "GRANTED";
    case cv1::ADMIN_ACCESS_REVOKED: return "REVOKED";
    case cv1::ADMIN_ACCESS_NOT_REQUESTED: return "NOT_REQUESTED";
    default: return "";
  }
}

std::string InvitationStateLabel(cv1::InvitationState s) {
  switch (s) {
    case cv1::INVITATION_STATE_PENDING: return "Pending";
    case cv1::INVITATION_STATE_ACCEPTED: return "Accepted";
    case cv1::INVITATION_STATE_DECLINED: return "Declined";
    case cv1::INVITATION_STATE_CANCELED: return "Canceled";
    case cv1::INVITATION_STATE_EXPIRED: return "Expired";
    default: return "Unknown";
  }
}

std::string KindLabel(cv1::InvitationKind k) {
  return k == cv1::INVITATION_KIND_ADMIN_RESTORE ? "Admin permission restore"
                                                 : "Reseller relationship";
}

std::string HintLabel(const cv1::CustomerHint& h) {
  if (h.has_email_domain()) return h.email_domain();
  if (h.has_tenant_id()) return "tenant " + h.tenant_id();
  return "any customer";
}

std::string ServiceStateLabel(cv1::ServiceState s) {
  switch (s) {
    case cv1::SERVICE_STATE_ACTIVE: return "Active";
    case cv1::SERVICE_STATE_SUSPENDED: return "Suspended";
    case cv1::SERVICE_STATE_CANCELED: return "Canceled";
    default: return "Unknown";
  }
}

std::string SeverityLabel(cv1::ServiceRequestSeverity s) {
  switch (s) {
    case cv1::SERVICE_REQUEST_SEVERITY_LOW: return "Low";
    case cv1::SERVICE_REQUEST_SEVERITY_MEDIUM: return "Medium";
    case cv1::SERVICE_REQUEST_SEVERITY_HIGH: return "High";
    case cv1::SERVICE_REQUEST_SEVERITY_CRITICAL: return "Critical";
    default: return "Unspecified";
  }
}

std::string RoleLabel(const pc::auth::Claims& c) {
  if (c.HasRole(pc::auth::kRolePartnerAdmin)) return "partner admin";
  if (c.HasRole(pc::auth::kRolePartnerAgent)) return "partner agent";
  if (c.HasRole(pc::auth::kRoleCustomerAdmin)) return "customer admin";
  return "no portal role";
}

bool IsPartner(const pc::auth::Claims& c) {
  return c.HasAnyRole({pc::auth::kRolePartnerAdmin, pc::auth::kRolePartnerAgent});
}

std::string Notice(const std::string& text) {
  return text.empty() ? "" : "<p class=\"notice\" role=\"status\">" + E(text) + "</p>";
}
std::string ErrorBox(const std::string& text) {
  return text.empty() ? "" : "<p class=\"error\" role=\"alert\">" + E(text) + "</p>";
}

// Hidden fields every state-changing form carries: the CSRF token and an idempotency key,
// so a resubmitted form does not act twice.
std::string FormGuard(const Portal::User& user) {
  return absl::StrCat("<input type=\"hidden\" name=\"csrf\" value=\"", E(user.csrf),
                      "\"><input type=\"hidden\" name=\"request_id\" value=\"", pc::NewUuid(),
                      "\">");
}

std::string RequestIdOf(const HttpRequest& r) {
  std::string id = Field(r, "request_id");
  return pc::IsUuid(id) ? id : pc::NewUuid();
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.headers.emplace_back("Location", location);
  return r;
}

// A customer row: the same HTML on the page and in the live feed.
std::string CustomerRowHtml(const nv1::CustomerRow& row) {
  const std::string id = row.customer_id();
  std::string admin = E(AdminLabel(row.admin_access()));
  if (row.admin_access() != cv1::ADMIN_ACCESS_GRANTED) {
    admin += absl::StrCat(" <a class=\"action\" href=\"/customers/", pc::PercentEncode(id),
                          "#service-request\">Open service request</a>");
  }
  std::string contact = row.has_support_contact() && !row.support_contact().name().empty()
                            ? E(row.support_contact().name())
                            : "<span class=\"muted\">—</span>";
  std::string change;
  if (row.has_last_change()) {
    change = absl::StrCat(E(row.last_change().summary()), " <time>",
                          E(Time(row.last_change().occurred_at())), "</time>");
  }
  return absl::StrCat(
      "<tr id=\"c-", E(id), "\" data-name=\"", E(absl::AsciiStrToLower(row.company_name())),
      "\" data-admin=\"", AdminKey(row.admin_access()), "\"><td><a href=\"/customers/",
      pc::PercentEncode(id), "\">", E(row.company_name().empty() ? id : row.company_name()),
      "</a><div class=\"muted\">", E(row.primary_domain()), "</div></td><td class=\"admin\">",
      admin, "</td><td>", contact, "</td><td>", row.active_service_count(), "</td><td>",
      row.license_total(), "</td><td>", change, "</td></tr>");
}

std::string InvitationRowHtml(const nv1::InvitationRow& row) {
  return absl::StrCat("<tr id=\"i-", E(row.invitation_id()), "\"><td>",
                      E(HintLabel(row.customer_hint())), "</td><td>", E(KindLabel(row.kind())),
                      row.include_admin_permission() ? " (with admin permission)" : "",
                      "</td><td>", E(Time(row.create_time())), "</td><td>",
                      E(Time(row.expire_time())), "</td></tr>");
}

std::string DraftSection(const iv1::EmailDraft& draft) {
  const std::string body = absl::StrReplaceAll(draft.body(), {{draft.link(), kLinkMarker}});
  return absl::StrCat(
      "<section class=\"draft\" data-draft data-link=\"", E(draft.link()), "\" data-marker=\"",
      kLinkMarker,
      "\"><h2>Email draft</h2><p>Edit the text, then send it from your own mail app or copy "
      "it. The personalized link cannot be edited; it goes where ",
      kLinkMarker, " is.</p><label>Subject <input id=\"draft-subject\" value=\"",
      E(draft.subject()), "\"></label><label>Message <textarea id=\"draft-body\" rows=\"12\">",
      E(body),
      "</textarea></label><p>Personalized link (single use): <output id=\"draft-link\">",
      E(draft.link()), "</output></p><p class=\"buttons\"><a id=\"draft-mailto\" class=\"button\" href=\"",
      E(draft.mailto_url()),
      "\">Open in mail app</a> <button type=\"button\" id=\"draft-copy\">Copy to "
      "clipboard</button> <a class=\"button\" id=\"draft-done\" href=\"/invitations\">Done</a> "
      "<span id=\"copy-state\" role=\"status\"></span></p></section>");
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SecurityHeaders() {
  return {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
  };
}

std::string Explain(const absl::Status& status, const std::string& service) {
  const std::string reason = pc::ReasonOf(status);
  const std::string message(status.message());
  const std::string suffix = reason.empty() ? "" : " (" + reason + ")";
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return absl::StrCat("The ", service,
                          " is not reachable right now. Try again in a moment; the rest of "
                          "the portal keeps working.");
    case absl::StatusCode::kUnauthenticated:
      return "Your session has expired. Sign in again.";
    case absl::StatusCode::kPermissionDenied:
      return "You are not allowed to do that with your current role" + suffix + ".";
    case absl::StatusCode::kNotFound:
      return "That was not found, or it is not yours to see.";
    case absl::StatusCode::kAborted:
      return "Someone changed this while you were looking at it. Reload the page and try "
             "again.";
    case absl::StatusCode::kResourceExhausted:
      return "Too many attempts. Wait a little and try again.";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return message + suffix;
    default:
      return absl::StrCat("The ", service, " could not do that. Try again later.");
  }
}

Portal::Portal(Options options, Backends backends, pc::auth::VerifiedTokenCache& tokens,
               const pc::Clock& clock)
    : options_(std::move(options)), backends_(std::move(backends)), tokens_(tokens),
      clock_(clock) {}

template <typename Stub, typename Req, typename Resp, typename Method>
absl::Status Portal::Call(Stub& stub, Method method, const User& user, const HttpRequest& request,
                          const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  backends_.Prepare(&ctx, user.token, request.correlation_id);
  return pc::FromGrpcStatus((stub.*method)(&ctx, req, resp));
}

std::optional<Portal::User> Portal::Authenticate(const HttpRequest& request) const {
  std::string token;
  if (options_.dev_minter.has_value()) {
    token = CookieValue(request.cookie_header, kSessionCookie).value_or("");
  } else {
    token = request.identity_header;
  }
  if (token.empty()) return std::nullopt;
  absl::StatusOr<pc::auth::Claims> claims = tokens_.Verify(token, clock_.Now());
  if (!claims.ok()) return std::nullopt;
  User user{.claims = *std::move(claims), .token = token, .csrf = ""};
  user.csrf = CsrfToken(options_.csrf_secret, token);
  return user;
}

HttpResponse Portal::Handle(const HttpRequest& request) {
  std::optional<User> user = Authenticate(request);
  if (request.method == "POST" && request.fetch_site == "cross-site") {
    // Another site's form (including a forged sign-in): refused before anything else.
    return Page(user, "Form refused",
                ErrorBox("This form was sent from another website, so nothing was changed."),
                403);
  }
  if (request.method == "POST" && request.path != "/signin") {
    // Every state-changing request carries the CSRF token of its session; nothing is
    // called without it.
    if (!user.has_value()) return Redirect("/signin");
    if (!VerifyCsrfToken(options_.csrf_secret, user->token, Field(request, "csrf"))) {
      return Page(user, "Form expired",
                  ErrorBox("This form has expired or did not come from this portal, so "
                           "nothing was changed. Reload the page and try again."),
                  403);
    }
  }
  HttpResponse response = Route(request, user);
  auto headers = SecurityHeaders();
  response.headers.insert(response.headers.end(), headers.begin(), headers.end());
  return response;
}

HttpResponse Portal::Route(const HttpRequest& request, const std::optional<User>& user) {
  const std::string& p = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (p == "/" && get) return Home(user);
  if (p == "/signin" && get) return SignInPage(request, "");
  if (p == "/signin" && post) return SignIn(request);
  if (p == "/signout" && post) {
    HttpResponse r = Redirect("/signin");
    r.headers.emplace_back("Set-Cookie",
                           SessionCookie(kSessionCookie, "", options_.insecure_cookies, 0));
    return r;
  }
  if (p == "/invitations/accept" && get) return AcceptLanding(request, user);
  if (!get && !post) {
    HttpResponse r = Page(user, "Not allowed", ErrorBox("That method is not supported."), 405);
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  if (!user.has_value()) return Redirect("/signin?next=" + pc::PercentEncode(p));

  // A request target without a leading "/" (e.g. "?x") names no page (found by fuzz.portal).
  std::vector<std::string> parts;
  if (absl::StartsWith(p, "/")) parts = absl::StrSplit(p.substr(1), '/');
  if (IsPartner(user->claims)) {
    if (p == "/customers" && get) return CustomersPage(request, *user);
    if (parts.size() == 2 && parts[0] == "customers" && get) {
      return CustomerRecordPage(request, *user, parts[1], "");
    }
    if (parts.size() == 3 && parts[0] == "customers" && post) {
      return CustomerAction(request, *user, parts[1], parts[2]);
    }
    if (p == "/invitations" && get) return InvitationsPage(request, *user, "");
    if (p == "/invitations" && post) return CreateInvitation(request, *user);
    if (p == "/invitations/new" && get) return NewInvitationPage(request, *user, "");
    if (parts.size() == 3 && parts[0] == "invitations" && post) {
      return InvitationAction(request, *user, parts[1], parts[2]);
    }
  }
  if (user->claims.HasRole(pc::auth::kRoleCustomerAdmin)) {
    if (p == "/partners" && get) return PartnersPage(request, *user, "");
    if (parts.size() == 3 && parts[0] == "partners" && post) {
      return PartnerAction(request, *user, parts[1], parts[2]);
    }
    if (p == "/invitations/accept" && post) return RespondToInvitation(request, *user, true);
    if (p == "/invitations/decline" && post) return RespondToInvitation(request, *user, false);
  }
  return Page(user, "Not found",
              ErrorBox("There is no such page, or it is not available to your role (" +
                       RoleLabel(user->claims) + ")."),
              404);
}

std::string Portal::Layout(const std::optional<User>& user, const std::string& title,
                           const std::string& body) const {
  std::string nav;
  if (user.has_value()) {
    if (IsPartner(user->claims)) {
      nav = "<a href=\"/customers\">Customers</a><a href=\"/invitations\">Invitations</a>"
            "<a href=\"/invitations/new\">New invitation</a>";
    } else if (user->claims.HasRole(pc::auth::kRoleCustomerAdmin)) {
      nav = "<a href=\"/partners\">Partners</a>";
    }
    nav += absl::StrCat(
        "<span class=\"who\">", E(user->claims.display_name.value_or(user->claims.subject)),
        " · ", E(user->claims.tenant_id), " · ", E(RoleLabel(user->claims)),
        "</span><form method=\"post\" action=\"/signout\" class=\"inline\"><input "
        "type=\"hidden\" name=\"csrf\" value=\"",
        E(user->csrf), "\"><button type=\"submit\">Sign out</button></form>");
  } else {
    nav = "<a href=\"/signin\">Sign in</a>";
  }
  return absl::StrCat(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>",
      E(title),
      " · Partner Center</title><link rel=\"stylesheet\" href=\"/static/app.css\"><script "
      "src=\"/static/app.js\" defer></script></head><body><header><strong>Partner "
      "Center</strong> <span class=\"muted\">",
      E(options_.cloud), "</span><nav>", nav, "</nav></header><main><h1>", E(title), "</h1>",
      body, "</main></body></html>");
}

HttpResponse Portal::Page(const std::optional<User>& user, const std::string& title,
                          const std::string& body, int status) const {
  HttpResponse r;
  r.status = status;
  r.body = Layout(user, title, body);
  return r;
}

HttpResponse Portal::Home(const std::optional<User>& user) {
  if (!user.has_value()) return Redirect("/signin");
  if (IsPartner(user->claims)) return Redirect("/customers");
  if (user->claims.HasRole(pc::auth::kRoleCustomerAdmin)) return Redirect("/partners");
  return Page(user, "No portal role",
              ErrorBox("Your identity has no partner or customer admin role."), 403);
}

HttpResponse Portal::SignInPage(const HttpRequest& request, const std::string& error) {
  if (!options_.dev_minter.has_value()) {
    return Page(std::nullopt, "Sign in",
                "<p>This portal takes your identity from the organization's sign-in proxy. "
                "If you see this page, the proxy did not forward a valid identity; sign in "
                "there again.</p>",
                401);
  }
  std::string next = Query(request, "next");
  if (next.empty()) next = Field(request, "next");
  const std::string body = absl::StrCat(
      ErrorBox(error),
      "<p>Local development sign-in: choose who you are. The portal mints a short-lived "
      "development token signed with the local key.</p><form method=\"post\" "
      "action=\"/signin\" class=\"card\"><input type=\"hidden\" name=\"next\" value=\"",
      E(next),
      "\"><label>Tenant id <input name=\"tenant\" required pattern=\"[A-Za-z0-9._-]{1,64}\" "
      "placeholder=\"partner-1 or customer-1\"></label><label>Your name <input name=\"name\" "
      "placeholder=\"Alex\"></label><label>Role <select name=\"role\"><option "
      "value=\"partner_admin\">Partner admin</option><option value=\"partner_agent\">Partner "
      "agent</option><option value=\"customer_admin\">Customer admin (global "
      "admin)</option></select></label><label>Verified domains <input name=\"verified_domains\" "
      "placeholder=\"contoso.com, contoso.example\"></label><p class=\"hint\">What the identity "
      "provider has verified your tenant owns (the token's <code>verified_domains</code> claim): "
      "only these satisfy an invitation's email-domain hint.</p><button "
      "type=\"submit\">Sign in</button></form>");
  return Page(std::nullopt, "Sign in", body, error.empty() ? 200 : 400);
}

HttpResponse Portal::SignIn(const HttpRequest& request) {
  if (!options_.dev_minter.has_value()) return SignInPage(request, "");
  const std::string tenant = Field(request, "tenant");
  const std::string role = Field(request, "role");
  std::string name = Field(request, "name");
  if (!pc::ValidateId("tenant", tenant).ok()) {
    return SignInPage(request, "Tenant id: 1–64 letters, digits, '.', '_' or '-'.");
  }
  if (role != pc::auth::kRolePartnerAdmin && role != pc::auth::kRolePartnerAgent &&
      role != pc::auth::kRoleCustomerAdmin) {
    return SignInPage(request, "Choose one of the roles.");
  }
  if (name.size() > 100) return SignInPage(request, "Name: at most 100 characters.");
  if (name.empty()) name = tenant;
  std::vector<std::string> domains;
  for (absl::string_view d : absl::StrSplit(Field(request, "verified_domains"), ',', absl::SkipWhitespace())) {
    const std::string domain = absl::AsciiStrToLower(absl::StripAsciiWhitespace(d));
    if (!pc::ValidateDomain("verified_domains", domain).ok() || domains.size() >= 20) {
      return SignInPage(request, "Verified domains: up to 20 domain names, separated by commas.");
    }
    domains.push_back(domain);
  }
  pc::auth::Claims claims{.subject = tenant + ":" + absl::AsciiStrToLower(name),
                          .tenant_id = tenant,
                          .cloud = options_.cloud,
                          .roles = {role},
                          .display_name = name};
  claims.verified_domains = std::move(domains);
  absl::StatusOr<std::string> token =
      options_.dev_minter->Mint(claims, options_.session_ttl, clock_.Now());
  if (!token.ok()) return SignInPage(request, Explain(token.status(), "sign-in"));
  // Only local paths are followed after sign-in (no open redirect).
  std::string next = Field(request, "next");
  const bool unsafe = std::any_of(next.begin(), next.end(), [](char c) {
    // Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"), and CR/LF
    // would split the header: no control characters, no backslashes.
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\';
  });
  if (next.empty() || next[0] != '/' || absl::StartsWith(next, "//") || unsafe) next = "/";
  HttpResponse r = Redirect(next);
  r.headers.emplace_back(
      "Set-Cookie", SessionCookie(kSessionCookie, *token, options_.insecure_cookies,
                                  absl::ToInt64Seconds(options_.session_ttl)));
  return r;
}

HttpResponse Portal::CustomersPage(const HttpRequest& request, const User& user) {
  nv1::GetCustomersPageRequest req;
  req.set_partner_id(user.claims.tenant_id);
  const std::string q = Query(request, "q");
  const std::string admin = Query(request, "admin");
  const std::string order = Query(request, "order");
  req.set_name_prefix(q);
  cv1::AdminAccess access;
  if (!admin.empty() && cv1::AdminAccess_Parse("ADMIN_ACCESS_" + admin, &access)) {
    req.add_admin_access(access);
  }
  req.set_order_by(order == "recent" ? "last_change desc" : "company_name");
  req.set_page_size(50);
  req.set_page_token(Query(request, "page"));
  req.set_include_invitations(true);
  nv1::CustomersPage page;
  absl::Status status = Call(*backends_.notification,
                             &nv1::NotificationService::StubInterface::GetCustomersPage, user,
                             request, req, &page);
  std::string body;
  body += absl::StrCat(
      "<form method=\"get\" action=\"/customers\" class=\"filters\"><label>Name starts with "
      "<input name=\"q\" value=\"",
      E(q), "\"></label><label>Admin permission <select name=\"admin\">");
  for (const auto& [value, label] : std::vector<std::pair<std::string, std::string>>{
           {"", "Any"}, {"GRANTED", "Granted"}, {"REVOKED", "Revoked"},
           {"NOT_REQUESTED", "Not granted"}}) {
    absl::StrAppend(&body, "<option value=\"", value, "\"", value == admin ? " selected" : "",
                    ">", label, "</option>");
  }
  absl::StrAppend(&body,
                  "</select></label><label>Sort <select name=\"order\"><option "
                  "value=\"name\">Name</option><option value=\"recent\"",
                  order == "recent" ? " selected" : "",
                  ">Recently changed</option></select></label><button "
                  "type=\"submit\">Apply</button></form>");
  if (!status.ok()) {
    absl::StrAppend(&body, ErrorBox(Explain(status, "notification service")),
                    "<p><a href=\"/customers\">Reload</a></p>");
    return Page(user, "Customers", body, 503);
  }
  absl::StrAppend(
      &body, "<p class=\"feed\">Updates: <span id=\"feed-state\" data-state=\"connecting\">"
             "connecting…</span></p>");
  absl::StrAppend(&body, "<table class=\"customers\" id=\"customers\" data-feed=\"",
                  kCustomerStreamPath, "\" data-as-of=\"", page.as_of_sequence(),
                  "\" data-q=\"", E(absl::AsciiStrToLower(q)), "\" data-admin=\"", E(admin),
                  "\" data-order=\"", order == "recent" ? "recent" : "name",
                  "\"><thead><tr><th>Customer</th><th>Admin permission</th><th>Support "
                  "contact</th><th>Services</th><th>Licenses</th><th>Last "
                  "change</th></tr></thead><tbody id=\"customers-body\">");
  for (const auto& row : page.customers()) absl::StrAppend(&body, CustomerRowHtml(row));
  absl::StrAppend(&body, "</tbody></table>");
  absl::StrAppend(&body, "<p id=\"customers-empty\" class=\"muted\"",
                  page.customers().empty() ? "" : " hidden",
                  ">No customers yet. <a href=\"/invitations/new\">Request a relationship</a>"
                  " with a customer.</p>");
  if (!page.next_page_token().empty()) {
    absl::StrAppend(&body, "<p><a href=\"/customers?q=", pc::PercentEncode(q), "&amp;admin=",
                    pc::PercentEncode(admin), "&amp;order=", pc::PercentEncode(order), "&amp;page=",
                    pc::PercentEncode(page.next_page_token()), "\">Next page</a></p>");
  }
  absl::StrAppend(&body,
                  "<h2>Pending invitations</h2><table id=\"invitations\"><thead><tr><th>"
                  "Customer</th><th>Kind</th><th>Sent</th><th>Expires</th></tr></thead>"
                  "<tbody id=\"invitations-body\">");
  for (const auto& row : page.invitations()) {
    if (row.state() == cv1::INVITATION_STATE_PENDING) {
      absl::StrAppend(&body, InvitationRowHtml(row));
    }
  }
  absl::StrAppend(&body, "</tbody></table>");
  return Page(user, "Customers", body);
}

std::variant<Portal::StreamGrant, HttpResponse> Portal::AuthorizeCustomerStream(
    const HttpRequest& request) {
  std::optional<User> user = Authenticate(request);
  HttpResponse refused;
  refused.content_type = "text/plain; charset=utf-8";
  if (!user.has_value()) {
    refused.status = 401;
    refused.body = "sign in first";
    return refused;
  }
  if (!IsPartner(user->claims)) {
    refused.status = 403;
    refused.body = "the live feed is for partner users";
    return refused;
  }
  int64_t after = 0;
  const std::string from =
      !request.last_event_id.empty() ? request.last_event_id : Query(request, "after");
  if (!absl::SimpleAtoi(from, &after) || after < 0) {
    refused.status = 400;
    refused.body = "after: a sequence number (the page's data-as-of) is required";
    return refused;
  }
  // A resume point beyond the feed's head would make the shared watch fail for every page of
  // this partner: check it. If the notification service cannot say, the hub copes (it keeps
  // retrying and tells the pages the backend is down).
  nv1::GetCustomersPageRequest head_req;
  head_req.set_partner_id(user->claims.tenant_id);
  head_req.set_page_size(1);
  nv1::CustomersPage head;
  absl::Status head_status =
      Call(*backends_.notification, &nv1::NotificationService::StubInterface::GetCustomersPage,
           *user, request, head_req, &head);
  if (head_status.ok() && after > head.as_of_sequence()) {
    HttpResponse reset;
    reset.content_type = "text/event-stream; charset=utf-8";
    reset.body = StatusFrame("reset", "this page is ahead of the feed; reloading");
    return reset;
  }
  return StreamGrant{.partner_id = user->claims.tenant_id, .token = user->token,
                     .after_sequence = after, .expires_at = user->claims.expires_at};
}

std::string Portal::ChangeFrame(const nv1::CustomerChange& change) {
  nlohmann::json j;
  j["seq"] = change.sequence();
  bool remove = change.kind() == nv1::CHANGE_KIND_REMOVE;
  if (change.has_customer()) {
    const auto& row = change.customer();
    remove = remove || row.relationship_state() == cv1::RELATIONSHIP_STATE_REMOVED;
    j["table"] = "customers";
    j["key"] = "c-" + row.customer_id();
    j["name"] = absl::AsciiStrToLower(row.company_name());
    j["admin"] = AdminKey(row.admin_access());
    if (!remove) j["html"] = CustomerRowHtml(row);
  } else {
    const auto& row = change.invitation();
    remove = remove || row.state() != cv1::INVITATION_STATE_PENDING;
    j["table"] = "invitations";
    j["key"] = "i-" + row.invitation_id();
    if (!remove) j["html"] = InvitationRowHtml(row);
  }
  j["op"] = remove ? "remove" : "upsert";
  j["type"] = change.event_type();
  return SseFrame(absl::StrCat(change.sequence()), "change", j.dump());
}

std::string Portal::StatusFrame(const std::string& state, const std::string& why) {
  nlohmann::json j{{"state", state}, {"why", why}};
  return SseFrame("", "status", j.dump());
}

HttpResponse Portal::CustomerRecordPage(const HttpRequest& request, const User& user,
                                        const std::string& customer_id,
                                        const std::string& error) {
  rv1::GetCustomerRecordRequest req;
  req.set_partner_id(user.claims.tenant_id);
  req.set_customer_id(customer_id);
  req.set_history_limit(50);
  rv1::CustomerRecord record;
  absl::Status status = Call(*backends_.relationship,
                             &rv1::RelationshipService::StubInterface::GetCustomerRecord, user,
                             request, req, &record);
  if (!status.ok()) {
    return Page(user, "Customer", ErrorBox(error) + ErrorBox(Explain(status, "relationship service")),
                absl::IsNotFound(status) ? 404 : 503);
  }
  const rv1::Relationship& rel = record.relationship();
  const bool active = rel.state() == cv1::RELATIONSHIP_STATE_ACTIVE;
  const bool admin_role = user.claims.HasRole(pc::auth::kRolePartnerAdmin);
  // Why admin actions are unavailable, in the service's own words (CheckAdminAccess).
  std::string manage_blocked;
  if (!admin_role) {
    manage_blocked = "Needs the partner admin role (you are a partner agent).";
  } else if (rel.admin_access() != cv1::ADMIN_ACCESS_GRANTED || !active) {
    rv1::CheckAdminAccessRequest check;
    check.set_partner_id(user.claims.tenant_id);
    check.set_customer_id(customer_id);
    rv1::CheckAdminAccessResponse access;
    absl::Status s = Call(*backends_.relationship,
                          &rv1::RelationshipService::StubInterface::CheckAdminAccess, user,
                          request, check, &access);
    manage_blocked = s.ok() ? absl::StrCat(access.reason(),
                                           ": the customer has not granted you admin permission. "
                                           "You keep support responsibility.")
                            : Explain(s, "relationship service");
  }
  const std::string id = pc::PercentEncode(customer_id);
  const std::string name = rel.customer_profile().company_name().empty()
                               ? customer_id
                               : rel.customer_profile().company_name();
  auto disabled = [](const std::string& why) {
    return why.empty() ? std::string()
                       : absl::StrCat(" disabled title=\"", E(why), "\"");
  };
  auto blocked_note = [](const std::string& why) {
    return why.empty() ? std::string() : "<p class=\"blocked\">" + E(why) + "</p>";
  };
  std::string b = ErrorBox(error) + Notice(Query(request, "notice"));
  absl::StrAppend(
      &b, "<section class=\"card\"><h2>Account</h2><dl><dt>Company</dt><dd id=\"company\">",
      E(name), "</dd><dt>Domain</dt><dd>", E(rel.customer_profile().primary_domain()),
      "</dd><dt>Tenant</dt><dd>", E(customer_id), "</dd><dt>Relationship</dt><dd>",
      active ? "Active" : "Removed", "</dd><dt>Admin permission</dt><dd id=\"admin-access\">",
      E(AdminLabel(rel.admin_access())), "</dd><dt>Support responsibility</dt><dd>",
      rel.support_responsible() ? "Yes (you support this customer)" : "No", "</dd>",
      rel.indirect_reseller_id().empty()
          ? ""
          : "<dt>Indirect reseller</dt><dd>" + E(rel.indirect_reseller_id()) + "</dd>",
      "<dt>Since</dt><dd>", E(Time(rel.create_time())), "</dd></dl></section>");

  // Services and licenses.
  absl::StrAppend(&b, "<section class=\"card\"><h2>Services and licenses</h2>",
                  blocked_note(manage_blocked),
                  "<table><thead><tr><th>Service</th><th>Offer</th><th>Licenses</th><th>State"
                  "</th><th>Change licenses</th></tr></thead><tbody>");
  int active_services = 0;
  for (const auto& s : record.services()) {
    if (s.state() == cv1::SERVICE_STATE_ACTIVE) ++active_services;
    absl::StrAppend(
        &b, "<tr><td>", E(s.display_name()), "</td><td>", E(s.offer_id()), "</td><td>",
        s.license_quantity(), "</td><td>", E(ServiceStateLabel(s.state())),
        "</td><td><form method=\"post\" action=\"/customers/", id,
        "/change-service\" class=\"inline\">", FormGuard(user),
        "<input type=\"hidden\" name=\"service_id\" value=\"", E(s.id()),
        "\"><input type=\"hidden\" name=\"version\" value=\"", s.version(),
        "\"><input type=\"number\" name=\"licenses\" min=\"1\" max=\"100000\" value=\"",
        s.license_quantity(), "\" aria-label=\"Licenses\"", disabled(manage_blocked),
        "><button type=\"submit\"", disabled(manage_blocked), ">Save</button></form>",
        s.state() == cv1::SERVICE_STATE_CANCELED
            ? std::string()
            : absl::StrCat(" <form method=\"post\" action=\"/customers/", id,
                           "/change-service\" class=\"inline\">", FormGuard(user),
                           "<input type=\"hidden\" name=\"service_id\" value=\"", E(s.id()),
                           "\"><input type=\"hidden\" name=\"version\" value=\"", s.version(),
                           "\"><input type=\"hidden\" name=\"action\" value=\"cancel\">"
                           "<button type=\"submit\" class=\"danger\"",
                           disabled(manage_blocked), ">Cancel service</button></form>"),
        "</td></tr>");
  }
  absl::StrAppend(
      &b, "</tbody></table><form method=\"post\" action=\"/customers/", id,
      "/provision\" class=\"row\" id=\"provision\">", FormGuard(user),
      "<label>Offer <input name=\"offer_id\" required placeholder=\"office-e3\"",
      disabled(manage_blocked), "></label><label>Name <input name=\"display_name\" "
      "required placeholder=\"Office 365 E3\"", disabled(manage_blocked),
      "></label><label>Licenses <input type=\"number\" name=\"licenses\" min=\"1\" "
      "max=\"100000\" value=\"1\"", disabled(manage_blocked),
      "></label><button type=\"submit\"", disabled(manage_blocked),
      ">Provision service</button></form></section>");

  // Users.
  absl::StrAppend(&b, "<section class=\"card\"><h2>Users</h2><ul>");
  for (const auto& u : record.users()) {
    absl::StrAppend(&b, "<li>", E(u.display_name()), " &lt;", E(u.user_principal_name()),
                    "&gt;</li>");
  }
  if (record.users().empty()) absl::StrAppend(&b, "<li class=\"muted\">No users yet.</li>");
  absl::StrAppend(&b, "</ul><form method=\"post\" action=\"/customers/", id,
                  "/create-user\" class=\"row\">", FormGuard(user),
                  "<label>Sign-in name <input name=\"upn\" required "
                  "placeholder=\"ana@contoso.com\"",
                  disabled(manage_blocked), "></label><label>Display name <input "
                  "name=\"display_name\" required",
                  disabled(manage_blocked), "></label><button type=\"submit\"",
                  disabled(manage_blocked), ">Create user</button></form></section>");

  // Support contact.
  const std::string contact_blocked =
      !admin_role ? "Needs the partner admin role." : (!active ? "The relationship was removed." : "");
  absl::StrAppend(
      &b, "<section class=\"card\"><h2>Support contact</h2><p>",
      rel.has_support_contact() && !rel.support_contact().name().empty()
          ? E(rel.support_contact().name()) + " · " + E(rel.support_contact().email()) +
                " · " + E(rel.support_contact().phone())
          : "<span class=\"muted\">None assigned.</span>",
      "</p>", blocked_note(contact_blocked), "<form method=\"post\" action=\"/customers/", id,
      "/support-contact\" class=\"row\">", FormGuard(user),
      "<input type=\"hidden\" name=\"version\" value=\"", rel.version(),
      "\"><label>Partner id <input name=\"contact_partner\" value=\"",
      E(user.claims.tenant_id), "\" required", disabled(contact_blocked),
      "></label><label>Name <input name=\"name\" required", disabled(contact_blocked),
      "></label><label>Email <input type=\"email\" name=\"email\"", disabled(contact_blocked),
      "></label><label>Phone <input name=\"phone\"", disabled(contact_blocked),
      "></label><button type=\"submit\"", disabled(contact_blocked),
      ">Assign</button></form></section>");

  // Service requests: only an ACTIVE relationship is needed, whatever admin access is.
  const std::string sr_blocked = active ? "" : "The relationship was removed.";
  absl::StrAppend(&b, "<section class=\"card\" id=\"service-request\"><h2>Service requests</h2><ul>");
  for (const auto& sr : record.service_requests()) {
    absl::StrAppend(&b, "<li><strong>", E(sr.title()), "</strong> · ",
                    E(SeverityLabel(sr.severity())), " · ",
                    E(Time(sr.create_time())), "</li>");
  }
  if (record.service_requests().empty()) {
    absl::StrAppend(&b, "<li class=\"muted\">None opened.</li>");
  }
  absl::StrAppend(&b, "</ul>", blocked_note(sr_blocked),
                  "<form method=\"post\" action=\"/customers/", id,
                  "/service-request\" class=\"row\">", FormGuard(user),
                  "<label>Title <input name=\"title\" required maxlength=\"200\"",
                  disabled(sr_blocked), "></label><label>Description <input "
                  "name=\"description\" maxlength=\"4000\"",
                  disabled(sr_blocked),
                  "></label><label>Severity <select name=\"severity\"", disabled(sr_blocked),
                  "><option value=\"LOW\">Low</option><option value=\"MEDIUM\" "
                  "selected>Medium</option><option value=\"HIGH\">High</option><option "
                  "value=\"CRITICAL\">Critical</option></select></label><button "
                  "type=\"submit\"",
                  disabled(sr_blocked), ">Open service request</button></form></section>");

  // Admin restore and removal.
  std::string restore_blocked;
  if (!admin_role) restore_blocked = "Needs the partner admin role.";
  else if (!active) restore_blocked = "The relationship was removed.";
  else if (rel.admin_access() == cv1::ADMIN_ACCESS_GRANTED) {
    restore_blocked = "ADMIN_PERMISSION_ALREADY_GRANTED: you already have admin permission.";
  }
  std::string remove_blocked;
  if (!admin_role) remove_blocked = "Needs the partner admin role.";
  else if (!active) remove_blocked = "The relationship was already removed.";
  else if (active_services > 0) {
    remove_blocked = absl::StrCat("ACTIVE_SERVICES_EXIST: ", active_services,
                                  " active service(s); cancel them first.");
  }
  absl::StrAppend(
      &b, "<section class=\"card\"><h2>Admin permission</h2>", blocked_note(restore_blocked),
      "<form method=\"post\" action=\"/customers/", id, "/restore\" class=\"row\">",
      FormGuard(user), "<label>Message to the customer <input name=\"message\" "
      "maxlength=\"1000\"", disabled(restore_blocked),
      "></label><button type=\"submit\" id=\"request-restore\"", disabled(restore_blocked),
      ">Request admin restore</button></form></section><section class=\"card\"><h2>Remove "
      "relationship</h2>",
      blocked_note(remove_blocked), "<form method=\"post\" action=\"/customers/", id,
      "/remove\" class=\"row\">", FormGuard(user),
      "<input type=\"hidden\" name=\"version\" value=\"", rel.version(),
      "\"><label>Reason <input name=\"reason\" required maxlength=\"1000\"",
      disabled(remove_blocked), "></label><button type=\"submit\" class=\"danger\"",
      disabled(remove_blocked), ">Remove relationship</button></form></section>");

  // History.
  absl::StrAppend(&b, "<section class=\"card\"><h2>History</h2><ol class=\"history\">");
  for (const auto& h : record.recent_history()) {
    absl::StrAppend(&b, "<li><time>", E(Time(h.occurred_at())), "</time> ", E(h.action()),
                    " — ", E(h.detail()), h.reason().empty() ? "" : " (" + E(h.reason()) + ")",
                    " <span class=\"muted\">by ", E(h.actor().id()), "</span></li>");
  }
  absl::StrAppend(&b, "</ol></section>");
  return Page(user, name, b, error.empty() ? 200 : 409);
}

HttpResponse Portal::CustomerAction(const HttpRequest& request, const User& user,
                                    const std::string& customer_id, const std::string& action) {
  using Stub = rv1::RelationshipService::StubInterface;
  const std::string partner = user.claims.tenant_id;
  const std::string request_id = RequestIdOf(request);
  auto int_field = [&](const std::string& name) {
    int64_t v = 0;
    return absl::SimpleAtoi(Field(request, name), &v) ? v : -1;
  };
  absl::Status status;
  std::string notice;
  if (action == "provision") {
    rv1::ProvisionServiceRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_offer_id(Field(request, "offer_id"));
    req.set_display_name(Field(request, "display_name"));
    req.set_license_quantity(static_cast<int32_t>(std::clamp<int64_t>(int_field("licenses"), -1, 1 << 30)));
    cv1::CustomerService resp;
    status = Call(*backends_.relationship, &Stub::ProvisionService, user, request, req, &resp);
    notice = "Service provisioned.";
  } else if (action == "change-service") {
    rv1::ChangeServiceRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_service_id(Field(request, "service_id"));
    if (Field(request, "action") == "cancel") {
      req.set_action(rv1::SERVICE_CHANGE_ACTION_CANCEL);
      notice = "Service canceled.";
    } else {
      req.set_action(rv1::SERVICE_CHANGE_ACTION_SET_LICENSES);
      req.set_license_quantity(
          static_cast<int32_t>(std::clamp<int64_t>(int_field("licenses"), -1, 1 << 30)));
      notice = "Licenses changed.";
    }
    req.set_version(std::max<int64_t>(int_field("version"), 0));
    cv1::CustomerService resp;
    status = Call(*backends_.relationship, &Stub::ChangeService, user, request, req, &resp);
  } else if (action == "create-user") {
    rv1::CreateUserRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_user_principal_name(Field(request, "upn"));
    req.set_display_name(Field(request, "display_name"));
    rv1::CustomerUser resp;
    status = Call(*backends_.relationship, &Stub::CreateUser, user, request, req, &resp);
    notice = "User created.";
  } else if (action == "support-contact") {
    rv1::AssignSupportContactRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.mutable_contact()->set_partner_id(Field(request, "contact_partner"));
    req.mutable_contact()->set_name(Field(request, "name"));
    req.mutable_contact()->set_email(Field(request, "email"));
    req.mutable_contact()->set_phone(Field(request, "phone"));
    req.set_version(std::max<int64_t>(int_field("version"), 0));
    rv1::Relationship resp;
    status = Call(*backends_.relationship, &Stub::AssignSupportContact, user, request, req, &resp);
    notice = "Support contact assigned.";
  } else if (action == "service-request") {
    rv1::OpenServiceRequestRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_title(Field(request, "title"));
    req.set_description(Field(request, "description"));
    cv1::ServiceRequestSeverity severity = cv1::SERVICE_REQUEST_SEVERITY_UNSPECIFIED;
    cv1::ServiceRequestSeverity_Parse("SERVICE_REQUEST_SEVERITY_" + Field(request, "severity"),
                                      &severity);
    req.set_severity(severity);
    cv1::ServiceRequest resp;
    status = Call(*backends_.relationship, &Stub::OpenServiceRequest, user, request, req, &resp);
    notice = "Service request opened.";
  } else if (action == "restore") {
    rv1::RequestAdminRestoreRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_message(Field(request, "message"));
    rv1::RequestAdminRestoreResponse resp;
    status = Call(*backends_.relationship, &Stub::RequestAdminRestore, user, request, req, &resp);
    if (status.ok()) {
      return Page(user, "Admin restore requested",
                  absl::StrCat(Notice("A new invitation asks the customer to restore your "
                                      "admin permission. Send them this email."),
                               DraftSection(resp.email_draft())));
    }
  } else if (action == "remove") {
    rv1::RemoveRelationshipRequest req;
    req.set_request_id(request_id);
    req.set_partner_id(partner);
    req.set_customer_id(customer_id);
    req.set_reason(Field(request, "reason"));
    req.set_version(std::max<int64_t>(int_field("version"), 0));
    rv1::Relationship resp;
    status = Call(*backends_.relationship, &Stub::RemoveRelationship, user, request, req, &resp);
    if (status.ok()) return Redirect("/customers");
  } else {
    return Page(user, "Not found", ErrorBox("Unknown action."), 404);
  }
  if (!status.ok()) {
    return CustomerRecordPage(request, user, customer_id,
                              Explain(status, "relationship service"));
  }
  return Redirect("/customers/" + pc::PercentEncode(customer_id) + "?notice=" + pc::PercentEncode(notice));
}

HttpResponse Portal::NewInvitationPage(const HttpRequest& request, const User& user,
                                       const std::string& error) {
  // After a refusal the form comes back with what the user entered.
  const bool again = !error.empty();
  const auto value = [&](const std::string& name) { return E(Field(request, name)); };
  const std::string partner_name =
      again ? Field(request, "partner_name")
            : user.claims.display_name.value_or(user.claims.tenant_id);
  const bool admin = !again || Field(request, "admin") == "1";
  const bool pt = Field(request, "locale") == "pt-BR";
  std::string b = ErrorBox(error);
  if (error.find("PENDING_INVITATION_EXISTS") != std::string::npos) {
    b += "<p>Resend or cancel it on the <a href=\"/invitations?state=PENDING\">Invitations</a> "
         "page.</p>";
  }
  absl::StrAppend(
      &b,
      "<form method=\"post\" action=\"/invitations\" class=\"card\" id=\"new-invitation\">",
      FormGuard(user), "<label><input type=\"checkbox\" name=\"admin\" value=\"1\"",
      admin ? " checked" : "",
      "> Include admin permission (lets you manage the customer's services, users and "
      "licenses)</label><label>Indirect reseller id (two-tier, optional) <input "
      "name=\"indirect_reseller\" maxlength=\"64\" value=\"",
      value("indirect_reseller"),
      "\"></label><label>Customer (optional): email domain <input name=\"domain\" "
      "placeholder=\"contoso.com\" maxlength=\"253\" value=\"",
      value("domain"),
      "\"></label><label>…or customer tenant id <input name=\"customer_tenant\" "
      "maxlength=\"64\" value=\"",
      value("customer_tenant"),
      "\"></label><label>Your company name as the customer will see it <input "
      "name=\"partner_name\" maxlength=\"200\" value=\"",
      E(partner_name),
      "\"></label><label>Message (optional) <textarea name=\"message\" rows=\"3\" "
      "maxlength=\"1000\">",
      value("message"),
      "</textarea></label><label>Language <select name=\"locale\"><option "
      "value=\"en\">English</option><option value=\"pt-BR\"",
      pt ? " selected" : "",
      ">Português (Brasil)</option></select></label><button type=\"submit\">Create draft "
      "email</button></form>");
  return Page(user, "Request a reseller relationship", b, again ? 400 : 200);
}

HttpResponse Portal::CreateInvitation(const HttpRequest& request, const User& user) {
  iv1::CreateInvitationRequest req;
  req.set_request_id(RequestIdOf(request));
  req.set_kind(cv1::INVITATION_KIND_RESELLER_RELATIONSHIP);
  req.set_include_admin_permission(Field(request, "admin") == "1");
  req.set_indirect_reseller_id(Field(request, "indirect_reseller"));
  if (!Field(request, "domain").empty()) {
    req.mutable_customer_hint()->set_email_domain(Field(request, "domain"));
  } else if (!Field(request, "customer_tenant").empty()) {
    req.mutable_customer_hint()->set_tenant_id(Field(request, "customer_tenant"));
  }
  req.set_message(Field(request, "message"));
  req.set_locale(Field(request, "locale"));
  req.set_partner_display_name(Field(request, "partner_name"));
  iv1::CreateInvitationResponse resp;
  absl::Status status =
      Call(*backends_.invitation, &iv1::InvitationService::StubInterface::CreateInvitation, user,
           request, req, &resp);
  if (!status.ok()) return NewInvitationPage(request, user, Explain(status, "invitation service"));
  return Page(user, "Invitation created",
              absl::StrCat(Notice("The invitation is pending. Send the customer this email; "
                                  "the link works once, for the customer it names."),
                           DraftSection(resp.email_draft())));
}

HttpResponse Portal::InvitationsPage(const HttpRequest& request, const User& user,
                                     const std::string& error) {
  iv1::ListInvitationsRequest req;
  req.set_page_size(50);
  req.set_page_token(Query(request, "page"));
  const std::string state = Query(request, "state");
  cv1::InvitationState s;
  if (!state.empty() && cv1::InvitationState_Parse("INVITATION_STATE_" + state, &s)) {
    req.add_states(s);
  }
  iv1::ListInvitationsResponse resp;
  absl::Status status =
      Call(*backends_.invitation, &iv1::InvitationService::StubInterface::ListInvitations, user,
           request, req, &resp);
  std::string b = ErrorBox(error) + Notice(Query(request, "notice"));
  absl::StrAppend(&b, "<form method=\"get\" action=\"/invitations\" class=\"filters\"><label>"
                      "State <select name=\"state\">");
  for (const char* v : {"", "PENDING", "ACCEPTED", "DECLINED", "CANCELED", "EXPIRED"}) {
    cv1::InvitationState st = cv1::INVITATION_STATE_UNSPECIFIED;
    cv1::InvitationState_Parse(std::string("INVITATION_STATE_") + v, &st);
    absl::StrAppend(&b, "<option value=\"", v, "\"", state == v ? " selected" : "", ">",
                    *v ? InvitationStateLabel(st) : "All", "</option>");
  }
  absl::StrAppend(&b, "</select></label><button type=\"submit\">Apply</button> <a "
                      "class=\"button\" href=\"/invitations/new\">New invitation</a></form>");
  if (!status.ok()) {
    absl::StrAppend(&b, ErrorBox(Explain(status, "invitation service")));
    return Page(user, "Invitations", b, 503);
  }
  absl::StrAppend(&b, "<table id=\"invitation-list\"><thead><tr><th>Customer</th><th>Kind</th>"
                      "<th>State</th><th>Sent</th><th>Expires</th><th></th></tr></thead><tbody>");
  for (const auto& inv : resp.invitations()) {
    std::string state_cell = E(InvitationStateLabel(inv.state()));
    if (inv.state() == cv1::INVITATION_STATE_DECLINED && !inv.decline_reason().empty()) {
      absl::StrAppend(&state_cell, " — <q class=\"decline-reason\">", E(inv.decline_reason()),
                      "</q>");
    }
    if (inv.state() == cv1::INVITATION_STATE_ACCEPTED && !inv.customer_id().empty()) {
      absl::StrAppend(&state_cell, " by <a href=\"/customers/", pc::PercentEncode(inv.customer_id()),
                      "\">", E(inv.customer_id()), "</a>");
    }
    std::string actions;
    if (inv.state() == cv1::INVITATION_STATE_PENDING) {
      for (const char* a : {"resend", "cancel"}) {
        absl::StrAppend(&actions, "<form method=\"post\" action=\"/invitations/",
                        pc::PercentEncode(inv.id()), "/", a, "\" class=\"inline\">", FormGuard(user),
                        "<input type=\"hidden\" name=\"version\" value=\"", inv.version(),
                        "\"><button type=\"submit\">",
                        std::string_view(a) == "resend" ? "Resend" : "Cancel",
                        "</button></form>");
      }
    }
    absl::StrAppend(&b, "<tr id=\"inv-", E(inv.id()), "\" data-state=\"",
                    E(InvitationStateLabel(inv.state())), "\"><td>",
                    E(HintLabel(inv.customer_hint())), "</td><td>", E(KindLabel(inv.kind())),
                    "</td><td class=\"state\">", state_cell, "</td><td>",
                    E(Time(inv.create_time())), "</td><td>", E(Time(inv.expire_time())),
                    "</td><td>", actions, "</td></tr>");
  }
  absl::StrAppend(&b, "</tbody></table>");
  if (resp.invitations().empty()) absl::StrAppend(&b, "<p class=\"muted\">No invitations.</p>");
  if (!resp.next_page_token().empty()) {
    absl::StrAppend(&b, "<p><a href=\"/invitations?state=", pc::PercentEncode(state), "&amp;page=",
                    pc::PercentEncode(resp.next_page_token()), "\">Next page</a></p>");
  }
  return Page(user, "Invitations", b, error.empty() ? 200 : 409);
}

HttpResponse Portal::InvitationAction(const HttpRequest& request, const User& user,
                                      const std::string& id, const std::string& action) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(Field(request, "version"), &version) || version < 0) version = 0;
  absl::Status status;
  if (action == "cancel") {
    iv1::CancelInvitationRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_id(id);
    req.set_version(version);
    iv1::Invitation resp;
    status = Call(*backends_.invitation, &iv1::InvitationService::StubInterface::CancelInvitation,
                  user, request, req, &resp);
    if (status.ok()) return Redirect("/invitations?notice=" + pc::PercentEncode("Invitation canceled."));
  } else if (action == "resend") {
    iv1::ResendInvitationRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_id(id);
    req.set_version(version);
    iv1::ResendInvitationResponse resp;
    status = Call(*backends_.invitation, &iv1::InvitationService::StubInterface::ResendInvitation,
                  user, request, req, &resp);
    if (status.ok()) {
      return Page(user, "Invitation resent",
                  Notice("A new link was made; the old one no longer works.") +
                      DraftSection(resp.email_draft()));
    }
  } else {
    return Page(user, "Not found", ErrorBox("Unknown action."), 404);
  }
  return InvitationsPage(request, user, Explain(status, "invitation service"));
}

HttpResponse Portal::AcceptLanding(const HttpRequest& request, const std::optional<User>& user) {
  const std::string token = Query(request, "token");
  const std::string here = "/invitations/accept?token=" + pc::PercentEncode(token);
  if (!user.has_value()) {
    return Page(std::nullopt, "Respond to a partner invitation",
                absl::StrCat("<p>A partner asked to become your organization's reseller. "
                             "Sign in as a global admin of your organization to see the "
                             "request and respond.</p><p><a class=\"button\" id=\"signin\" "
                             "href=\"/signin?next=",
                             pc::PercentEncode(here), "\">Sign in</a></p>"));
  }
  if (!user->claims.HasRole(pc::auth::kRoleCustomerAdmin)) {
    return Page(user, "Respond to a partner invitation",
                ErrorBox("Only a global admin of the customer's organization can respond to "
                         "this invitation. Sign out and sign in as one."),
                403);
  }
  const std::string generic =
      "<p id=\"invalid-link\">This invitation link can't be used. It may have expired, "
      "already been used, or been canceled. Ask the partner to send a new one.</p>";
  iv1::PreviewInvitationRequest req;
  req.set_token(token);
  iv1::InvitationPreview preview;
  absl::Status status = token.empty() ? absl::NotFoundError("no token") :
      Call(*backends_.invitation, &iv1::InvitationService::StubInterface::PreviewInvitation,
           *user, request, req, &preview);
  if (!status.ok()) {
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
        absl::IsResourceExhausted(status)) {
      return Page(user, "Respond to a partner invitation",
                  ErrorBox(Explain(status, "invitation service")), 503);
    }
    return Page(user, "Invitation link not valid", generic, 404);
  }
  const std::string partner = preview.partner_display_name().empty()
                                  ? preview.partner_id()
                                  : preview.partner_display_name();
  const bool restore = preview.kind() == cv1::INVITATION_KIND_ADMIN_RESTORE;
  std::string b = absl::StrCat(
      "<section class=\"card\" id=\"invitation-preview\"><p><strong id=\"partner-name\">",
      E(partner), "</strong> <span class=\"muted\">(partner ", E(preview.partner_id()),
      ")</span> ",
      restore ? "asks you to restore its admin permission for your organization."
              : "asks to become your organization's cloud reseller.",
      "</p><h2>Accepting grants</h2><ul>");
  if (!restore) {
    absl::StrAppend(&b, "<li>A reseller relationship: the partner can sell you cloud "
                        "services and is responsible for your support.</li>");
  }
  absl::StrAppend(
      &b, "<li id=\"grants-admin\">",
      preview.include_admin_permission() || restore
          ? "Admin permission: yes — the partner can manage your services, users and "
            "licenses. You can revoke it at any time on the Partners page."
          : "Admin permission: no — the partner cannot manage your services, users or "
            "licenses.",
      "</li>");
  if (!preview.indirect_reseller_id().empty()) {
    absl::StrAppend(&b, "<li>Through the indirect reseller ", E(preview.indirect_reseller_id()),
                    " (two-tier channel).</li>");
  }
  absl::StrAppend(&b, "</ul>");
  if (!preview.message().empty()) {
    absl::StrAppend(&b, "<p>Message from the partner:</p><blockquote>", E(preview.message()),
                    "</blockquote>");
  }
  absl::StrAppend(&b, "<p>This link expires on ", E(Time(preview.expire_time())),
                  ".</p></section>");
  absl::StrAppend(
      &b, "<form method=\"post\" action=\"/invitations/accept\" class=\"card\" id=\"accept\">",
      FormGuard(*user), "<input type=\"hidden\" name=\"token\" value=\"", E(token), "\">");
  {
    absl::StrAppend(&b,
                    "<label>Your organization's name <input name=\"company\" required "
                    "maxlength=\"200\" value=\"",
                    E(user->claims.display_name.value_or("")),
                    "\"></label><label>Primary domain <input name=\"domain\" required "
                    "maxlength=\"253\" placeholder=\"contoso.com\"></label><label>Country "
                    "(ISO code) <input name=\"country\" required pattern=\"[A-Z]{2}\" "
                    "maxlength=\"2\" size=\"3\" value=\"US\"></label>");
  }
  absl::StrAppend(
      &b, "<button type=\"submit\" id=\"accept-button\">Accept</button></form>",
      "<form method=\"post\" action=\"/invitations/decline\" class=\"card\" id=\"decline\">",
      FormGuard(*user), "<input type=\"hidden\" name=\"token\" value=\"", E(token),
      "\"><label>Reason for declining (the partner sees it) <input name=\"reason\" "
      "maxlength=\"1000\"></label><button type=\"submit\" id=\"decline-button\" "
      "class=\"danger\">Decline</button></form>");
  return Page(user, "Respond to a partner invitation", b);
}

HttpResponse Portal::RespondToInvitation(const HttpRequest& request, const User& user,
                                         bool accept) {
  const std::string token = Field(request, "token");
  absl::Status status;
  std::string partner;
  if (accept) {
    iv1::AcceptInvitationRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_token(token);
    req.mutable_customer_profile()->set_company_name(Field(request, "company"));
    req.mutable_customer_profile()->set_primary_domain(Field(request, "domain"));
    req.mutable_customer_profile()->set_country(Field(request, "country"));
    iv1::AcceptInvitationResponse resp;
    status = Call(*backends_.invitation, &iv1::InvitationService::StubInterface::AcceptInvitation,
                  user, request, req, &resp);
    partner = resp.invitation().partner_display_name().empty()
                  ? resp.invitation().partner_id()
                  : resp.invitation().partner_display_name();
  } else {
    iv1::DeclineInvitationRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_token(token);
    req.set_reason(Field(request, "reason"));
    iv1::Invitation resp;
    status = Call(*backends_.invitation, &iv1::InvitationService::StubInterface::DeclineInvitation,
                  user, request, req, &resp);
    partner = resp.partner_display_name().empty() ? resp.partner_id()
                                                  : resp.partner_display_name();
  }
  if (!status.ok()) {
    // A refused field of the form (not the link) is shown as such; the link stays usable.
    if (absl::IsInvalidArgument(status) && pc::ReasonMetadataOf(status)["field"] != "token") {
      return Page(user, accept ? "Could not accept" : "Could not decline",
                  ErrorBox(Explain(status, "invitation service")) +
                      "<p><a href=\"/invitations/accept?token=" + pc::PercentEncode(token) +
                      "\">Back to the invitation</a></p>",
                  400);
    }
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
        absl::IsResourceExhausted(status)) {
      return Page(user, "Respond to a partner invitation",
                  ErrorBox(Explain(status, "invitation service")), 503);
    }
    return Page(user, "Invitation link not valid",
                "<p id=\"invalid-link\">This invitation link can't be used. It may have "
                "expired, already been used, or been canceled. Ask the partner to send a new "
                "one.</p>",
                404);
  }
  if (accept) {
    return Page(user, "Invitation accepted",
                absl::StrCat("<p id=\"accepted\">You accepted. <strong>", E(partner),
                             "</strong> is now a partner of your organization.</p><p><a "
                             "href=\"/partners\">See your partners</a></p>"));
  }
  return Page(user, "Invitation declined",
              absl::StrCat("<p id=\"declined\">You declined the invitation from <strong>",
                           E(partner), "</strong>. The partner sees your reason.</p>"));
}

HttpResponse Portal::PartnersPage(const HttpRequest& request, const User& user,
                                  const std::string& error) {
  rv1::ListPartnersRequest req;
  req.set_customer_id(user.claims.tenant_id);
  req.set_page_size(200);
  req.add_states(cv1::RELATIONSHIP_STATE_ACTIVE);
  rv1::ListRelationshipsResponse resp;
  absl::Status status = Call(*backends_.relationship,
                             &rv1::RelationshipService::StubInterface::ListPartners, user,
                             request, req, &resp);
  std::string b = ErrorBox(error) + Notice(Query(request, "notice"));
  if (!status.ok()) {
    absl::StrAppend(&b, ErrorBox(Explain(status, "relationship service")));
    return Page(user, "Partners", b, 503);
  }
  absl::StrAppend(&b, "<table id=\"partners\"><thead><tr><th>Partner</th><th>Admin "
                      "permission</th><th>Support</th><th>Since</th><th>Actions</th></tr>"
                      "</thead><tbody>");
  for (const auto& rel : resp.relationships()) {
    const std::string pid = rel.partner_id();
    std::string actions;
    if (rel.admin_access() == cv1::ADMIN_ACCESS_GRANTED) {
      absl::StrAppend(&actions, "<form method=\"post\" action=\"/partners/", pc::PercentEncode(pid),
                      "/revoke\" class=\"inline\">", FormGuard(user),
                      "<input type=\"hidden\" name=\"version\" value=\"", rel.version(),
                      "\"><input name=\"reason\" placeholder=\"Reason\" maxlength=\"1000\" "
                      "aria-label=\"Reason\"><button type=\"submit\" class=\"revoke\">Revoke "
                      "admin</button></form>");
      std::string options;
      for (const auto& other : resp.relationships()) {
        if (other.partner_id() == pid) continue;
        absl::StrAppend(&options, "<option value=\"", E(other.partner_id()), "\">",
                        E(other.partner_display_name().empty() ? other.partner_id()
                                                               : other.partner_display_name()),
                        "</option>");
      }
      if (!options.empty()) {
        absl::StrAppend(&actions, "<form method=\"post\" action=\"/partners/", pc::PercentEncode(pid),
                        "/reassign\" class=\"inline\">", FormGuard(user),
                        "<input type=\"hidden\" name=\"version\" value=\"", rel.version(),
                        "\"><select name=\"to\" aria-label=\"Reassign to\">", options,
                        "</select><button type=\"submit\">Reassign admin</button></form>");
      }
    } else {
      actions = "<span class=\"muted\">The partner can ask you to restore it.</span>";
    }
    absl::StrAppend(
        &b, "<tr id=\"p-", E(pid), "\"><td>",
        E(rel.partner_display_name().empty() ? pid : rel.partner_display_name()),
        " <span class=\"muted\">", E(pid), "</span>",
        rel.indirect_reseller_id().empty()
            ? ""
            : "<div class=\"muted\">via " + E(rel.indirect_reseller_id()) + "</div>",
        "</td><td class=\"admin\">", E(AdminLabel(rel.admin_access())), "</td><td>",
        rel.support_responsible() ? "Responsible" : "—", "</td><td>",
        E(Time(rel.create_time())), "</td><td>", actions, "</td></tr>");
  }
  absl::StrAppend(&b, "</tbody></table>");
  if (resp.relationships().empty()) {
    absl::StrAppend(&b, "<p class=\"muted\">No partners yet. A partner sends you an "
                        "invitation link to start.</p>");
  }
  return Page(user, "Partners", b, error.empty() ? 200 : 409);
}

HttpResponse Portal::PartnerAction(const HttpRequest& request, const User& user,
                                   const std::string& partner_id, const std::string& action) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(Field(request, "version"), &version) || version < 0) version = 0;
  absl::Status status;
  std::string notice;
  if (action == "revoke") {
    rv1::RevokeAdminPermissionRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_partner_id(partner_id);
    req.set_customer_id(user.claims.tenant_id);
    req.set_reason(Field(request, "reason"));
    req.set_version(version);
    rv1::Relationship resp;
    status = Call(*backends_.relationship,
                  &rv1::RelationshipService::StubInterface::RevokeAdminPermission, user, request,
                  req, &resp);
    notice = "Admin permission revoked. The partner keeps its support responsibility.";
  } else if (action == "reassign") {
    rv1::ReassignAdminPermissionRequest req;
    req.set_request_id(RequestIdOf(request));
    req.set_from_partner_id(partner_id);
    req.set_to_partner_id(Field(request, "to"));
    req.set_customer_id(user.claims.tenant_id);
    req.set_reason(Field(request, "reason"));
    req.set_version(version);
    rv1::ReassignAdminPermissionResponse resp;
    status = Call(*backends_.relationship,
                  &rv1::RelationshipService::StubInterface::ReassignAdminPermission, user,
                  request, req, &resp);
    notice = "Admin permission reassigned.";
  } else {
    return Page(user, "Not found", ErrorBox("Unknown action."), 404);
  }
  if (!status.ok()) return PartnersPage(request, user, Explain(status, "relationship service"));
  return Redirect("/partners?notice=" + pc::PercentEncode(notice));
}

}  // namespace pc::portal
