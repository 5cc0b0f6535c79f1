// The portal's pages and rules against mocked service stubs: identity (dev sign-in and the
// production header), CSRF on every state change, escaping, tenant scoping of every call,
// readable errors when a backend fails, the generic invalid-link page, the live-feed grant.
#include "portal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "partnercenter/invitation/v1/invitation_service_mock.grpc.pb.h"
#include "partnercenter/notification/v1/notification_service_mock.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service_mock.grpc.pb.h"
#include "pc/auth/keys.h"
#include "pc/auth/verifier.h"
#include "pc/common/clock.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "web.h"

namespace pc::portal {
namespace {

namespace cv1 = ::partnercenter::common::v1;
namespace iv1 = ::partnercenter::invitation::v1;
namespace nv1 = ::partnercenter::notification::v1;
namespace rv1 = ::partnercenter::relationship::v1;
using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;

constexpr char kIssuer[] = "test-issuer";
constexpr char kAudience[] = "partnercenter";

struct Keys {
  pc::auth::KeyPairPem pair = *pc::auth::GenerateKeyPair();
  pc::auth::Verifier verifier = [this] {
    pc::auth::KeySet keys;
    EXPECT_TRUE(keys.Add("k1", pair.public_key_pem).ok());
    return *pc::auth::Verifier::Create(
        {.issuer = kIssuer, .audience = kAudience, .cloud = "global"}, keys);
  }();
  pc::auth::Minter minter = *pc::auth::Minter::Create(
      {.private_key_pem = pair.private_key_pem, .kid = "k1", .issuer = kIssuer,
       .audience = kAudience});
};

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

class PortalTest : public ::testing::Test {
 protected:
  explicit PortalTest(bool dev = true) : tokens_(keys_.verifier) {
    Backends b;
    b.invitation = invitation_;
    b.relationship = relationship_;
    b.notification = notification_;
    Portal::Options o{.cloud = "global", .csrf_secret = "test-secret", .insecure_cookies = true};
    if (dev) o.dev_minter = keys_.minter;
    else o.identity_header = "X-Identity";
    portal_ = std::make_unique<Portal>(std::move(o), std::move(b), tokens_,
                                       pc::SystemClock::Get());
  }

  std::string Token(const std::string& tenant, const std::string& role) {
    return *keys_.minter.Mint({.subject = tenant + "-user", .tenant_id = tenant,
                               .cloud = "global", .roles = {role}, .display_name = "Sam"},
                              absl::Hours(1), absl::Now());
  }
  HttpRequest Get(const std::string& path, const std::string& token) {
    HttpRequest r{.method = "GET", .path = path};
    if (!token.empty()) r.cookie_header = "pc_session=" + token;
    return r;
  }
  HttpRequest Post(const std::string& path, const std::string& token,
                   std::map<std::string, std::string> form, bool with_csrf = true) {
    HttpRequest r = Get(path, token);
    r.method = "POST";
    r.form = std::move(form);
    if (with_csrf) r.form["csrf"] = CsrfToken("test-secret", token);
    return r;
  }

  Keys keys_;
  pc::auth::VerifiedTokenCache tokens_;
  std::shared_ptr<iv1::MockInvitationServiceStub> invitation_ =
      std::make_shared<iv1::MockInvitationServiceStub>();
  std::shared_ptr<rv1::MockRelationshipServiceStub> relationship_ =
      std::make_shared<rv1::MockRelationshipServiceStub>();
  std::shared_ptr<nv1::MockNotificationServiceStub> notification_ =
      std::make_shared<nv1::MockNotificationServiceStub>();
  std::unique_ptr<Portal> portal_;
};

TEST_F(PortalTest, DevSignInSetsAHardenedCookieThatThenIdentifiesTheUser) {
  HttpResponse r = portal_->Handle(
      Post("/signin", "", {{"tenant", "partner-1"}, {"role", "partner_admin"}, {"name", "Ana"}},
           false));
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/");
  const std::string cookie = HeaderOf(r, "Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Lax"));
  const std::string token = cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  auto claims = keys_.verifier.Verify(token, absl::Now());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->tenant_id, "partner-1");
  EXPECT_TRUE(claims->HasRole("partner_admin"));
  HttpResponse home = portal_->Handle(Get("/", token));
  EXPECT_EQ(HeaderOf(home, "Location"), "/customers");
}

TEST_F(PortalTest, SignInRefusesBadInputAndNeverRedirectsOffSite) {
  EXPECT_EQ(portal_->Handle(Post("/signin", "", {{"tenant", "<x>"}, {"role", "partner_admin"}}, false)).status, 400);
  EXPECT_EQ(portal_->Handle(Post("/signin", "", {{"tenant", "p1"}, {"role", "service"}}, false)).status, 400);
  for (const char* next : {"//evil.example/x", "https://evil.example/", "/\\evil.example",
                           "/\t/evil.example", "/x\r\nSet-Cookie: a=b"}) {
    HttpResponse r = portal_->Handle(
        Post("/signin", "", {{"tenant", "p1"}, {"role", "partner_admin"}, {"next", next}}, false));
    EXPECT_EQ(HeaderOf(r, "Location"), "/") << next;
  }
  HttpResponse local = portal_->Handle(Post(
      "/signin", "", {{"tenant", "c1"}, {"role", "customer_admin"}, {"next", "/invitations/accept?token=x"}},
      false));
  EXPECT_EQ(HeaderOf(local, "Location"), "/invitations/accept?token=x");
}

TEST_F(PortalTest, EveryResponseCarriesTheSecurityHeaders) {
  HttpResponse r = portal_->Handle(Get("/signin", ""));
  EXPECT_THAT(HeaderOf(r, "Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_THAT(HeaderOf(r, "Content-Security-Policy"), Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
}

TEST_F(PortalTest, PagesNeedASignedInUser) {
  HttpResponse r = portal_->Handle(Get("/customers", ""));
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/signin?next=%2Fcustomers");
  HttpResponse forged = portal_->Handle(Get("/customers", "not-a-jwt"));
  EXPECT_EQ(forged.status, 303);
}

TEST_F(PortalTest, APathWithoutItsLeadingSlashIsNotFound) {
  for (const char* path : {"", "customers", "?x"}) {
    EXPECT_EQ(portal_->Handle(Get(path, Token("partner-1", "partner_admin"))).status, 404) << path;
    EXPECT_EQ(portal_->Handle(Get(path, Token("c1", "customer_admin"))).status, 404) << path;
  }
}

TEST_F(PortalTest, CustomersPageEscapesNamesAndAsksOnlyForTheUsersOwnTenant) {
  nv1::GetCustomersPageRequest asked;
  nv1::CustomersPage page;
  page.set_as_of_sequence(42);
  auto* row = page.add_customers();
  row->set_customer_id("c1");
  row->set_company_name("<script>alert(1)</script>");
  row->set_admin_access(cv1::ADMIN_ACCESS_REVOKED);
  EXPECT_CALL(*notification_, GetCustomersPage(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&asked), SetArgPointee<2>(page), Return(grpc::Status::OK)));
  HttpRequest req = Get("/customers", Token("partner-1", "partner_agent"));
  req.query = {{"partner_id", "partner-2"}, {"q", "Con"}, {"admin", "REVOKED"}};
  HttpResponse r = portal_->Handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(asked.partner_id(), "partner-1");
  EXPECT_EQ(asked.name_prefix(), "Con");
  ASSERT_EQ(asked.admin_access_size(), 1);
  EXPECT_EQ(asked.admin_access(0), cv1::ADMIN_ACCESS_REVOKED);
  EXPECT_THAT(r.body, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(r.body, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(r.body, HasSubstr("Admin revoked — support responsibility retained"));
  EXPECT_THAT(r.body, HasSubstr("Open service request"));
  EXPECT_THAT(r.body, HasSubstr("data-as-of=\"42\""));
}

TEST_F(PortalTest, ABackendThatIsDownGivesAReadableMessageNotAStatusDump) {
  EXPECT_CALL(*notification_, GetCustomersPage(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed: 127.0.0.1:50053")));
  HttpResponse r = portal_->Handle(Get("/customers", Token("partner-1", "partner_admin")));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("The notification service is not reachable right now"));
  EXPECT_THAT(r.body, Not(HasSubstr("connect failed")));
  EXPECT_THAT(r.body, Not(HasSubstr("UNAVAILABLE")));
  // The navigation still works: the page is the portal's, not an error dump.
  EXPECT_THAT(r.body, HasSubstr("href=\"/invitations/new\""));
}

TEST_F(PortalTest, AFormWithoutItsCsrfTokenChangesNothing) {
  EXPECT_CALL(*relationship_, RevokeAdminPermission(_, _, _)).Times(0);
  const std::string customer = Token("customer-1", "customer_admin");
  HttpResponse missing = portal_->Handle(
      Post("/partners/partner-1/revoke", customer, {{"reason", "x"}}, /*with_csrf=*/false));
  EXPECT_EQ(missing.status, 403);
  HttpRequest other_session = Post("/partners/partner-1/revoke", customer, {{"reason", "x"}}, false);
  other_session.form["csrf"] = CsrfToken("test-secret", Token("customer-1", "customer_admin"));
  EXPECT_EQ(portal_->Handle(other_session).status, 403);
}

TEST_F(PortalTest, RevokeActsForTheSignedInCustomerWithTheFormsIdempotencyKey) {
  rv1::RevokeAdminPermissionRequest asked;
  EXPECT_CALL(*relationship_, RevokeAdminPermission(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&asked), Return(grpc::Status::OK)));
  const std::string request_id = "0b9d6f0e-3c1a-4f7e-9a53-7f3f1f0a2b11";
  HttpResponse r = portal_->Handle(Post(
      "/partners/partner-1/revoke", Token("customer-1", "customer_admin"),
      {{"reason", "in-house IT"}, {"version", "3"}, {"request_id", request_id},
       {"customer_id", "customer-2"}}));
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(asked.customer_id(), "customer-1");  // from the token, never the form
  EXPECT_EQ(asked.partner_id(), "partner-1");
  EXPECT_EQ(asked.request_id(), request_id);
  EXPECT_EQ(asked.version(), 3);
  EXPECT_EQ(asked.reason(), "in-house IT");
}

TEST_F(PortalTest, AServiceRefusalIsShownWithItsReasonOnTheSamePage) {
  EXPECT_CALL(*relationship_, ProvisionService(_, _, _))
      .WillOnce(Return(pc::ToGrpcStatus(pc::FailedPreconditionError(
          "ADMIN_PERMISSION_REVOKED", "the customer revoked your admin permission"))));
  rv1::CustomerRecord record;
  record.mutable_relationship()->set_customer_id("c1");
  record.mutable_relationship()->set_state(cv1::RELATIONSHIP_STATE_ACTIVE);
  record.mutable_relationship()->set_admin_access(cv1::ADMIN_ACCESS_REVOKED);
  EXPECT_CALL(*relationship_, GetCustomerRecord(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(record), Return(grpc::Status::OK)));
  rv1::CheckAdminAccessResponse access;
  access.set_reason("ADMIN_PERMISSION_REVOKED");
  EXPECT_CALL(*relationship_, CheckAdminAccess(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(access), Return(grpc::Status::OK)));
  HttpResponse r = portal_->Handle(Post("/customers/c1/provision", Token("p1", "partner_admin"),
                                        {{"offer_id", "o"}, {"display_name", "n"}, {"licenses", "2"}}));
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, HasSubstr("the customer revoked your admin permission (ADMIN_PERMISSION_REVOKED)"));
  // The manage actions are disabled with the service's reason; service requests are not.
  EXPECT_THAT(r.body, HasSubstr("disabled title=\"ADMIN_PERMISSION_REVOKED"));
  EXPECT_THAT(r.body, HasSubstr(">Open service request</button>"));
  EXPECT_THAT(r.body, Not(HasSubstr("disabled>Open service request")));
}

TEST_F(PortalTest, ARefusedInvitationKeepsWhatWasEnteredEscapedAndSaysWhatToDo) {
  iv1::CreateInvitationRequest asked;
  EXPECT_CALL(*invitation_, CreateInvitation(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&asked),
                      Return(pc::ToGrpcStatus(pc::WithReason(
                          absl::AlreadyExistsError("a pending invitation for this customer already exists"),
                          "PENDING_INVITATION_EXISTS")))));
  HttpResponse r = portal_->Handle(Post("/invitations", Token("p1", "partner_admin"),
                                        {{"domain", "contoso.com"}, {"message", "<b>hi</b>"},
                                         {"locale", "pt-BR"}, {"partner_name", "Fabrikam"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(asked.customer_hint().email_domain(), "contoso.com");
  EXPECT_FALSE(asked.include_admin_permission());  // the box was not ticked
  EXPECT_THAT(r.body, HasSubstr("already exists (PENDING_INVITATION_EXISTS)"));
  EXPECT_THAT(r.body, HasSubstr("href=\"/invitations?state=PENDING\""));
  EXPECT_THAT(r.body, HasSubstr("value=\"contoso.com\""));
  EXPECT_THAT(r.body, HasSubstr("&lt;b&gt;hi&lt;/b&gt;</textarea>"));
  EXPECT_THAT(r.body, HasSubstr("value=\"pt-BR\" selected"));
  EXPECT_THAT(r.body, Not(HasSubstr("name=\"admin\" value=\"1\" checked")));
}

TEST_F(PortalTest, EveryUnusableLinkShowsTheSameGenericPage) {
  const std::string admin = Token("customer-1", "customer_admin");
  std::vector<std::string> bodies;
  for (grpc::Status s : {grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown token"),
                         grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "invitation inv-7 is EXPIRED"),
                         grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "token: malformed")}) {
    EXPECT_CALL(*invitation_, PreviewInvitation(_, _, _)).WillOnce(Return(s));
    HttpRequest req = Get("/invitations/accept", admin);
    req.query = {{"token", "garbage"}};
    HttpResponse r = portal_->Handle(req);
    EXPECT_EQ(r.status, 404);
    EXPECT_THAT(r.body, HasSubstr("can't be used"));
    EXPECT_THAT(r.body, Not(HasSubstr(s.error_message())));
    bodies.push_back(r.body);
  }
  EXPECT_EQ(bodies[0], bodies[1]);
  EXPECT_EQ(bodies[1], bodies[2]);
}

TEST_F(PortalTest, TheLandingPageSaysWhatAcceptingGrants) {
  iv1::InvitationPreview preview;
  preview.set_partner_id("partner-1");
  preview.set_partner_display_name("Fabrikam <b>");
  preview.set_kind(cv1::INVITATION_KIND_RESELLER_RELATIONSHIP);
  preview.set_include_admin_permission(true);
  preview.mutable_expire_time()->set_seconds(1900000000);
  iv1::PreviewInvitationRequest asked;
  EXPECT_CALL(*invitation_, PreviewInvitation(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&asked), SetArgPointee<2>(preview), Return(grpc::Status::OK)));
  HttpRequest req = Get("/invitations/accept", Token("customer-1", "customer_admin"));
  req.query = {{"token", "tok123"}};
  HttpResponse r = portal_->Handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(asked.token(), "tok123");
  EXPECT_THAT(r.body, HasSubstr("Fabrikam &lt;b&gt;"));
  EXPECT_THAT(r.body, HasSubstr("Admin permission: yes"));
  EXPECT_THAT(r.body, HasSubstr("2030-03-17"));
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
}

TEST_F(PortalTest, APartnerUserCannotUseCustomerPagesOrTheOtherWayRound) {
  EXPECT_CALL(*relationship_, ListPartners(_, _, _)).Times(0);
  EXPECT_CALL(*notification_, GetCustomersPage(_, _, _)).Times(0);
  EXPECT_EQ(portal_->Handle(Get("/partners", Token("p1", "partner_admin"))).status, 404);
  EXPECT_EQ(portal_->Handle(Get("/customers", Token("c1", "customer_admin"))).status, 404);
}

TEST_F(PortalTest, TheLiveFeedIsGrantedToPartnersFromWhereTheyAre) {
  HttpRequest anonymous = Get(Portal::kCustomerStreamPath, "");
  anonymous.query = {{"after", "5"}};
  auto refused = portal_->AuthorizeCustomerStream(anonymous);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(refused));
  EXPECT_EQ(std::get<HttpResponse>(refused).status, 401);

  HttpRequest customer = Get(Portal::kCustomerStreamPath, Token("c1", "customer_admin"));
  customer.query = {{"after", "5"}};
  auto forbidden = portal_->AuthorizeCustomerStream(customer);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(forbidden));
  EXPECT_EQ(std::get<HttpResponse>(forbidden).status, 403);

  nv1::CustomersPage head;
  head.set_as_of_sequence(9);
  nv1::GetCustomersPageRequest asked;
  EXPECT_CALL(*notification_, GetCustomersPage(_, _, _))
      .WillRepeatedly(DoAll(SaveArg<1>(&asked), SetArgPointee<2>(head), Return(grpc::Status::OK)));
  HttpRequest partner = Get(Portal::kCustomerStreamPath, Token("p1", "partner_agent"));
  partner.query = {{"after", "5"}, {"partner_id", "p2"}};
  auto grant = portal_->AuthorizeCustomerStream(partner);
  ASSERT_TRUE(std::holds_alternative<Portal::StreamGrant>(grant));
  EXPECT_EQ(std::get<Portal::StreamGrant>(grant).partner_id, "p1");
  EXPECT_EQ(std::get<Portal::StreamGrant>(grant).after_sequence, 5);
  partner.last_event_id = "9";  // a reconnect resumes after what the browser last saw
  EXPECT_EQ(std::get<Portal::StreamGrant>(portal_->AuthorizeCustomerStream(partner)).after_sequence, 9);
  EXPECT_EQ(asked.partner_id(), "p1");  // the head is checked on the user's own feed
  partner.last_event_id = "nine";
  EXPECT_EQ(std::get<HttpResponse>(portal_->AuthorizeCustomerStream(partner)).status, 400);
  // A resume point past the feed's head (forged, or from a rebuilt read model) resets only
  // this page: a complete SSE answer telling it to reload; no stream is opened.
  partner.last_event_id = "9000000000000";
  auto ahead = portal_->AuthorizeCustomerStream(partner);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(ahead));
  EXPECT_EQ(std::get<HttpResponse>(ahead).status, 200);
  EXPECT_THAT(std::get<HttpResponse>(ahead).body, HasSubstr("event: status\ndata: {\"state\":\"reset\""));
}

TEST_F(PortalTest, AFormPostedFromAnotherSiteIsRefusedEvenSignIn) {
  HttpRequest forged = Post("/signin", "", {{"tenant", "attacker"}, {"role", "partner_admin"}}, false);
  forged.fetch_site = "cross-site";
  HttpResponse r = portal_->Handle(forged);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOf(r, "Set-Cookie"), "");
  EXPECT_CALL(*relationship_, RevokeAdminPermission(_, _, _)).Times(0);
  HttpRequest revoke = Post("/partners/p1/revoke", Token("c1", "customer_admin"), {{"reason", "x"}});
  revoke.fetch_site = "cross-site";
  EXPECT_EQ(portal_->Handle(revoke).status, 403);
}

TEST_F(PortalTest, AFieldRefusedOnDeclineIsShownAndTheLinkIsNotCalledInvalid) {
  EXPECT_CALL(*invitation_, DeclineInvitation(_, _, _))
      .WillOnce(Return(pc::ToGrpcStatus(pc::InvalidFieldError("reason", "must be at most 1000 bytes"))));
  HttpResponse r = portal_->Handle(Post("/invitations/decline", Token("c1", "customer_admin"),
                                        {{"token", "tok"}, {"reason", std::string(1001, 'x')}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("reason: must be at most 1000 bytes"));
  EXPECT_THAT(r.body, Not(HasSubstr("can't be used")));
  EXPECT_CALL(*invitation_, DeclineInvitation(_, _, _))
      .WillOnce(Return(pc::ToGrpcStatus(pc::InvalidFieldError("token", "is malformed"))));
  EXPECT_EQ(portal_->Handle(Post("/invitations/decline", Token("c1", "customer_admin"),
                                 {{"token", "%%"}})).status, 404);
}

TEST(ChangeFrameTest, RendersRowsOnceAndRemovesWhatLeftThePage) {
  nv1::CustomerChange change;
  change.set_sequence(7);
  change.set_kind(nv1::CHANGE_KIND_UPSERT);
  change.mutable_customer()->set_customer_id("c1");
  change.mutable_customer()->set_company_name("A&B");
  change.mutable_customer()->set_relationship_state(cv1::RELATIONSHIP_STATE_ACTIVE);
  const std::string upsert = Portal::ChangeFrame(change);
  EXPECT_THAT(upsert, HasSubstr("id: 7\nevent: change\n"));
  EXPECT_THAT(upsert, HasSubstr("\"op\":\"upsert\""));
  EXPECT_THAT(upsert, HasSubstr("A&amp;B"));
  change.mutable_customer()->set_relationship_state(cv1::RELATIONSHIP_STATE_REMOVED);
  EXPECT_THAT(Portal::ChangeFrame(change), HasSubstr("\"op\":\"remove\""));
  nv1::CustomerChange invitation;
  invitation.set_sequence(8);
  invitation.mutable_invitation()->set_invitation_id("i1");
  invitation.mutable_invitation()->set_state(cv1::INVITATION_STATE_ACCEPTED);
  EXPECT_THAT(Portal::ChangeFrame(invitation), HasSubstr("\"op\":\"remove\""));
}

TEST(ExplainTest, EachCodeReadsAsAnInstructionNotADump) {
  struct Case {
    absl::Status status;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {absl::UnavailableError("x"), "is not reachable right now"},
           {absl::DeadlineExceededError("x"), "is not reachable right now"},
           {absl::UnauthenticatedError("x"), "Sign in again"},
           {absl::AbortedError("x"), "Reload the page"},
           {absl::ResourceExhaustedError("x"), "Wait a little"},
           {absl::NotFoundError("x"), "not found"},
           {pc::InvalidFieldError("reason", "is too long"), "reason"},
       }) {
    EXPECT_THAT(Explain(c.status, "relationship service"), HasSubstr(c.expected)) << c.status;
  }
}

class ProductionPortalTest : public PortalTest {
 protected:
  ProductionPortalTest() : PortalTest(/*dev=*/false) {}
};

TEST_F(ProductionPortalTest, IdentityComesFromTheUpstreamHeaderAndNothingIsMinted) {
  HttpResponse r = portal_->Handle(
      Post("/signin", "", {{"tenant", "p1"}, {"role", "partner_admin"}}, false));
  EXPECT_EQ(HeaderOf(r, "Set-Cookie"), "");
  EXPECT_EQ(r.status, 401);
  // A dev cookie means nothing here; the header does.
  const std::string token = Token("p1", "partner_admin");
  EXPECT_EQ(HeaderOf(portal_->Handle(Get("/", token)), "Location"), "/signin");
  HttpRequest with_header{.method = "GET", .path = "/"};
  with_header.identity_header = token;
  EXPECT_EQ(HeaderOf(portal_->Handle(with_header), "Location"), "/customers");
}

}  // namespace
}  // namespace pc::portal
