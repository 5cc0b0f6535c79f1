#include "backends.h"

#include <chrono>
#include <mutex>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "pc/auth/grpc_auth.h"
#include "pc/common/grpc_status.h"
#include "pc/runtime/client_channel.h"

namespace pc::portal {
namespace {
namespace nv1 = ::partnercenter::notification::v1;

std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a backend restart; the portal is what users are waiting on.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Every replica behind the headless Service, none that is draining or not ready.
  pc::runtime::UseBalancedHealthChecking(&args);
  return grpc::CreateCustomChannel(address, creds, args);
}

class GrpcWatchStream : public WatchStream {
 public:
  GrpcWatchStream(nv1::NotificationService::StubInterface* stub, const std::string& token,
                  const std::string& partner_id, int64_t resume) {
    pc::auth::AttachBearerToken(&ctx_, token);
    request_.set_partner_id(partner_id);
    request_.set_resume_after_sequence(resume);
    stub_ = stub;
  }
  bool Start() override {
    {
      // Cancel() may come before the call exists; TryCancel is a no-op then, so check.
      std::lock_guard<std::mutex> lock(mu_);
      reader_ = stub_->WatchCustomers(&ctx_, request_);
      if (cancelled_) ctx_.TryCancel();
    }
    reader_->WaitForInitialMetadata();
    const auto& md = ctx_.GetServerInitialMetadata();
    return md.find("pc-watch") != md.end();
  }
  bool Read(nv1::CustomerChange* change) override { return reader_->Read(change); }
  absl::Status Finish() override {
    if (reader_ == nullptr) return absl::CancelledError("never started");
    return pc::FromGrpcStatus(reader_->Finish());
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    ctx_.TryCancel();
  }

 private:
  std::mutex mu_;
  bool cancelled_ = false;  // guarded by mu_
  grpc::ClientContext ctx_;
  nv1::WatchCustomersRequest request_;
  nv1::NotificationService::StubInterface* stub_ = nullptr;
  std::unique_ptr<grpc::ClientReaderInterface<nv1::CustomerChange>> reader_;
};

}  // namespace

Backends Backends::Connect(const Addresses& addresses, absl::Duration deadline,
                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Backends b;
  b.invitation = partnercenter::invitation::v1::InvitationService::NewStub(
      Channel(addresses.invitation, credentials));
  b.relationship = partnercenter::relationship::v1::RelationshipService::NewStub(
      Channel(addresses.relationship, credentials));
  b.notification = nv1::NotificationService::NewStub(Channel(addresses.notification, credentials));
  b.deadline = deadline;
  return b;
}

void Backends::Prepare(grpc::ClientContext* ctx, const std::string& bearer_token,
                       const std::string& correlation_id) const {
  pc::auth::PrepareOutgoingCall(ctx, bearer_token, correlation_id, deadline);
}

std::unique_ptr<WatchStream> GrpcWatchSource::Open(const std::string& bearer_token,
                                                   const std::string& partner_id,
                                                   int64_t resume_after_sequence) {
  return std::make_unique<GrpcWatchStream>(stub_.get(), bearer_token, partner_id,
                                           resume_after_sequence);
}

}  // namespace pc::portal
