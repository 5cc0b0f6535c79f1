// pcctl commands over RelationshipService. The partner or customer a command acts for is
// --partner / --customer, defaulting to the --as tenant on its side.
//
//   pcctl customers list --as=partner-1 [--admin_access=REVOKED] [--name_prefix=con]
//   pcctl customer show --as=partner-1 --customer=customer-1
//   pcctl partners list --as=customer-1
//   pcctl revoke --as=customer-1 --partner=partner-1 --reason="in-house IT"
//   pcctl reassign --as=customer-1 --partner=partner-1 --to_partner=partner-2
//   pcctl restore --as=partner-1 --customer=customer-1 [--message=… --locale=pt-BR]
//   pcctl provision --as=partner-1 --customer=customer-1 --offer=O365_E3 --service_name="Office" --licenses=10
//   pcctl service change --as=partner-1 --customer=customer-1 --service=ID --action=suspend
//   pcctl users --as=partner-1 --customer=customer-1
//   pcctl users create --as=partner-1 --customer=customer-1 --upn=ana@contoso.com --display_name=Ana
//   pcctl support-contact --as=partner-1 --customer=customer-1 --contact_name=Sam --contact_email=sam@p.com
//   pcctl service-request --as=partner-1 --customer=customer-1 --title="Mail down" --severity=HIGH
//   pcctl remove --as=partner-1 --customer=customer-1 --reason="contract ended"
//   pcctl check-access --partner=partner-1 --customer=customer-1 [--as=svc --role=service]
//   pcctl history --as=partner-1 --customer=customer-1
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"
#include "pcctl.h"

ABSL_FLAG(std::string, relationship_addr,
          pc::EnvOr("PC_RELATIONSHIP_ADDR", "127.0.0.1:50052"),
          "RelationshipService address (env PC_RELATIONSHIP_ADDR)");
ABSL_FLAG(std::string, partner, "", "Partner tenant id (default: --as on the partner side)");
ABSL_FLAG(std::string, to_partner, "", "reassign: the partner that receives admin permission");
ABSL_FLAG(int64_t, version, 0, "The version you read (optimistic concurrency; 0 = no check)");
ABSL_FLAG(std::string, admin_access, "", "customers list: GRANTED, REVOKED or NOT_REQUESTED");
ABSL_FLAG(std::string, name_prefix, "", "customers list: company name or domain prefix");
ABSL_FLAG(std::string, order_by, "", "customers list: 'company_name asc', 'update_time desc', …");
ABSL_FLAG(std::string, offer, "", "provision: catalog offer id");
ABSL_FLAG(std::string, service_name, "", "provision: service display name");
ABSL_FLAG(int32_t, licenses, 0, "provision / service change: license quantity");
ABSL_FLAG(std::string, service, "", "service change: service id");
ABSL_FLAG(std::string, action, "", "service change: set-licenses, suspend, resume or cancel");
ABSL_FLAG(std::string, upn, "", "users create: user principal name");
ABSL_FLAG(std::string, display_name, "", "users create: display name");
ABSL_FLAG(std::string, title, "", "service-request: title");
ABSL_FLAG(std::string, description, "", "service-request: description");
ABSL_FLAG(std::string, severity, "MEDIUM", "service-request: LOW, MEDIUM, HIGH or CRITICAL");
ABSL_FLAG(std::string, contact_name, "", "support-contact: name");
ABSL_FLAG(std::string, contact_email, "", "support-contact: email");
ABSL_FLAG(std::string, contact_phone, "", "support-contact: phone");
ABSL_FLAG(std::string, contact_partner, "",
          "support-contact: the partner or indirect reseller the contact belongs to");
ABSL_FLAG(int32_t, history_limit, 0, "customer show: history entries (0 = 20)");

namespace pcctl {
namespace {

namespace v1 = partnercenter::relationship::v1;
namespace common = partnercenter::common::v1;
using Stub = v1::RelationshipService::Stub;

std::string Partner() {
  return absl::GetFlag(FLAGS_partner).empty() ? absl::GetFlag(FLAGS_as) : absl::GetFlag(FLAGS_partner);
}
std::string Customer() {
  return absl::GetFlag(FLAGS_customer).empty() ? absl::GetFlag(FLAGS_as)
                                               : absl::GetFlag(FLAGS_customer);
}

template <typename Resp, typename Call>
int Rel(const std::string& role, Call call) {
  return Invoke<v1::RelationshipService, Resp>(absl::GetFlag(FLAGS_relationship_addr), role,
                                               std::move(call));
}

// "REVOKED" → ADMIN_ACCESS_REVOKED etc.; an unknown name becomes -1 (the server names it).
template <typename Enum>
Enum ParseEnum(bool (*parse)(const std::string&, Enum*), const std::string& prefix,
               const std::string& value) {
  Enum out;
  const std::string upper = absl::AsciiStrToUpper(value);
  if (parse(prefix + upper, &out)) return out;
  return static_cast<Enum>(-1);
}

}  // namespace

int RunRelationshipCommand(const std::vector<std::string>& args) {
  const std::string cmd = args[0];
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (cmd == "customers" && sub == "list") {
    return Rel<v1::ListRelationshipsResponse>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ListRelationshipsRequest req;
      req.set_partner_id(absl::GetFlag(FLAGS_partner));
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      req.set_name_prefix(absl::GetFlag(FLAGS_name_prefix));
      req.set_order_by(absl::GetFlag(FLAGS_order_by));
      if (!absl::GetFlag(FLAGS_admin_access).empty()) {
        req.add_admin_access(ParseEnum<common::AdminAccess>(
            &common::AdminAccess_Parse, "ADMIN_ACCESS_", absl::GetFlag(FLAGS_admin_access)));
      }
      return s.ListRelationships(c, req, r);
    });
  }
  if (cmd == "customer" && sub == "show") {
    return Rel<v1::CustomerRecord>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::GetCustomerRecordRequest req;
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_history_limit(absl::GetFlag(FLAGS_history_limit));
      return s.GetCustomerRecord(c, req, r);
    });
  }
  if (cmd == "partners" && sub == "list") {
    return Rel<v1::ListRelationshipsResponse>("customer_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ListPartnersRequest req;
      req.set_customer_id(Customer());
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      return s.ListPartners(c, req, r);
    });
  }
  if (cmd == "revoke") {
    return Rel<v1::Relationship>("customer_admin", [&](Stub& s, auto* c, auto* r) {
      v1::RevokeAdminPermissionRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(absl::GetFlag(FLAGS_partner));
      req.set_customer_id(Customer());
      req.set_reason(absl::GetFlag(FLAGS_reason));
      req.set_version(absl::GetFlag(FLAGS_version));
      return s.RevokeAdminPermission(c, req, r);
    });
  }
  if (cmd == "reassign") {
    return Rel<v1::ReassignAdminPermissionResponse>("customer_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ReassignAdminPermissionRequest req;
      req.set_request_id(RequestId());
      req.set_from_partner_id(absl::GetFlag(FLAGS_partner));
      req.set_to_partner_id(absl::GetFlag(FLAGS_to_partner));
      req.set_customer_id(Customer());
      req.set_reason(absl::GetFlag(FLAGS_reason));
      req.set_version(absl::GetFlag(FLAGS_version));
      return s.ReassignAdminPermission(c, req, r);
    });
  }
  if (cmd == "restore") {
    return Rel<v1::RequestAdminRestoreResponse>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::RequestAdminRestoreRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_message(absl::GetFlag(FLAGS_message));
      req.set_locale(absl::GetFlag(FLAGS_locale));
      return s.RequestAdminRestore(c, req, r);
    });
  }
  if (cmd == "provision") {
    return Rel<common::CustomerService>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ProvisionServiceRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_offer_id(absl::GetFlag(FLAGS_offer));
      req.set_display_name(absl::GetFlag(FLAGS_service_name));
      req.set_license_quantity(absl::GetFlag(FLAGS_licenses));
      return s.ProvisionService(c, req, r);
    });
  }
  if (cmd == "service" && sub == "change") {
    return Rel<common::CustomerService>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ChangeServiceRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_service_id(absl::GetFlag(FLAGS_service));
      std::string action = absl::GetFlag(FLAGS_action);
      for (char& ch : action) ch = ch == '-' ? '_' : ch;
      req.set_action(ParseEnum<v1::ServiceChangeAction>(&v1::ServiceChangeAction_Parse,
                                                        "SERVICE_CHANGE_ACTION_", action));
      req.set_license_quantity(absl::GetFlag(FLAGS_licenses));
      req.set_version(absl::GetFlag(FLAGS_version));
      return s.ChangeService(c, req, r);
    });
  }
  if (cmd == "users" && sub == "create") {
    return Rel<v1::CustomerUser>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::CreateUserRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_user_principal_name(absl::GetFlag(FLAGS_upn));
      req.set_display_name(absl::GetFlag(FLAGS_display_name));
      if (!absl::GetFlag(FLAGS_service).empty()) req.add_service_ids(absl::GetFlag(FLAGS_service));
      return s.CreateUser(c, req, r);
    });
  }
  if (cmd == "users") {
    return Rel<v1::ListUsersResponse>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::ListUsersRequest req;
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      return s.ListUsers(c, req, r);
    });
  }
  if (cmd == "support-contact") {
    return Rel<v1::Relationship>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::AssignSupportContactRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      common::SupportContact* contact = req.mutable_contact();
      contact->set_partner_id(absl::GetFlag(FLAGS_contact_partner).empty()
                                  ? Partner()
                                  : absl::GetFlag(FLAGS_contact_partner));
      contact->set_name(absl::GetFlag(FLAGS_contact_name));
      contact->set_email(absl::GetFlag(FLAGS_contact_email));
      contact->set_phone(absl::GetFlag(FLAGS_contact_phone));
      req.set_version(absl::GetFlag(FLAGS_version));
      return s.AssignSupportContact(c, req, r);
    });
  }
  if (cmd == "service-request") {
    return Rel<common::ServiceRequest>("partner_agent", [&](Stub& s, auto* c, auto* r) {
      v1::OpenServiceRequestRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_title(absl::GetFlag(FLAGS_title));
      req.set_description(absl::GetFlag(FLAGS_description));
      req.set_severity(ParseEnum<common::ServiceRequestSeverity>(
          &common::ServiceRequestSeverity_Parse, "SERVICE_REQUEST_SEVERITY_",
          absl::GetFlag(FLAGS_severity)));
      return s.OpenServiceRequest(c, req, r);
    });
  }
  if (cmd == "remove") {
    return Rel<v1::Relationship>("partner_admin", [&](Stub& s, auto* c, auto* r) {
      v1::RemoveRelationshipRequest req;
      req.set_request_id(RequestId());
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_reason(absl::GetFlag(FLAGS_reason));
      req.set_version(absl::GetFlag(FLAGS_version));
      return s.RemoveRelationship(c, req, r);
    });
  }
  if (cmd == "check-access") {
    return Rel<v1::CheckAdminAccessResponse>("service", [&](Stub& s, auto* c, auto* r) {
      v1::CheckAdminAccessRequest req;
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      return s.CheckAdminAccess(c, req, r);
    });
  }
  if (cmd == "history") {
    return Rel<v1::ListHistoryResponse>("partner_agent", [&](Stub& s, auto* c, auto* r) {
      v1::ListHistoryRequest req;
      req.set_partner_id(Partner());
      req.set_customer_id(absl::GetFlag(FLAGS_customer));
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      return s.ListHistory(c, req, r);
    });
  }
  return -1;
}

}  // namespace pcctl
