// What the pcctl command files share: the common flags, identity (a --token or a dev token
// minted for --as), JSON output, and one way to make a call.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "pc/auth/grpc_auth.h"
#include "pc/common/env.h"  // pc::EnvOr: environment twins as flag defaults

ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, as);
ABSL_DECLARE_FLAG(std::string, role);
ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, cloud);
ABSL_DECLARE_FLAG(std::string, request_id);
ABSL_DECLARE_FLAG(std::string, customer);
ABSL_DECLARE_FLAG(std::string, message);
ABSL_DECLARE_FLAG(std::string, locale);
ABSL_DECLARE_FLAG(int32_t, page_size);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(std::string, reason);

namespace pcctl {

// Prints "pcctl: <message>" to stderr; returns 2 (usage error).
int Fail(const std::string& message);
// Prints the status with its reason to stderr; returns 1.
int PrintStatus(const grpc::Status& status);
void PrintJson(const google::protobuf::Message& m);
// A dev token for `tenant` with `role`, minted with the key in --jwt_keys_dir.
absl::StatusOr<std::string> Mint(const std::string& tenant, const std::string& role);
// The caller's token: --token, or one minted for --as with `default_role` (or --role).
absl::StatusOr<std::string> CallerToken(const std::string& default_role);
// TLS for calls when --grpc_tls_ca_file (env PC_GRPC_TLS_CA_FILE) is set, presenting
// --grpc_tls_cert_file/--grpc_tls_key_file (env twins) to an mTLS server; else plaintext.
// Exits with a usage error if a file cannot be used.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials();
// --request_id, or a new UUID.
std::string RequestId();

// Calls `call(stub, ctx, &response)` on a `Service` at `address` as the caller, prints the
// answer as JSON; returns the process exit code.
template <typename Service, typename Resp, typename Call>
int Invoke(const std::string& address, const std::string& role, Call call) {
  auto token = CallerToken(role);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  auto stub = Service::NewStub(grpc::CreateChannel(address, ChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  pc::auth::AttachBearerToken(&ctx, *token);
  Resp resp;
  const grpc::Status status = call(*stub, &ctx, &resp);
  if (!status.ok()) return PrintStatus(status);
  PrintJson(resp);
  return 0;
}

// Relationship commands (relationship.cc); -1 if `args` is not one.
int RunRelationshipCommand(const std::vector<std::string>& args);
// Notification commands (notification.cc); -1 if `args` is not one.
int RunNotificationCommand(const std::vector<std::string>& args);
// `events tail` (events.cc); -1 if `args` is not one.
int RunEventsCommand(const std::vector<std::string>& args);
// `kafka acls add` (kafka_acls.cc); -1 if `args` is not one.
int RunKafkaCommand(const std::vector<std::string>& args);

}  // namespace pcctl
