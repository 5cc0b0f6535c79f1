// InvitationService over a real in-process gRPC server with real JWT verification: the role ×
// call matrix, cross-tenant and cross-cloud denial, and statuses as clients see them.
#include "gtest/gtest.h"
#include "grpc_service.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "pc/auth/authorization.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/storage/database.h"
#include "pc/testing/fake_clock.h"
#include "pc/testing/grpc_server.h"
#include "sql_repository.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
using Stub = v1::InvitationService::Stub;

class InvitationGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = pc::auth::GenerateKeyPair();
    ASSERT_TRUE(pair.ok());
    pc::auth::KeySet keys;
    ASSERT_TRUE(keys.Add("k1", pair->public_key_pem).ok());
    auto verifier = pc::auth::Verifier::Create(
        {.issuer = "pc-test", .audience = "partnercenter", .cloud = "global"}, keys);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::make_unique<pc::auth::Verifier>(*std::move(verifier));
    auto minter = pc::auth::Minter::Create({.private_key_pem = pair->private_key_pem,
                                            .kid = "k1",
                                            .issuer = "pc-test",
                                            .audience = "partnercenter"});
    ASSERT_TRUE(minter.ok());
    minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
    auto db = pc::storage::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_ = *std::move(db);
    ASSERT_TRUE(SqlRepository::Migrate(*db_).ok());
    repository_ = std::make_unique<SqlRepository>(*db_);
    domain_ = std::make_unique<InvitationDomain>(DomainOptions{}, *repository_, clock_, nullptr);
    service_ = std::make_unique<InvitationGrpcService>(*domain_, *verifier_, clock_);
    server_ = std::make_unique<pc::testing::InProcessServer>(
        std::vector<grpc::Service*>{service_.get()});
    stub_ = v1::InvitationService::NewStub(server_->Channel());
  }

  std::string Token(const std::string& tenant, const std::string& role,
                    const std::string& cloud = "global", const std::string& subject = "") {
    auto t = minter_->Mint({.subject = subject.empty() ? "u-" + tenant : subject,
                            .tenant_id = tenant, .cloud = cloud,
                            .roles = {role}},
                           absl::Hours(1), clock_.Now());
    EXPECT_TRUE(t.ok()) << t.status();
    return t.value_or("");
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) pc::auth::AttachBearerToken(ctx.get(), token);
    return ctx;
  }

  v1::CreateInvitationResponse Create(const std::string& partner, const std::string& request_id) {
    v1::CreateInvitationRequest req;
    req.set_request_id(request_id);
    req.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
    v1::CreateInvitationResponse resp;
    auto ctx = Ctx(Token(partner, "partner_admin"));
    EXPECT_TRUE(stub_->CreateInvitation(ctx.get(), req, &resp).ok());
    return resp;
  }

  pc::testing::FakeClock clock_{absl::Now()};
  std::unique_ptr<pc::auth::Verifier> verifier_;
  std::unique_ptr<pc::auth::Minter> minter_;
  std::unique_ptr<pc::storage::Database> db_;
  std::unique_ptr<SqlRepository> repository_;
  std::unique_ptr<InvitationDomain> domain_;
  std::unique_ptr<InvitationGrpcService> service_;
  std::unique_ptr<pc::testing::InProcessServer> server_;
  std::unique_ptr<Stub> stub_;
};

// One call per RPC with a caller; returns the status the client sees.
using Call = std::function<grpc::Status(Stub&, grpc::ClientContext*, const std::string& id,
                                        const std::string& token)>;

struct Rpc {
  std::string name;
  Call call;
  std::set<std::string> allowed_roles;
};

std::vector<Rpc> Rpcs() {
  return {
      {"CreateInvitation",
       [](Stub& s, grpc::ClientContext* c, const std::string&, const std::string&) {
         v1::CreateInvitationRequest r;
         r.set_request_id("matrix");
         r.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
         r.mutable_customer_hint()->set_email_domain("matrix.com");
         v1::CreateInvitationResponse resp;
         return s.CreateInvitation(c, r, &resp);
       },
       {"partner_admin"}},
      {"GetInvitation",
       [](Stub& s, grpc::ClientContext* c, const std::string& id, const std::string&) {
         v1::GetInvitationRequest r;
         r.set_id(id);
         v1::Invitation resp;
         return s.GetInvitation(c, r, &resp);
       },
       {"partner_admin", "partner_agent"}},
      {"ListInvitations",
       [](Stub& s, grpc::ClientContext* c, const std::string&, const std::string&) {
         v1::ListInvitationsRequest r;
         v1::ListInvitationsResponse resp;
         return s.ListInvitations(c, r, &resp);
       },
       {"partner_admin", "partner_agent"}},
      {"PreviewInvitation",
       [](Stub& s, grpc::ClientContext* c, const std::string&, const std::string& token) {
         v1::PreviewInvitationRequest r;
         r.set_token(token);
         v1::InvitationPreview resp;
         return s.PreviewInvitation(c, r, &resp);
       },
       {"customer_admin"}},
      {"CancelInvitation",
       [](Stub& s, grpc::ClientContext* c, const std::string& id, const std::string&) {
         v1::CancelInvitationRequest r;
         r.set_request_id("matrix-cancel");
         r.set_id(id);
         v1::Invitation resp;
         return s.CancelInvitation(c, r, &resp);
       },
       {"partner_admin"}},
  };
}

TEST_F(InvitationGrpcTest, RoleMatrix) {
  for (const Rpc& rpc : Rpcs()) {
    for (const std::string role :
         {"partner_admin", "partner_agent", "customer_admin", "service", "nobody"}) {
      SCOPED_TRACE(rpc.name + " as " + role);
      // A fresh invitation per cell, so each allowed call has something to act on.
      const auto created = Create("partner-a", rpc.name + role);
      const std::string link_token =
          created.email_draft().link().substr(created.email_draft().link().find("token=") + 6);
      // "service": the invitation service's own identity, which no InvitationService RPC admits.
      const std::string tenant = role == "customer_admin" ? "customer-1"
                                 : role == "service"      ? "partnercenter"
                                                          : "partner-a";
      auto ctx = Ctx(Token(tenant, role, "global", role == "service" ? "invitation" : ""));
      const grpc::Status status = rpc.call(*stub_, ctx.get(), created.invitation().id(), link_token);
      if (rpc.allowed_roles.count(role)) {
        EXPECT_TRUE(status.ok()) << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_EQ(pc::ReasonOf(pc::FromGrpcStatus(status)),
                  role == "service" ? pc::reason::kCallerNotAdmitted : pc::reason::kMissingRole);
      }
      // Clean up so the one-pending rule does not interfere with the next cell.
      v1::CancelInvitationRequest cancel;
      cancel.set_request_id("cleanup-" + rpc.name + role);
      cancel.set_id(created.invitation().id());
      v1::Invitation ignored;
      auto admin = Ctx(Token("partner-a", "partner_admin"));
      (void)stub_->CancelInvitation(admin.get(), cancel, &ignored);
    }
  }
}

TEST_F(InvitationGrpcTest, NoTokenWrongCloudOrForeignTenantGetNothing) {
  const auto created = Create("partner-a", "r1");
  v1::GetInvitationRequest get;
  get.set_id(created.invitation().id());
  v1::Invitation resp;

  auto none = Ctx("");
  EXPECT_EQ(stub_->GetInvitation(none.get(), get, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto usgov = Ctx(Token("partner-a", "partner_admin", "usgov"));
  EXPECT_EQ(stub_->GetInvitation(usgov.get(), get, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto foreign = Ctx(Token("partner-b", "partner_admin"));
  const grpc::Status denied = stub_->GetInvitation(foreign.get(), get, &resp);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(resp.id(), "");  // no data
  auto garbage = Ctx("not.a.jwt");
  EXPECT_EQ(stub_->GetInvitation(garbage.get(), get, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto own = Ctx(Token("partner-a", "partner_admin"));
  ASSERT_TRUE(stub_->GetInvitation(own.get(), get, &resp).ok());
  EXPECT_EQ(resp.id(), created.invitation().id());
}

TEST_F(InvitationGrpcTest, ClientsSeeTheFieldAndReasonOfABadRequest) {
  v1::CreateInvitationRequest req;
  req.set_request_id("r");
  req.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  req.mutable_customer_hint()->set_email_domain("bad_domain.com");
  v1::CreateInvitationResponse resp;
  auto ctx = Ctx(Token("partner-a", "partner_admin"));
  const grpc::Status status = stub_->CreateInvitation(ctx.get(), req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "customer_hint.email_domain: is not a valid domain name");
  const absl::Status back = pc::FromGrpcStatus(status);
  EXPECT_EQ(pc::ReasonOf(back), pc::reason::kInvalidField);
  EXPECT_EQ(pc::ReasonMetadataOf(back).at("field"), "customer_hint.email_domain");
}

}  // namespace
}  // namespace pc::invitation
