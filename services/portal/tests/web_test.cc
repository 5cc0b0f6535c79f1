#include "web.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pc::portal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HtmlEscapeTest, ScriptRendersAsText) {
  EXPECT_EQ(HtmlEscape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape(R"(a"b'c&d)"), "a&quot;b&#39;c&amp;d");
  EXPECT_EQ(HtmlEscape("Contoso GmbH"), "Contoso GmbH");
}

TEST(CsrfTest, TokenIsBoundToTheSession) {
  const std::string token = CsrfToken("secret", "session-a");
  EXPECT_TRUE(VerifyCsrfToken("secret", "session-a", token));
  EXPECT_FALSE(VerifyCsrfToken("secret", "session-b", token));
  EXPECT_FALSE(VerifyCsrfToken("other-secret", "session-a", token));
  EXPECT_FALSE(VerifyCsrfToken("secret", "session-a", ""));
  EXPECT_FALSE(VerifyCsrfToken("secret", "", CsrfToken("secret", "")));
}

TEST(SessionCookieTest, HasSecurityAttributes) {
  const std::string cookie = SessionCookie("pc_session", "abc", /*insecure=*/false, 3600);
  EXPECT_THAT(cookie, HasSubstr("pc_session=abc"));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Lax"));
  EXPECT_THAT(cookie, HasSubstr("Secure"));
  EXPECT_THAT(SessionCookie("pc_session", "abc", /*insecure=*/true, 3600), Not(HasSubstr("Secure")));
}

TEST(CookieValueTest, FindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; pc_session=xyz; b=2", "pc_session"), "xyz");
  EXPECT_EQ(CookieValue("a=1", "pc_session"), std::nullopt);
}

TEST(SseFrameTest, FramesMultiLineDataAndCannotInjectFields) {
  EXPECT_EQ(SseFrame("7", "customer", "{\"a\":1}"), "id: 7\nevent: customer\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseFrame("", "", "x\ny"), "data: x\ndata: y\n\n");
  EXPECT_EQ(SseFrame("1\ndata: evil", "e", "d"), "id: 1data: evil\nevent: e\ndata: d\n\n");
}

}  // namespace
}  // namespace pc::portal
