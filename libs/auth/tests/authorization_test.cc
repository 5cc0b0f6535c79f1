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
      {{kRoleService}, absl::StatusCode::kPermissionDenied},
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
      {"ServiceAnyTenant", "internal", {kRoleService}, "partner-2", absl::StatusCode::kOk},
      {"ServiceEmptyTenant", "internal", {kRoleService}, "", absl::StatusCode::kOk},
  };
  for (const Case& c : cases) {
    absl::Status status = RequireTenant(WithRoles(c.roles, c.token_tenant), c.object_tenant);
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

}  // namespace
}  // namespace pc::auth
