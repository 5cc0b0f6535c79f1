#include "email_draft.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pc::invitation {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kExpiry = absl::FromUnixSeconds(1'750'000'000);

TEST(EmailDraft, EnglishTemplateNamesThePartnerTheAdminRequestAndTheExpiry) {
  const EmailText text = ComposeEmail({.partner_name = "Fabrikam", .include_admin = true,
                                       .message = "Hi!", .expire_time = kExpiry});
  EXPECT_EQ(text.subject, "Fabrikam requests a reseller relationship with your organization");
  EXPECT_THAT(text.body, HasSubstr("delegated administrator permission"));
  EXPECT_THAT(text.body, HasSubstr("Hi!"));
  EXPECT_THAT(text.body, HasSubstr("2025-06-15 15:06"));
  EXPECT_THAT(text.body, HasSubstr(kLinkPlaceholder));
}

TEST(EmailDraft, PortugueseAndRestoreTemplates) {
  const EmailText pt = ComposeEmail({.locale = "pt-BR", .partner_name = "Fabrikam",
                                     .expire_time = kExpiry});
  EXPECT_THAT(pt.subject, HasSubstr("relação de revendedor"));
  EXPECT_THAT(pt.body, HasSubstr("não inclui permissão de administrador"));
  const EmailText restore = ComposeEmail(
      {.partner_name = "Fabrikam",
       .kind = partnercenter::common::v1::INVITATION_KIND_ADMIN_RESTORE,
       .expire_time = kExpiry});
  EXPECT_THAT(restore.subject, HasSubstr("restore their administrator permission"));
}

TEST(EmailDraft, AnEditedBodyWithoutTheLinkGetsItBack) {
  const EmailText text = ComposeEmail({.partner_name = "F", .custom_body = "Just click.",
                                       .expire_time = kExpiry});
  const auto draft = RenderDraft(text, "https://p/invitations/accept?token=abc", "", "en");
  EXPECT_EQ(draft.body(), "Just click.\n\nhttps://p/invitations/accept?token=abc\n");
  const EmailText kept = ComposeEmail({.partner_name = "F",
                                       .custom_body = std::string("Go: ") + kLinkPlaceholder,
                                       .expire_time = kExpiry});
  EXPECT_EQ(RenderDraft(kept, "L", "", "en").body(), "Go: L");
}

TEST(EmailDraft, MailtoUrlIsPercentEncoded) {
  EXPECT_EQ(MailtoEncode("a b&c=d?\n/é"), "a%20b%26c%3Dd%3F%0D%0A%2F%C3%A9");
  const auto draft = RenderDraft({"Olá & bem-vindo", "Line 1\nhttps://x/y?token=A_b-c"}, "", "",
                                 "pt-BR");
  EXPECT_EQ(draft.mailto_url(),
            "mailto:?subject=Ol%C3%A1%20%26%20bem-vindo&body=Line%201%0D%0Ahttps%3A%2F%2Fx%2Fy%3F"
            "token%3DA_b-c");
  EXPECT_THAT(draft.mailto_url(), Not(HasSubstr(" ")));
}

}  // namespace
}  // namespace pc::invitation
