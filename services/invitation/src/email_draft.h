// The email a partner sends to ask for a reseller relationship (or for admin permission back).
//
// The service drafts subject and body from a template per locale ("en", "pt-BR"); the partner
// may replace the body, but the personalized link is what ties the customer to the partner, so
// a body without it gets it appended. Stored bodies hold kLinkPlaceholder instead of the link
// (the token is never stored in clear); Render() puts the real link in.
//
//   DraftInput in{.locale = "pt-BR", .partner_name = "Fabrikam", .include_admin = true, …};
//   EmailText text = ComposeEmail(in);                       // subject + body with placeholder
//   EmailDraft draft = RenderDraft(text, link, "");          // link + mailto: URL
#pragma once

#include <string>

#include "absl/time/time.h"
#include "partnercenter/common/v1/common.pb.h"
#include "partnercenter/invitation/v1/invitation_service.pb.h"

namespace pc::invitation {

inline constexpr char kLinkPlaceholder[] = "{{invitation_link}}";

// Locales with a template. The first is the default.
bool IsSupportedLocale(const std::string& locale);
inline constexpr char kDefaultLocale[] = "en";

struct DraftInput {
  std::string locale = kDefaultLocale;
  std::string partner_name;
  partnercenter::common::v1::InvitationKind kind =
      partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP;
  bool include_admin = false;
  std::string message;      // the partner's personal note, may be empty
  std::string custom_body;  // replaces the templated body when not empty
  absl::Time expire_time;
};

struct EmailText {
  std::string subject;
  std::string body;  // contains kLinkPlaceholder exactly where the link goes
};

// Subject and body for `in`, with the link as kLinkPlaceholder.
EmailText ComposeEmail(const DraftInput& in);

// The draft as sent: the placeholder replaced by `link`, and a mailto: URL (RFC 6068) with
// `recipient` (may be empty) and the percent-encoded subject and body.
partnercenter::invitation::v1::EmailDraft RenderDraft(const EmailText& text,
                                                      const std::string& link,
                                                      const std::string& recipient,
                                                      const std::string& locale);

// RFC 3986 percent-encoding of everything but unreserved characters; "\n" becomes "%0D%0A".
std::string MailtoEncode(const std::string& text);

}  // namespace pc::invitation
