// pcctl commands over NotificationService.
//
//   pcctl customers page --as=partner-1 [--name_prefix=con] [--invitations]
//   pcctl partners page --as=customer-1
//   pcctl watch customers --as=partner-1 [--resume_after=42]   # one JSON line per change
//   pcctl watch partners --as=customer-1
#include <iostream>
#include <optional>

#include "absl/flags/flag.h"
#include "google/protobuf/util/json_util.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "pcctl.h"

ABSL_FLAG(std::string, notification_addr,
          pc::EnvOr("PC_NOTIFICATION_ADDR", "127.0.0.1:50053"),
          "NotificationService address (env PC_NOTIFICATION_ADDR)");
ABSL_FLAG(int64_t, resume_after, -1, "watch: resume after this sequence (-1 = snapshot first)");
ABSL_FLAG(bool, invitations, false, "customers page: include the partner's invitations");
ABSL_DECLARE_FLAG(std::string, name_prefix);
ABSL_DECLARE_FLAG(std::string, order_by);

namespace pcctl {
namespace {

namespace v1 = partnercenter::notification::v1;
using Stub = v1::NotificationService::Stub;

template <typename Resp, typename Call>
int Notif(const std::string& role, Call call) {
  return Invoke<v1::NotificationService, Resp>(absl::GetFlag(FLAGS_notification_addr), role,
                                               std::move(call));
}

// Streams until the server ends the stream (or Ctrl-C); one compact JSON object per line.
// When the stream ends because its token expired and pcctl minted it (--as), it mints a fresh
// one and resumes after the last sequence it printed, so nothing is lost or repeated.
template <typename Change, typename Open>
int Watch(const std::string& role, Open open) {
  auto stub = v1::NotificationService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_notification_addr), ChannelCredentials()));
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::optional<int64_t> resume;
  if (absl::GetFlag(FLAGS_resume_after) >= 0) resume = absl::GetFlag(FLAGS_resume_after);
  while (true) {
    auto token = CallerToken(role);
    if (!token.ok()) return Fail(std::string(token.status().message()));
    grpc::ClientContext ctx;
    pc::auth::AttachBearerToken(&ctx, *token);
    auto reader = open(*stub, &ctx, resume);
    Change change;
    while (reader->Read(&change)) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(change, &json, options);
      std::cout << json << std::endl;
      resume = change.sequence();
    }
    const grpc::Status status = reader->Finish();
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
        !absl::GetFlag(FLAGS_as).empty() && resume.has_value()) {
      std::cerr << "pcctl: the watch's token expired; resuming after " << *resume
                << " with a fresh one" << std::endl;
      continue;
    }
    return status.ok() ? 0 : PrintStatus(status);
  }
}

}  // namespace

int RunNotificationCommand(const std::vector<std::string>& args) {
  const std::string cmd = args[0];
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (cmd == "customers" && sub == "page") {
    return Notif<v1::CustomersPage>("partner_agent", [&](Stub& s, auto* c, auto* r) {
      v1::GetCustomersPageRequest req;
      req.set_name_prefix(absl::GetFlag(FLAGS_name_prefix));
      req.set_order_by(absl::GetFlag(FLAGS_order_by));
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      req.set_include_invitations(absl::GetFlag(FLAGS_invitations));
      return s.GetCustomersPage(c, req, r);
    });
  }
  if (cmd == "partners" && sub == "page") {
    return Notif<v1::PartnersPage>("customer_admin", [&](Stub& s, auto* c, auto* r) {
      v1::GetPartnersPageRequest req;
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      req.set_page_token(absl::GetFlag(FLAGS_page_token));
      return s.GetPartnersPage(c, req, r);
    });
  }
  if (cmd == "watch" && sub == "customers") {
    return Watch<v1::CustomerChange>("partner_agent", [&](Stub& s, grpc::ClientContext* c,
                                                          std::optional<int64_t> resume) {
      v1::WatchCustomersRequest req;
      if (resume.has_value()) req.set_resume_after_sequence(*resume);
      return s.WatchCustomers(c, req);
    });
  }
  if (cmd == "watch" && sub == "partners") {
    return Watch<v1::PartnerChange>("customer_admin", [&](Stub& s, grpc::ClientContext* c,
                                                         std::optional<int64_t> resume) {
      v1::WatchPartnersRequest req;
      if (resume.has_value()) req.set_resume_after_sequence(*resume);
      return s.WatchPartners(c, req);
    });
  }
  return -1;
}

}  // namespace pcctl
