// HTTP/HTML primitives of the portal, kept free of I/O so they are unit-tested:
// escaping, CSRF tokens bound to the session, session cookie attributes, SSE framing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pc::portal {

// Escapes text for HTML element content and double- or single-quoted attribute values.
std::string HtmlEscape(std::string_view text);

// CSRF tokens: HMAC-SHA256(secret, session_id), hex. Stateless; a token is valid only for the
// session it was issued to. Verification is constant-time.
std::string CsrfToken(std::string_view secret, std::string_view session_id);
bool VerifyCsrfToken(std::string_view secret, std::string_view session_id, std::string_view token);

// Set-Cookie value for the session: HttpOnly, SameSite=Lax, Path=/, and Secure unless `insecure`
// (plain-HTTP local dev). An empty value with max_age 0 clears the cookie.
std::string SessionCookie(std::string_view name, std::string_view value, bool insecure,
                          int64_t max_age_seconds);

// Reads one cookie from a Cookie request header.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

// One Server-Sent Events frame: "id: …\nevent: …\ndata: …\n\n"; multi-line data becomes several
// data lines; CR/LF in id/event are dropped so a value can never inject a field.
std::string SseFrame(std::string_view id, std::string_view event, std::string_view data);


}  // namespace pc::portal
