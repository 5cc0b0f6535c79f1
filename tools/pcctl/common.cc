#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "pc/auth/claims.h"
#include "pc/auth/minter.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "pc/common/ids.h"
#include "pc/tls/tls.h"
#include "pcctl.h"

ABSL_DECLARE_FLAG(absl::Duration, ttl);
ABSL_DECLARE_FLAG(std::string, subject);
ABSL_DECLARE_FLAG(std::string, verified_domains);
ABSL_DECLARE_FLAG(std::string, jwt_keys_dir);
ABSL_DECLARE_FLAG(std::string, jwt_kid);
ABSL_DECLARE_FLAG(std::string, jwt_issuer);
ABSL_DECLARE_FLAG(std::string, jwt_audience);

namespace pcctl {

int Fail(const std::string& message) {
  std::cerr << "pcctl: " << message << "\n";
  return 2;
}

int PrintStatus(const grpc::Status& status) {
  const absl::Status s = pc::FromGrpcStatus(status);
  std::cerr << "pcctl: " << absl::StatusCodeToString(s.code()) << ": " << s.message();
  if (const std::string reason = pc::ReasonOf(s); !reason.empty()) {
    std::cerr << " [" << reason << "]";
  }
  std::cerr << "\n";
  return 1;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  std::cout << json;
}

absl::StatusOr<std::string> Mint(const std::string& tenant, const std::string& role) {
  // A token with a role no service knows would only be refused later, call after call.
  static const char* const kRoles[] = {pc::auth::kRolePartnerAdmin, pc::auth::kRolePartnerAgent,
                                       pc::auth::kRoleCustomerAdmin, pc::auth::kRoleService};
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown role '", role, "'; use ", absl::StrJoin(kRoles, ", ")));
  }
  auto minter = pc::auth::Minter::FromDirectory(
      absl::GetFlag(FLAGS_jwt_keys_dir), absl::GetFlag(FLAGS_jwt_kid),
      absl::GetFlag(FLAGS_jwt_issuer), absl::GetFlag(FLAGS_jwt_audience));
  if (!minter.ok()) return minter.status();
  const std::string subject = absl::GetFlag(FLAGS_subject);
  pc::auth::Claims claims{.subject = subject.empty() ? absl::StrCat(role, "@", tenant) : subject,
                          .tenant_id = tenant,
                          .cloud = absl::GetFlag(FLAGS_cloud),
                          .roles = {role}};
  if (!absl::GetFlag(FLAGS_name).empty()) claims.display_name = absl::GetFlag(FLAGS_name);
  for (absl::string_view d :
       absl::StrSplit(absl::GetFlag(FLAGS_verified_domains), ',', absl::SkipWhitespace())) {
    claims.verified_domains.emplace_back(absl::StripAsciiWhitespace(d));
  }
  return minter->Mint(claims, absl::GetFlag(FLAGS_ttl), absl::Now());
}

// The caller's token: --token, or one minted for --as with the command's default role.
absl::StatusOr<std::string> CallerToken(const std::string& default_role) {
  if (!absl::GetFlag(FLAGS_as).empty()) {
    const std::string role =
        absl::GetFlag(FLAGS_role).empty() ? default_role : absl::GetFlag(FLAGS_role);
    return Mint(absl::GetFlag(FLAGS_as), role);
  }
  if (absl::GetFlag(FLAGS_token).empty()) {
    return absl::InvalidArgumentError("give --token=<jwt> (or PC_TOKEN) or --as=<tenant>");
  }
  return absl::GetFlag(FLAGS_token);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() {
  pc::tls::Files files = pc::tls::FilesFromFlags();
  const std::pair<std::string*, const char*> env[] = {{&files.ca_file, "PC_GRPC_TLS_CA_FILE"},
                                                      {&files.cert_file, "PC_GRPC_TLS_CERT_FILE"},
                                                      {&files.key_file, "PC_GRPC_TLS_KEY_FILE"}};
  for (const auto& [value, name] : env) {
    if (value->empty()) *value = pc::EnvOr(name, "");
  }
  files.client_ca_file.clear();  // a server-side setting
  auto creds = pc::tls::ChannelCredentials(files);
  if (!creds.ok()) std::exit(Fail(std::string(creds.status().message())));
  return *creds;
}

std::string RequestId() {
  return absl::GetFlag(FLAGS_request_id).empty() ? pc::NewUuid() : absl::GetFlag(FLAGS_request_id);
}

}  // namespace pcctl
