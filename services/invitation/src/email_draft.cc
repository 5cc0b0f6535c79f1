#include "email_draft.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "pc/common/url.h"

namespace pc::invitation {
namespace {

using partnercenter::common::v1::INVITATION_KIND_ADMIN_RESTORE;

struct Template {
  const char* subject_relationship;
  const char* subject_restore;
  const char* intro_relationship;   // %s = partner
  const char* with_admin;           // %s = partner
  const char* without_admin;
  const char* intro_restore;        // %s = partner
  const char* note_heading;
  const char* accept_instructions;
  const char* expiry;               // %s = date
  const char* closing;
};

constexpr Template kEnglish{
    "%s requests a reseller relationship with your organization",
    "%s asks you to restore their administrator permission",
    "Hello,\n\n%s would like to become your cloud reseller and start a reseller relationship "
    "with your organization.",
    "The request includes delegated administrator permission, so %s can manage your "
    "services, users and licenses on your behalf. You can revoke it at any time.",
    "The request does not include administrator permission.",
    "Hello,\n\n%s is your cloud reseller and asks you to restore their delegated administrator "
    "permission, so they can again manage your services, users and licenses on your behalf.",
    "Their note:",
    "To accept, a global administrator of your organization must open this link and sign in:",
    "The link is personal, works once, and expires on %s (UTC).",
    "Thank you."};

constexpr Template kPortuguese{
    "%s solicita uma relação de revendedor com sua organização",
    "%s solicita que você restaure a permissão de administrador",
    "Olá,\n\n%s gostaria de se tornar seu revendedor de nuvem e estabelecer uma relação de "
    "revendedor com sua organização.",
    "A solicitação inclui permissão de administrador delegado, para que %s possa gerenciar "
    "seus serviços, usuários e licenças em seu nome. Você pode revogá-la a qualquer momento.",
    "A solicitação não inclui permissão de administrador.",
    "Olá,\n\n%s é seu revendedor de nuvem e solicita que você restaure a permissão de "
    "administrador delegado, para voltar a gerenciar seus serviços, usuários e licenças em seu "
    "nome.",
    "Mensagem do parceiro:",
    "Para aceitar, um administrador global da sua organização deve abrir este link e entrar:",
    "O link é pessoal, funciona uma única vez e expira em %s (UTC).",
    "Obrigado."};

const Template& TemplateFor(const std::string& locale) {
  return locale == "pt-BR" ? kPortuguese : kEnglish;
}

// The template with its one "%s" replaced by `value` (in one pass: a "%s" inside `value`
// stays as it is). The templates are data, so absl::StrFormat, which wants a format string
// known at compile time (clang enforces it), does not fit.
std::string Fill(absl::string_view tmpl, absl::string_view value) {
  return absl::StrReplaceAll(tmpl, {{"%s", value}});
}

}  // namespace

bool IsSupportedLocale(const std::string& locale) { return locale == "en" || locale == "pt-BR"; }

EmailText ComposeEmail(const DraftInput& in) {
  const Template& t = TemplateFor(in.locale);
  const bool restore = in.kind == INVITATION_KIND_ADMIN_RESTORE;
  const std::string& p = in.partner_name;
  EmailText out;
  out.subject = Fill(restore ? t.subject_restore : t.subject_relationship, p);
  if (!in.custom_body.empty()) {
    out.body = in.custom_body;
    if (out.body.find(kLinkPlaceholder) == std::string::npos) {
      absl::StrAppend(&out.body, "\n\n", kLinkPlaceholder, "\n");
    }
    return out;
  }
  out.body = Fill(restore ? t.intro_restore : t.intro_relationship, p);
  if (!restore) {
    absl::StrAppend(&out.body, " ",
                    in.include_admin ? Fill(t.with_admin, p) : t.without_admin);
  }
  if (!in.message.empty()) absl::StrAppend(&out.body, "\n\n", t.note_heading, "\n", in.message);
  absl::StrAppend(&out.body, "\n\n", t.accept_instructions, "\n", kLinkPlaceholder, "\n\n",
                  Fill(t.expiry, absl::FormatTime("%Y-%m-%d %H:%M", in.expire_time,
                                                             absl::UTCTimeZone())),
                  "\n\n", t.closing, "\n", p, "\n");
  return out;
}

std::string MailtoEncode(const std::string& text) {
  // Line breaks become CRLF (RFC 6068), whatever the text used.
  return pc::PercentEncode(absl::StrReplaceAll(absl::StrReplaceAll(text, {{"\r", ""}}),
                                               {{"\n", "\r\n"}}));
}

partnercenter::invitation::v1::EmailDraft RenderDraft(const EmailText& text,
                                                      const std::string& link,
                                                      const std::string& recipient,
                                                      const std::string& locale) {
  partnercenter::invitation::v1::EmailDraft draft;
  draft.set_subject(text.subject);
  draft.set_body(absl::StrReplaceAll(text.body, {{kLinkPlaceholder, link}}));
  draft.set_link(link);
  draft.set_locale(locale);
  draft.set_mailto_url(absl::StrCat("mailto:", MailtoEncode(recipient),
                                    "?subject=", MailtoEncode(draft.subject()),
                                    "&body=", MailtoEncode(draft.body())));
  return draft;
}

}  // namespace pc::invitation
