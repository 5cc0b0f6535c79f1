// The portal's view of the three services: their gRPC stubs, how a call is made on behalf of
// the signed-in user (their JWT forwarded as `authorization: Bearer`, a deadline, the
// request's correlation id), and the WatchCustomers stream the FeedHub reads.
//
//   Backends backends = Backends::Connect({.invitation = "127.0.0.1:50051", ...});
//   grpc::ClientContext ctx;
//   backends.Prepare(&ctx, user.token, correlation_id);
//   grpc::Status s = backends.invitation->ListInvitations(&ctx, req, &resp);
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "feed_hub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/client_context.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"

namespace pc::portal {

struct Backends {
  struct Addresses {
    std::string invitation;
    std::string relationship;
    std::string notification;
  };
  // Channels to the three services (lazy: a service that is down fails its calls only), with
  // `credentials` (TLS in production: pc::runtime::ChannelCredentialsFromFlags()).
  static Backends Connect(const Addresses& addresses, absl::Duration deadline,
                          std::shared_ptr<grpc::ChannelCredentials> credentials);

  // Forwards the user's identity and sets the deadline on an outgoing call.
  void Prepare(grpc::ClientContext* ctx, const std::string& bearer_token,
               const std::string& correlation_id) const;

  std::shared_ptr<partnercenter::invitation::v1::InvitationService::StubInterface> invitation;
  std::shared_ptr<partnercenter::relationship::v1::RelationshipService::StubInterface> relationship;
  std::shared_ptr<partnercenter::notification::v1::NotificationService::StubInterface> notification;
  absl::Duration deadline = absl::Seconds(5);
};

// WatchCustomers over gRPC, for the FeedHub. Start() waits for the service's `pc-watch`
// initial metadata, which it sends once the watch was accepted.
class GrpcWatchSource : public WatchSource {
 public:
  explicit GrpcWatchSource(
      std::shared_ptr<partnercenter::notification::v1::NotificationService::StubInterface> stub)
      : stub_(std::move(stub)) {}
  std::unique_ptr<WatchStream> Open(const std::string& bearer_token,
                                    const std::string& partner_id,
                                    int64_t resume_after_sequence) override;

 private:
  std::shared_ptr<partnercenter::notification::v1::NotificationService::StubInterface> stub_;
};

}  // namespace pc::portal
