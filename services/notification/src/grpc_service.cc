#include "grpc_service.h"

#include "pc/auth/grpc_auth.h"
#include "pc/common/grpc_status.h"

namespace pc::notification {

absl::StatusOr<CallContext> NotificationGrpcService::Call(grpc::ServerContext* ctx) {
  absl::StatusOr<pc::auth::Claims> claims = pc::auth::Authenticate(*ctx, tokens_, clock_);
  if (!claims.ok()) return claims.status();
  const absl::Time until = claims->expires_at + skew_;
  return CallContext{*std::move(claims), until};
}

grpc::Status NotificationGrpcService::GetCustomersPage(grpc::ServerContext* ctx,
                                                       const v1::GetCustomersPageRequest* req,
                                                       v1::CustomersPage* resp) {
  auto call = Call(ctx);
  if (!call.ok()) return pc::ToGrpcStatus(call.status());
  auto page = domain_.GetCustomersPage(*call, *req);
  if (!page.ok()) return pc::ToGrpcStatus(page.status());
  *resp = *std::move(page);
  return grpc::Status::OK;
}

grpc::Status NotificationGrpcService::GetPartnersPage(grpc::ServerContext* ctx,
                                                      const v1::GetPartnersPageRequest* req,
                                                      v1::PartnersPage* resp) {
  auto call = Call(ctx);
  if (!call.ok()) return pc::ToGrpcStatus(call.status());
  auto page = domain_.GetPartnersPage(*call, *req);
  if (!page.ok()) return pc::ToGrpcStatus(page.status());
  *resp = *std::move(page);
  return grpc::Status::OK;
}

namespace {
// Tells the client its watch was accepted (metadata `pc-watch: open`) before any change.
template <typename Writer>
void Opened(grpc::ServerContext* ctx, Writer* writer) {
  ctx->AddInitialMetadata("pc-watch", "open");
  writer->SendInitialMetadata();
}
}  // namespace

grpc::Status NotificationGrpcService::WatchCustomers(grpc::ServerContext* ctx,
                                                     const v1::WatchCustomersRequest* req,
                                                     grpc::ServerWriter<v1::CustomerChange>* writer) {
  auto call = Call(ctx);
  if (!call.ok()) return pc::ToGrpcStatus(call.status());
  return pc::ToGrpcStatus(domain_.WatchCustomers(
      *call, *req, [writer](const v1::CustomerChange& c) { return writer->Write(c); },
      [ctx] { return ctx->IsCancelled(); }, [ctx, writer] { Opened(ctx, writer); }));
}

grpc::Status NotificationGrpcService::WatchPartners(grpc::ServerContext* ctx,
                                                    const v1::WatchPartnersRequest* req,
                                                    grpc::ServerWriter<v1::PartnerChange>* writer) {
  auto call = Call(ctx);
  if (!call.ok()) return pc::ToGrpcStatus(call.status());
  return pc::ToGrpcStatus(domain_.WatchPartners(
      *call, *req, [writer](const v1::PartnerChange& c) { return writer->Write(c); },
      [ctx] { return ctx->IsCancelled(); }, [ctx, writer] { Opened(ctx, writer); }));
}

}  // namespace pc::notification
