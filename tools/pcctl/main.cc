// pcctl: a command line over the Partner Center gRPC APIs. Every answer is printed as JSON.
//
//   pcctl dev-keys                                   # .local/jwt/dev-1.{key,pub}.pem (local runs)
//   pcctl token --tenant=partner-1 --role=partner_admin
//   pcctl invite --as=partner-1 --domain=contoso.com --admin --message="Hello"
//   pcctl invitations list --as=partner-1 [--state=PENDING]
//   pcctl preview <link-or-token> --as=customer-1
//   pcctl accept <link-or-token> --as=customer-1 --company="Contoso" --domain=contoso.com
//   pcctl decline <link-or-token> --as=customer-1 --reason="No thanks"
//   pcctl cancel <invitation-id> --as=partner-1
//   pcctl resend <invitation-id> --as=partner-1
//   pcctl events tail invitation-events --json       # one event per line (events.cc)
//
// Identity: --token=<jwt> (or PC_TOKEN), or --as=<tenant> to mint a short-lived dev token with
// the dev key in --jwt_keys_dir (local runs only; the role follows the command).
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "pc/auth/grpc_auth.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"
#include "pcctl.h"


ABSL_FLAG(std::string, invitation_addr, pc::EnvOr("PC_INVITATION_ADDR", "127.0.0.1:50051"),
          "InvitationService address (env PC_INVITATION_ADDR)");
ABSL_FLAG(std::string, token, pc::EnvOr("PC_TOKEN", ""), "Bearer token (env PC_TOKEN)");
ABSL_FLAG(std::string, as, "", "Mint a dev token for this tenant (local runs)");
ABSL_FLAG(std::string, role, "", "Role for `token` / --as (default: what the command needs)");
ABSL_FLAG(std::string, tenant, "", "Tenant for `token`");
ABSL_FLAG(std::string, name, "", "Display name claim for `token` / --as");
ABSL_FLAG(std::string, subject, "",
          "`sub` of a minted token (default <role>@<tenant>); a service token names its "
          "service: token --tenant=partnercenter --role=service --subject=invitation");
ABSL_FLAG(std::string, verified_domains, "",
          "Comma-separated `verified_domains` claim of a minted token (what the identity "
          "provider verified the tenant owns; satisfies email-domain hints)");
ABSL_FLAG(std::string, cloud, pc::EnvOr("PC_CLOUD", "global"), "Cloud claim (env PC_CLOUD)");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(8), "Lifetime of a minted token");
ABSL_FLAG(std::string, jwt_keys_dir, pc::EnvOr("PC_JWT_KEYS_DIR", ".local/jwt"),
          "Where the dev key pair lives (env PC_JWT_KEYS_DIR)");
ABSL_FLAG(std::string, jwt_kid, "dev-1", "Dev key id");
ABSL_FLAG(std::string, jwt_issuer, "partnercenter-dev", "Issuer of minted tokens");
ABSL_FLAG(std::string, jwt_audience, "partnercenter", "Audience of minted tokens");
ABSL_FLAG(std::string, request_id, "", "Idempotency key (default: a new UUID)");
ABSL_FLAG(std::string, domain, "", "Customer email domain (invite hint; accept profile)");
ABSL_FLAG(std::string, customer, "", "Customer tenant id (invite hint)");
ABSL_FLAG(bool, admin, false, "invite: include delegated admin permission");
ABSL_FLAG(bool, restore, false, "invite: ADMIN_RESTORE instead of RESELLER_RELATIONSHIP");
ABSL_FLAG(std::string, reseller, "", "invite: indirect reseller id (two-tier)");
ABSL_FLAG(std::string, message, "", "invite: personal note in the email");
ABSL_FLAG(std::string, locale, "", "invite/resend: en or pt-BR");
ABSL_FLAG(int32_t, validity_days, 0, "invite: link validity (1–90, 0 = default)");
ABSL_FLAG(std::string, state, "", "invitations list: filter by state, e.g. PENDING");
ABSL_FLAG(int32_t, page_size, 0, "list: page size (1–200)");
ABSL_FLAG(std::string, page_token, "", "list: page token from a previous answer");
ABSL_FLAG(std::string, company, "", "accept: company name");
ABSL_FLAG(std::string, country, "BR", "accept: ISO country code");
ABSL_FLAG(std::string, reason, "", "decline/cancel: reason");

namespace {

namespace v1 = partnercenter::invitation::v1;
namespace common = partnercenter::common::v1;

using pcctl::Fail;
using pcctl::Mint;

// A token from a link ".../invitations/accept?token=X" or the bare token.
std::string TokenFromLinkOrToken(const std::string& s) {
  const size_t at = s.find("token=");
  if (at == std::string::npos) return s;
  const std::string rest = s.substr(at + 6);
  return rest.substr(0, rest.find('&'));
}

using pcctl::RequestId;

template <typename Resp, typename Call>
int Run(const std::string& role, Call call) {
  return pcctl::Invoke<v1::InvitationService, Resp>(absl::GetFlag(FLAGS_invitation_addr), role,
                                                     std::move(call));
}

int Usage() {
  std::cerr << "usage: pcctl <dev-keys | token | invite | invitations list | invitations get ID |"
               " preview LINK | accept LINK | decline LINK | cancel ID | resend ID |\n"
               "              customers list | customer show | partners list | revoke | reassign |"
               " restore | provision | service change | users [create] | support-contact |"
               " service-request | remove | check-access | history |\n"
               "              customers page | partners page | watch customers | watch partners |"
               " events tail TOPIC | kafka acls add> [flags]\n"
               "       pcctl --help for every flag\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "pcctl <command> [args] [--flags]; commands: pcctl with no arguments; see "
      "tools/pcctl/README.md");
  // --help and --helpshort list pcctl's own flags (absl's default looks for a file named
  // pcctl.cc or pcctl_main.cc, so it matched none: "No flags matched").
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "tools/pcctl/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) return Usage();
  const std::string cmd = args[0];
  const std::string arg1 = args.size() > 1 ? args[1] : "";

  if (const int rc = pcctl::RunRelationshipCommand(args); rc >= 0) return rc;
  if (const int rc = pcctl::RunNotificationCommand(args); rc >= 0) return rc;
  if (const int rc = pcctl::RunEventsCommand(args); rc >= 0) return rc;
  if (const int rc = pcctl::RunKafkaCommand(args); rc >= 0) return rc;
  if (cmd == "dev-keys") {
    auto paths = pc::auth::GenerateDevKeyPair(absl::GetFlag(FLAGS_jwt_keys_dir),
                                              absl::GetFlag(FLAGS_jwt_kid));
    if (absl::IsAlreadyExists(paths.status())) {
      std::cout << "dev keys already in " << absl::GetFlag(FLAGS_jwt_keys_dir) << "\n";
      return 0;
    }
    if (!paths.ok()) return Fail(paths.status().ToString());
    std::cout << "wrote " << paths->private_key_path << " and " << paths->public_key_path << "\n";
    return 0;
  }
  if (cmd == "token") {
    if (absl::GetFlag(FLAGS_tenant).empty() || absl::GetFlag(FLAGS_role).empty()) {
      return Fail("token needs --tenant and --role");
    }
    auto token = Mint(absl::GetFlag(FLAGS_tenant), absl::GetFlag(FLAGS_role));
    if (!token.ok()) return Fail(token.status().ToString());
    std::cout << *token << "\n";
    return 0;
  }
  if (cmd == "invite") {
    return Run<v1::CreateInvitationResponse>(
        "partner_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::CreateInvitationRequest req;
          req.set_request_id(RequestId());
          req.set_kind(absl::GetFlag(FLAGS_restore) ? common::INVITATION_KIND_ADMIN_RESTORE
                                                    : common::INVITATION_KIND_RESELLER_RELATIONSHIP);
          req.set_include_admin_permission(absl::GetFlag(FLAGS_admin));
          req.set_indirect_reseller_id(absl::GetFlag(FLAGS_reseller));
          if (!absl::GetFlag(FLAGS_customer).empty()) {
            req.mutable_customer_hint()->set_tenant_id(absl::GetFlag(FLAGS_customer));
          } else if (!absl::GetFlag(FLAGS_domain).empty()) {
            req.mutable_customer_hint()->set_email_domain(absl::GetFlag(FLAGS_domain));
          }
          req.set_message(absl::GetFlag(FLAGS_message));
          req.set_locale(absl::GetFlag(FLAGS_locale));
          req.set_validity_days(absl::GetFlag(FLAGS_validity_days));
          req.set_partner_display_name(absl::GetFlag(FLAGS_name));
          return s.CreateInvitation(c, req, r);
        });
  }
  if (cmd == "invitations" && arg1 == "list") {
    return Run<v1::ListInvitationsResponse>(
        "partner_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::ListInvitationsRequest req;
          req.set_page_size(absl::GetFlag(FLAGS_page_size));
          req.set_page_token(absl::GetFlag(FLAGS_page_token));
          if (!absl::GetFlag(FLAGS_state).empty()) {
            common::InvitationState state;
            if (common::InvitationState_Parse("INVITATION_STATE_" + absl::GetFlag(FLAGS_state),
                                              &state)) {
              req.add_states(state);
            } else {
              req.add_states(static_cast<common::InvitationState>(-1));  // server names it
            }
          }
          return s.ListInvitations(c, req, r);
        });
  }
  if (cmd == "invitations" && arg1 == "get" && args.size() > 2) {
    return Run<v1::Invitation>(
        "partner_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::GetInvitationRequest req;
          req.set_id(args[2]);
          return s.GetInvitation(c, req, r);
        });
  }
  if (cmd == "preview" && !arg1.empty()) {
    return Run<v1::InvitationPreview>(
        "customer_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::PreviewInvitationRequest req;
          req.set_token(TokenFromLinkOrToken(arg1));
          return s.PreviewInvitation(c, req, r);
        });
  }
  if (cmd == "accept" && !arg1.empty()) {
    return Run<v1::AcceptInvitationResponse>(
        "customer_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::AcceptInvitationRequest req;
          req.set_request_id(RequestId());
          req.set_token(TokenFromLinkOrToken(arg1));
          auto* profile = req.mutable_customer_profile();
          profile->set_company_name(absl::GetFlag(FLAGS_company));
          profile->set_primary_domain(absl::GetFlag(FLAGS_domain));
          profile->set_country(absl::GetFlag(FLAGS_country));
          return s.AcceptInvitation(c, req, r);
        });
  }
  if (cmd == "decline" && !arg1.empty()) {
    return Run<v1::Invitation>(
        "customer_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::DeclineInvitationRequest req;
          req.set_request_id(RequestId());
          req.set_token(TokenFromLinkOrToken(arg1));
          req.set_reason(absl::GetFlag(FLAGS_reason));
          return s.DeclineInvitation(c, req, r);
        });
  }
  if (cmd == "cancel" && !arg1.empty()) {
    return Run<v1::Invitation>(
        "partner_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::CancelInvitationRequest req;
          req.set_request_id(RequestId());
          req.set_id(arg1);
          req.set_reason(absl::GetFlag(FLAGS_reason));
          return s.CancelInvitation(c, req, r);
        });
  }
  if (cmd == "resend" && !arg1.empty()) {
    return Run<v1::ResendInvitationResponse>(
        "partner_admin", [&](v1::InvitationService::Stub& s, grpc::ClientContext* c, auto* r) {
          v1::ResendInvitationRequest req;
          req.set_request_id(RequestId());
          req.set_id(arg1);
          req.set_locale(absl::GetFlag(FLAGS_locale));
          return s.ResendInvitation(c, req, r);
        });
  }
  return Usage();
}
