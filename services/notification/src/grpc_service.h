// The gRPC face of NotificationDomain: authenticate, call, translate. Watch streams write
// through the ServerWriter; a client that goes away ends its stream.
#pragma once

#include "domain.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "pc/auth/token_cache.h"
#include "pc/common/clock.h"

namespace pc::notification {

class NotificationGrpcService final : public v1::NotificationService::Service {
 public:
  NotificationGrpcService(NotificationDomain& domain, const pc::auth::Verifier& verifier,
                          const pc::Clock& clock)
      : domain_(domain), tokens_(verifier), clock_(clock), skew_(verifier.options().clock_skew) {}

  grpc::Status GetCustomersPage(grpc::ServerContext* ctx, const v1::GetCustomersPageRequest* req,
                                v1::CustomersPage* resp) override;
  grpc::Status GetPartnersPage(grpc::ServerContext* ctx, const v1::GetPartnersPageRequest* req,
                               v1::PartnersPage* resp) override;
  grpc::Status WatchCustomers(grpc::ServerContext* ctx, const v1::WatchCustomersRequest* req,
                              grpc::ServerWriter<v1::CustomerChange>* writer) override;
  grpc::Status WatchPartners(grpc::ServerContext* ctx, const v1::WatchPartnersRequest* req,
                             grpc::ServerWriter<v1::PartnerChange>* writer) override;

 private:
  absl::StatusOr<CallContext> Call(grpc::ServerContext* ctx);

  NotificationDomain& domain_;
  pc::auth::VerifiedTokenCache tokens_;
  const pc::Clock& clock_;
  absl::Duration skew_;  // a stream's authority ends when its token would no longer verify
};

}  // namespace pc::notification
