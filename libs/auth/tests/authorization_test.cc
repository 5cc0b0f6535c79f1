#include "pc/auth/authorization.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/common/errors.h"

namespace pc::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Claims WithRoles(std::vector<std::string> roles, std::string tenant = "partner-1") {
  return {.subject = "u", .tenant_id = std::move(tenant), .cloud = kCloudGlobal,
          .roles = std::move(roles)};
}

TEST(ClaimsTest, RoleAndCloudHelpers) {
  Claims claims = WithRoles({kRolePartnerAgent, "auditor"});
  EXPECT_TRUE(claims.HasRole(kRolePartnerAgent));
  EXPECT_TRUE(claims.HasRole("auditor"));
  EXPECT_FALSE(claims.HasRole(kRolePartnerAdmin));
  EXPECT_FALSE(claims.HasRole("partner"));
  EXPECT_TRUE(claims.HasAnyRole({kRolePartnerAdmin, kRolePartnerAgent}));
  EXPECT_FALSE(claims.HasAnyRole({kRolePartnerAdmin, kRoleService}));
  EXPECT_FALSE(claims.HasAnyRole({}));
  for (const char* cloud : {"global", "usgov", "germany"}) EXPECT_TRUE(IsValidCloud(cloud));
  for (const char* cloud : {"", "Global", "china", "us-gov"}) EXPECT_FALSE(IsValidCloud(cloud));
}

// RequireRole for a caller holding `held` when a call accepts any of {admin, agent}.
TEST(RequireRoleTest, PartnerReadMatrix) {
  struct Case {
    std::vector<std::string> held;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {{kRolePartnerAdmin}, absl::StatusCode::kOk},
      {{kRolePartnerAgent}, absl::StatusCode::kOk},
      {{kRoleCustomerAdmin, kRolePartnerAgent}, absl::StatusCode::kOk},
      {{kRoleCustomerAdmin}, absl::StatusCode::kPermissionDenied},
      {{"PARTNER_ADMIN"}, absl::StatusCode::kPermissionDenied},
      {{}, absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    absl::Status status = RequireRole(WithRoles(c.held), {kRolePartnerAdmin, kRolePartnerAgent});
    std::string held = ::testing::PrintToString(c.held);
    EXPECT_EQ(status.code(), c.code) << held;
    if (!status.ok()) {
      EXPECT_EQ(pc::ReasonOf(status), pc::reason::kMissingRole) << held;
      EXPECT_EQ(pc::ReasonMetadataOf(status).at("required_roles"), "partner_admin,partner_agent");
    }
  }
}

TEST(RequireRoleTest, SingleRoleAndEmptyList) {
  EXPECT_TRUE(RequireRole(WithRoles({kRoleCustomerAdmin}), {kRoleCustomerAdmin}).ok());
  absl::Status agent = RequireRole(WithRoles({kRolePartnerAgent}), {kRolePartnerAdmin});
  EXPECT_EQ(agent.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(pc::ReasonOf(agent), pc::reason::kMissingRole);
  EXPECT_EQ(pc::ReasonMetadataOf(agent).at("required_roles"), "partner_admin");
  absl::Status none = RequireRole(WithRoles({kRolePartnerAdmin}), {});
  EXPECT_EQ(none.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(pc::ReasonOf(none), pc::reason::kMissingRole);
}

TEST(RequireTenantTest, Matrix) {
  struct Case {
    std::string name;
    std::string token_tenant;
    std::vector<std::string> roles;
    std::string object_tenant;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"SameTenantAdmin", "partner-1", {kRolePartnerAdmin}, "partner-1", absl::StatusCode::kOk},
      {"SameTenantAgent", "partner-1", {kRolePartnerAgent}, "partner-1", absl::StatusCode::kOk},
      {"SameTenantCustomer", "cust-1", {kRoleCustomerAdmin}, "cust-1", absl::StatusCode::kOk},
      {"OtherTenant", "partner-1", {kRolePartnerAdmin}, "partner-2",
       absl::StatusCode::kPermissionDenied},
      {"PrefixIsNotEqual", "partner-1", {kRolePartnerAdmin}, "partner-10",
       absl::StatusCode::kPermissionDenied},
      {"CaseMatters", "partner-1", {kRolePartnerAdmin}, "PARTNER-1",
       absl::StatusCode::kPermissionDenied},
      {"EmptyObjectTenant", "partner-1", {kRolePartnerAdmin}, "",
       absl::StatusCode::kPermissionDenied},
      {"CustomerOnPartnerObject", "cust-1", {kRoleCustomerAdmin}, "partner-1",
       absl::StatusCode::kPermissionDenied},
      {"ServiceAnyTenant", kPlatformTenant, {kRoleService}, "partner-2", absl::StatusCode::kOk},
      {"ServiceEmptyTenant", kPlatformTenant, {kRoleService}, "", absl::StatusCode::kOk},
      // The reported hole: a `service` role under a tenant's own tid is no service identity.
      {"ServiceRoleOfATenant", "x-svc", {kRoleService}, "partner-2",
       absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    Claims claims = WithRoles(c.roles, c.token_tenant);
    if (c.token_tenant == kPlatformTenant) claims.subject = kServiceInvitation;
    absl::Status status = RequireTenant(claims, c.object_tenant);
    EXPECT_EQ(status.code(), c.code) << c.name;
    if (!status.ok()) {
      EXPECT_EQ(pc::ReasonOf(status), pc::reason::kWrongTenant) << c.name;
      std::string message(status.message());
      EXPECT_THAT(message, Not(HasSubstr(c.token_tenant))) << c.name;
      if (!c.object_tenant.empty()) {
        EXPECT_THAT(message, Not(HasSubstr(c.object_tenant))) << c.name;
      }
    }
  }
}

Claims Service(std::string sub, std::string tid = kPlatformTenant,
               std::vector<std::string> roles = {kRoleService}) {
  return {.subject = std::move(sub), .tenant_id = std::move(tid), .cloud = kCloudGlobal,
          .roles = std::move(roles)};
}

TEST(ServiceIdentityTest, OnlyKnownServicesOfThePlatformTenant) {
  EXPECT_EQ(ServiceOf(Service("invitation")), "invitation");
  EXPECT_EQ(ServiceOf(Service("relationship")), "relationship");
  EXPECT_EQ(ServiceOf(Service("notification")), "notification");
  EXPECT_EQ(ServiceOf(Service("portal")), "portal");
  EXPECT_EQ(ServiceOf(Service("svc")), "");                              // unknown name
  EXPECT_EQ(ServiceOf(Service("Invitation")), "");                       // case matters
  EXPECT_EQ(ServiceOf(Service("invitation", "x-svc")), "");              // a tenant's app
  EXPECT_EQ(ServiceOf(Service("invitation", kPlatformTenant, {kRolePartnerAdmin})), "");
}

TEST(RequireCallerTest, Matrix) {
  struct Case {
    std::string name;
    Claims claims;
    absl::StatusCode code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"AdmittedUserRole", WithRoles({kRolePartnerAdmin}), absl::StatusCode::kOk, ""},
      {"OtherUserRole", WithRoles({kRoleCustomerAdmin}), absl::StatusCode::kPermissionDenied,
       pc::reason::kMissingRole},
      {"AdmittedService", Service("invitation"), absl::StatusCode::kOk, ""},
      {"OtherService", Service("notification"), absl::StatusCode::kPermissionDenied,
       pc::reason::kCallerNotAdmitted},
      {"ServiceRoleOfATenant", Service("invitation", "x-svc"), absl::StatusCode::kPermissionDenied,
       pc::reason::kCallerNotAdmitted},
      {"UnknownServiceName", Service("svc"), absl::StatusCode::kPermissionDenied,
       pc::reason::kCallerNotAdmitted},
      // A service token's user roles grant nothing.
      {"ServiceWithUserRole", Service("svc", "x-svc", {kRoleService, kRolePartnerAdmin}),
       absl::StatusCode::kPermissionDenied, pc::reason::kCallerNotAdmitted},
  };
  for (const Case& c : cases) {
    absl::Status status = RequireCaller(c.claims, {kRolePartnerAdmin}, {kServiceInvitation});
    EXPECT_EQ(status.code(), c.code) << c.name;
    if (!status.ok()) {
      EXPECT_EQ(pc::ReasonOf(status), c.reason) << c.name;
    }
  }
  absl::Status none = RequireCaller(Service("invitation"), {kRolePartnerAdmin}, {});
  EXPECT_EQ(pc::ReasonOf(none), pc::reason::kCallerNotAdmitted);
  EXPECT_EQ(pc::ReasonMetadataOf(none).at("admitted_services"), "");
  // RequireRole alone never lets a service token pass as a user.
  for (const Claims& service : {Service("invitation"), Service("svc", "x-svc", {kRoleService, kRolePartnerAdmin})}) {
    absl::Status s = RequireRole(service, {kRolePartnerAdmin, kRolePartnerAgent});
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(pc::ReasonOf(s), pc::reason::kCallerNotAdmitted);
  }
}

TEST(ClaimsTest, VerifiedDomainsMatchIgnoringCase) {
  Claims claims = WithRoles({kRoleCustomerAdmin});
  EXPECT_FALSE(claims.HasVerifiedDomain("contoso.com"));
  claims.verified_domains = {"Contoso.com", "fabrikam.example"};
  EXPECT_TRUE(claims.HasVerifiedDomain("contoso.com"));
  EXPECT_TRUE(claims.HasVerifiedDomain("FABRIKAM.example"));
  EXPECT_FALSE(claims.HasVerifiedDomain("sub.contoso.com"));
  EXPECT_FALSE(claims.HasVerifiedDomain(""));
}

}  // namespace
}  // namespace pc::auth
