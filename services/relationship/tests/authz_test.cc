// The authorization matrix, generated over every RelationshipService RPC × {own tenant,
// foreign partner, foreign customer, wrong cloud, wrong role}, through a real in-process gRPC
// server with real JWT verification. Foreign access is always denied, returns no data and
// writes nothing; the owner is never denied.
#include <functional>
#include <map>
#include <set>

#include "fixture.h"
#include "grpc_service.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/testing/grpc_server.h"

namespace pc::relationship::testing {
namespace {

namespace common = partnercenter::common::v1;
using Stub = v1::RelationshipService::Stub;

struct Rpc {
  std::string name;
  // Who owns the object the call touches: "partner" (partner-a) or "customer" (customer-1).
  std::string owner;
  // Makes the call; returns the status and the serialized response.
  std::function<std::pair<grpc::Status, std::string>(Stub&, grpc::ClientContext&)> call;
};

template <typename Req, typename Resp>
std::function<std::pair<grpc::Status, std::string>(Stub&, grpc::ClientContext&)> Call(
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
    std::function<void(Req&)> fill) {
  return [method, fill](Stub& stub, grpc::ClientContext& ctx) {
    Req req;
    fill(req);
    Resp resp;
    grpc::Status s = (stub.*method)(&ctx, req, &resp);
    return std::make_pair(s, resp.SerializeAsString());
  };
}

std::string Rid() { return pc::NewUuid(); }

std::vector<Rpc> AllRpcs(const std::string& service_id) {
  using namespace v1;  // NOLINT
  return {
      {"GetRelationship", "partner", Call<GetRelationshipRequest, Relationship>(&Stub::GetRelationship, [](auto& r) {
         r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"ListRelationships", "partner", Call<ListRelationshipsRequest, ListRelationshipsResponse>(&Stub::ListRelationships, [](auto& r) {
         r.set_partner_id("partner-a"); })},
      {"ListPartners", "customer", Call<ListPartnersRequest, ListRelationshipsResponse>(&Stub::ListPartners, [](auto& r) {
         r.set_customer_id("customer-1"); })},
      {"GetCustomerRecord", "partner", Call<GetCustomerRecordRequest, CustomerRecord>(&Stub::GetCustomerRecord, [](auto& r) {
         r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"RevokeAdminPermission", "customer", Call<RevokeAdminPermissionRequest, Relationship>(&Stub::RevokeAdminPermission, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"ReassignAdminPermission", "customer", Call<ReassignAdminPermissionRequest, ReassignAdminPermissionResponse>(&Stub::ReassignAdminPermission, [](auto& r) {
         r.set_request_id(Rid()); r.set_from_partner_id("partner-a"); r.set_to_partner_id("partner-b"); r.set_customer_id("customer-1"); })},
      {"RequestAdminRestore", "partner", Call<RequestAdminRestoreRequest, RequestAdminRestoreResponse>(&Stub::RequestAdminRestore, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"ProvisionService", "partner", Call<ProvisionServiceRequest, common::CustomerService>(&Stub::ProvisionService, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1");
         r.set_offer_id("OFFER"); r.set_display_name("Offer"); r.set_license_quantity(3); })},
      {"ChangeService", "partner", Call<ChangeServiceRequest, common::CustomerService>(&Stub::ChangeService, [service_id](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1");
         r.set_service_id(service_id); r.set_action(SERVICE_CHANGE_ACTION_SET_LICENSES); r.set_license_quantity(9); })},
      {"CreateUser", "partner", Call<CreateUserRequest, CustomerUser>(&Stub::CreateUser, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1");
         r.set_user_principal_name(Rid().substr(0, 8) + "@customer-1.example.com"); r.set_display_name("U"); })},
      {"ListUsers", "partner", Call<ListUsersRequest, ListUsersResponse>(&Stub::ListUsers, [](auto& r) {
         r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"OpenServiceRequest", "partner", Call<OpenServiceRequestRequest, common::ServiceRequest>(&Stub::OpenServiceRequest, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1");
         r.set_title("Help"); r.set_severity(common::SERVICE_REQUEST_SEVERITY_LOW); })},
      {"AssignSupportContact", "partner", Call<AssignSupportContactRequest, Relationship>(&Stub::AssignSupportContact, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1");
         r.mutable_contact()->set_partner_id("partner-a"); r.mutable_contact()->set_name("Sam");
         r.mutable_contact()->set_email("sam@partner-a.example.com"); })},
      {"RemoveRelationship", "partner", Call<RemoveRelationshipRequest, Relationship>(&Stub::RemoveRelationship, [](auto& r) {
         r.set_request_id(Rid()); r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"ListHistory", "partner", Call<ListHistoryRequest, ListHistoryResponse>(&Stub::ListHistory, [](auto& r) {
         r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
      {"CheckAdminAccess", "partner", Call<CheckAdminAccessRequest, CheckAdminAccessResponse>(&Stub::CheckAdminAccess, [](auto& r) {
         r.set_partner_id("partner-a"); r.set_customer_id("customer-1"); })},
  };
}

struct Subject {
  std::string name;
  std::string tenant;  // "" = the RPC's owner tenant
  std::string role;    // "" = the owner's proper role
  std::string cloud;
  bool denied;
};

class AuthorizationMatrixTest : public RelationshipFixture {
 protected:
  void SetUp() override {
    RelationshipFixture::SetUp();
    auto pair = pc::auth::GenerateKeyPair();
    ASSERT_TRUE(pair.ok());
    pc::auth::KeySet keys;
    ASSERT_OK(keys.Add("k1", pair->public_key_pem));
    auto verifier = pc::auth::Verifier::Create(
        {.issuer = "pc-test", .audience = "partnercenter", .cloud = "global"}, keys);
    ASSERT_OK(verifier.status());
    verifier_ = std::make_unique<pc::auth::Verifier>(*std::move(verifier));
    auto minter = pc::auth::Minter::Create(
        {.private_key_pem = pair->private_key_pem, .kid = "k1", .issuer = "pc-test",
         .audience = "partnercenter"});
    ASSERT_OK(minter.status());
    minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
    service_ = std::make_unique<RelationshipGrpcService>(*domain_, *verifier_, clock_);
    server_ = std::make_unique<pc::testing::InProcessServer>(
        std::vector<grpc::Service*>{service_.get()});
    stub_ = v1::RelationshipService::NewStub(server_->Channel());

    Establish("partner-a", "customer-1", true);
    Establish("partner-b", "customer-1", false);
    Establish("partner-x", "customer-9", true);  // the foreign tenants have data of their own
    ASSERT_OK_AND_ASSIGN(common::CustomerService s, Provision());
    service_id_ = s.id();
  }

  std::string Token(const std::string& tenant, const std::string& role, const std::string& cloud,
                    const std::string& subject = "") {
    auto t = minter_->Mint({.subject = subject.empty() ? "u-" + tenant : subject,
                            .tenant_id = tenant, .cloud = cloud,
                            .roles = {role}},
                           absl::Hours(1), clock_.Now());
    EXPECT_OK(t.status());
    return t.value_or("");
  }

  std::unique_ptr<pc::auth::Verifier> verifier_;
  std::unique_ptr<pc::auth::Minter> minter_;
  std::unique_ptr<RelationshipGrpcService> service_;
  std::unique_ptr<pc::testing::InProcessServer> server_;
  std::unique_ptr<Stub> stub_;
  std::string service_id_;
};

TEST_F(AuthorizationMatrixTest, ForeignAccessIsDeniedWithoutDataAndTheOwnerIsNot) {
  const std::set<grpc::StatusCode> denials = {grpc::StatusCode::NOT_FOUND,
                                              grpc::StatusCode::PERMISSION_DENIED,
                                              grpc::StatusCode::UNAUTHENTICATED};
  int checked = 0;
  for (const Rpc& rpc : AllRpcs(service_id_)) {
    const bool partner_owned = rpc.owner == "partner";
    const std::string owner = partner_owned ? "partner-a" : "customer-1";
    const std::string owner_role = partner_owned ? "partner_admin" : "customer_admin";
    const std::vector<Subject> subjects = {
        {"foreign partner", "partner-x", "partner_admin", "global", true},
        {"foreign partner agent", "partner-x", "partner_agent", "global", true},
        {"foreign customer", "customer-9", "customer_admin", "global", true},
        {"wrong cloud", owner, owner_role, "usgov", true},
        {"wrong role", owner, partner_owned ? "customer_admin" : "partner_admin", "global", true},
        {"no role", owner, "auditor", "global", true},
        {"own tenant", owner, owner_role, "global", false},
    };
    for (const Subject& subject : subjects) {
      SCOPED_TRACE(rpc.name + " as " + subject.name);
      const std::string before = Snapshot();
      grpc::ClientContext ctx;
      pc::auth::AttachBearerToken(&ctx, Token(subject.tenant, subject.role, subject.cloud));
      auto [status, response] = rpc.call(*stub_, ctx);
      if (subject.denied) {
        EXPECT_TRUE(denials.count(status.error_code()))
            << "code " << status.error_code() << ": " << status.error_message();
        EXPECT_TRUE(response.empty()) << "a denied call returned data";
        EXPECT_EQ(Snapshot(), before) << "a denied call wrote something";
      } else {
        EXPECT_FALSE(denials.count(status.error_code()))
            << "the owner was denied: " << status.error_message();
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16 * 7);
}

// Caller × RPC for service identities (docs/security.md): each RPC admits only the services
// that need it; a `service` role outside the platform tenant, or naming no known service, is
// admitted nowhere. The reported hole — a tenant's `service` token reading every customer
// record and provisioning on any relationship — is the "tenant's service app" row.
TEST_F(AuthorizationMatrixTest, ServiceIdentitiesReachOnlyTheRpcsTheyNeed) {
  const std::map<std::string, std::set<std::string>> admitted = {
      {"GetRelationship", {"invitation"}},
      {"CheckAdminAccess", {"invitation", "relationship", "notification", "portal"}},
  };
  struct Caller {
    std::string name;
    std::string tenant;
    std::string subject;
  };
  const std::vector<Caller> callers = {
      {"invitation", "partnercenter", "invitation"},
      {"relationship", "partnercenter", "relationship"},
      {"notification", "partnercenter", "notification"},
      {"portal", "partnercenter", "portal"},
      {"tenant's service app", "x-svc", "invitation"},
      {"unknown service", "partnercenter", "svc"},
  };
  int checked = 0;
  for (const Rpc& rpc : AllRpcs(service_id_)) {
    for (const Caller& caller : callers) {
      SCOPED_TRACE(rpc.name + " as " + caller.name);
      const auto it = admitted.find(rpc.name);
      const bool admit = it != admitted.end() && it->second.count(caller.name) > 0;
      const std::string before = Snapshot();
      grpc::ClientContext ctx;
      pc::auth::AttachBearerToken(&ctx, Token(caller.tenant, "service", "global", caller.subject));
      auto [status, response] = rpc.call(*stub_, ctx);
      if (admit) {
        EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
        EXPECT_FALSE(response.empty());
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
        EXPECT_TRUE(response.empty()) << "a denied call returned data";
        EXPECT_EQ(Snapshot(), before) << "a denied call wrote something";
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16 * 6);
}

TEST_F(AuthorizationMatrixTest, MissingOrForgedTokensAreUnauthenticated) {
  grpc::ClientContext none;
  v1::CheckAdminAccessRequest req;
  req.set_partner_id("partner-a");
  req.set_customer_id("customer-1");
  v1::CheckAdminAccessResponse resp;
  EXPECT_EQ(stub_->CheckAdminAccess(&none, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext forged;
  std::string token = Token("partner-a", "partner_admin", "global");
  // Change a character in the middle of the signature (the last one may be padding bits).
  const size_t i = token.rfind('.') + 10;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  pc::auth::AttachBearerToken(&forged, token);
  EXPECT_EQ(stub_->CheckAdminAccess(&forged, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace pc::relationship::testing
