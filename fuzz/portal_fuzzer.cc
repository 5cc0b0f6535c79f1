// The portal's request handling on any request a browser (or anything else) can send: method,
// path (routing), query string and urlencoded body (decoded as the HTTP server does), the
// Cookie header, Last-Event-ID and Sec-Fetch-Site, as an anonymous visitor or signed in with
// each role (optionally with the right CSRF token, so state changes get past it). The
// services behind are mocks answering OK with empty messages.
#include <gmock/gmock.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "partnercenter/invitation/v1/invitation_service_mock.grpc.pb.h"
#include "partnercenter/notification/v1/notification_service_mock.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service_mock.grpc.pb.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/auth/verifier.h"
#include "pc/common/url.h"
#include "portal.h"
#include "web.h"

namespace {

using ::testing::NiceMock;

struct Setup {
  pc::auth::KeyPairPem pair = *pc::auth::GenerateKeyPair();
  pc::auth::Verifier verifier = [this] {
    pc::auth::KeySet keys;
    (void)keys.Add("k1", pair.public_key_pem);
    return *pc::auth::Verifier::Create({.issuer = "i", .audience = "a", .cloud = "global"}, keys);
  }();
  pc::auth::Minter minter = *pc::auth::Minter::Create(
      {.private_key_pem = pair.private_key_pem, .kid = "k1", .issuer = "i", .audience = "a"});
  pc::auth::VerifiedTokenCache tokens{verifier};
  std::unique_ptr<pc::portal::Portal> portal;
  std::string sessions[4];

  Setup() {
    pc::portal::Backends b;
    b.invitation = std::make_shared<
        NiceMock<partnercenter::invitation::v1::MockInvitationServiceStub>>();
    b.relationship = std::make_shared<
        NiceMock<partnercenter::relationship::v1::MockRelationshipServiceStub>>();
    b.notification = std::make_shared<
        NiceMock<partnercenter::notification::v1::MockNotificationServiceStub>>();
    pc::portal::Portal::Options o{.cloud = "global", .csrf_secret = "fuzz", .insecure_cookies = true};
    o.dev_minter = minter;
    portal = std::make_unique<pc::portal::Portal>(std::move(o), std::move(b), tokens,
                                                  pc::SystemClock::Get());
    const char* const roles[] = {"partner_admin", "partner_agent", "customer_admin", "service"};
    const char* const tenants[] = {"partner-a", "partner-a", "customer-1", "svc"};
    for (int i = 0; i < 4; ++i) {
      sessions[i] = *minter.Mint({.subject = "u", .tenant_id = tenants[i], .cloud = "global",
                                  .roles = {roles[i]}, .display_name = "Sam"},
                                 absl::Hours(24 * 365 * 10), absl::Now());
    }
  }
};

Setup& The() {
  static Setup* setup = new Setup();
  return *setup;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Setup& s = The();
  FuzzedDataProvider in(data, size);
  const int who = in.ConsumeIntegralInRange<int>(0, 4);  // 0: anonymous
  const bool with_csrf = in.ConsumeBool();
  pc::portal::HttpRequest r;
  r.method = in.ConsumeRandomLengthString(8);
  r.path = in.ConsumeRandomLengthString(128);
  r.query = pc::ParseUrlEncoded(in.ConsumeRandomLengthString(256));
  const std::string body = in.ConsumeRandomLengthString(512);
  if (r.method == "POST") r.form = pc::ParseUrlEncoded(body);
  r.cookie_header = in.ConsumeRandomLengthString(128);
  if (who > 0) {
    const std::string& session = s.sessions[who - 1];
    r.cookie_header = "pc_session=" + session + (r.cookie_header.empty() ? "" : "; ") + r.cookie_header;
    if (with_csrf) r.form["csrf"] = pc::portal::CsrfToken("fuzz", session);
  }
  r.last_event_id = in.ConsumeRandomLengthString(32);
  r.fetch_site = in.ConsumeRandomLengthString(16);
  r.correlation_id = "corr-fuzz";

  const pc::portal::HttpResponse page = s.portal->Handle(r);
  pc::fuzz::Require(page.status >= 200 && page.status < 600, "an HTTP status outside 200–599");
  if (r.path == pc::portal::Portal::kCustomerStreamPath) {
    (void)s.portal->AuthorizeCustomerStream(r);
  }
  (void)pc::portal::CookieValue(r.cookie_header, "pc_session");
  return 0;
}
