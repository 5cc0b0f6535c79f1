// GrpcEligibilityChecker against an in-process RelationshipService double: the answers it maps,
// the caller's token it forwards, and its retries on UNAVAILABLE.
#include "eligibility.h"

#include <atomic>

#include "gtest/gtest.h"
#include "pc/auth/grpc_auth.h"
#include "pc/common/errors.h"
#include "pc/testing/grpc_server.h"
#include "pc/testing/status_matchers.h"

namespace pc::invitation {
namespace {

namespace common = partnercenter::common::v1;
namespace rel = partnercenter::relationship::v1;
using ::pc::testing::StatusIs;
using Code = absl::StatusCode;

class FakeRelationships final : public rel::RelationshipService::Service {
 public:
  grpc::Status GetRelationship(grpc::ServerContext* ctx, const rel::GetRelationshipRequest* req,
                               rel::Relationship* resp) override {
    ++calls;
    last_token = pc::auth::BearerTokenOf(*ctx);
    if (unavailable_left > 0) {
      --unavailable_left;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again");
    }
    if (state == common::RELATIONSHIP_STATE_UNSPECIFIED) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such relationship");
    }
    resp->set_partner_id(req->partner_id());
    resp->set_customer_id(req->customer_id());
    resp->set_state(state);
    resp->set_admin_access(admin);
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
  std::atomic<int> unavailable_left{0};
  std::string last_token;
  common::RelationshipState state = common::RELATIONSHIP_STATE_UNSPECIFIED;
  common::AdminAccess admin = common::ADMIN_ACCESS_UNSPECIFIED;
};

class EligibilityTest : public ::testing::Test {
 protected:
  absl::Status Check(common::InvitationKind kind) {
    CallContext call{{.subject = "u", .tenant_id = "p1", .cloud = "global",
                      .roles = {"partner_admin"}},
                     "corr",
                     "the-partners-token"};
    return checker_.Check(call, "p1", "c1", kind);
  }
  FakeRelationships fake_;
  pc::testing::InProcessServer server_{{&fake_}};
  GrpcEligibilityChecker checker_{server_.Channel(), absl::Seconds(5)};
};

TEST_F(EligibilityTest, NoRelationshipIsEligibleAndTheCallersTokenIsForwarded) {
  EXPECT_OK(Check(common::INVITATION_KIND_RESELLER_RELATIONSHIP));
  EXPECT_EQ(fake_.last_token, "the-partners-token");
}

TEST_F(EligibilityTest, WithAServiceTokenItCallsAsTheInvitationServiceItself) {
  GrpcEligibilityChecker own(server_.Channel(), absl::Seconds(5), 3,
                             []() -> absl::StatusOr<std::string> { return "the-service-token"; });
  CallContext call{{.subject = "u", .tenant_id = "c1", .cloud = "global",
                    .roles = {"customer_admin"}},
                   "corr", "the-customers-token"};
  EXPECT_OK(own.Check(call, "p1", "c1", common::INVITATION_KIND_RESELLER_RELATIONSHIP));
  EXPECT_EQ(fake_.last_token, "the-service-token");
  GrpcEligibilityChecker broken(server_.Channel(), absl::Seconds(5), 3,
                                []() -> absl::StatusOr<std::string> {
                                  return absl::FailedPreconditionError("no token file");
                                });
  const int before = fake_.calls;
  EXPECT_THAT(broken.Check(call, "p1", "c1", common::INVITATION_KIND_RESELLER_RELATIONSHIP),
              StatusIs(Code::kUnavailable));
  EXPECT_EQ(fake_.calls, before) << "no call without the service's own identity";
}

TEST_F(EligibilityTest, AnActiveRelationshipRefusesANewResellerInvitation) {
  fake_.state = common::RELATIONSHIP_STATE_ACTIVE;
  fake_.admin = common::ADMIN_ACCESS_REVOKED;
  EXPECT_THAT(Check(common::INVITATION_KIND_RESELLER_RELATIONSHIP),
              StatusIs(Code::kAlreadyExists, pc::reason::kRelationshipExists));
  EXPECT_OK(Check(common::INVITATION_KIND_ADMIN_RESTORE));
}

TEST_F(EligibilityTest, RestoreNeedsAnActiveRelationshipWithoutAdmin) {
  EXPECT_THAT(Check(common::INVITATION_KIND_ADMIN_RESTORE),
              StatusIs(Code::kFailedPrecondition, pc::reason::kRelationshipNotActive));
  fake_.state = common::RELATIONSHIP_STATE_ACTIVE;
  fake_.admin = common::ADMIN_ACCESS_GRANTED;
  EXPECT_THAT(Check(common::INVITATION_KIND_ADMIN_RESTORE),
              StatusIs(Code::kFailedPrecondition, pc::reason::kAdminPermissionAlreadyGranted));
  fake_.state = common::RELATIONSHIP_STATE_REMOVED;
  EXPECT_OK(Check(common::INVITATION_KIND_RESELLER_RELATIONSHIP)) << "a removed one may be re-established";
}

TEST_F(EligibilityTest, UnavailableIsRetriedThenReported) {
  fake_.state = common::RELATIONSHIP_STATE_ACTIVE;
  fake_.unavailable_left = 2;
  EXPECT_THAT(Check(common::INVITATION_KIND_RESELLER_RELATIONSHIP),
              StatusIs(Code::kAlreadyExists));
  EXPECT_EQ(fake_.calls.load(), 3);
  fake_.unavailable_left = 5;
  EXPECT_THAT(Check(common::INVITATION_KIND_RESELLER_RELATIONSHIP), StatusIs(Code::kUnavailable));
  EXPECT_EQ(fake_.calls.load(), 6) << "three attempts, then give up";
}

}  // namespace
}  // namespace pc::invitation
