#include "driver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pc/auth/grpc_auth.h"
#include "pc/common/grpc_status.h"

namespace pc::fault {
namespace {

namespace common = partnercenter::common::v1;
namespace inv = partnercenter::invitation::v1;
namespace rel = partnercenter::relationship::v1;

std::string Describe(const grpc::Status& s) {
  return absl::StrCat(s.error_code(), " ", s.error_message());
}

}  // namespace

Tokens::Tokens(const std::filesystem::path& jwt_dir) {
  auto minter =
      pc::auth::Minter::FromDirectory(jwt_dir.string(), "k1", "partnercenter-dev", "partnercenter");
  if (!minter.ok()) throw std::runtime_error(minter.status().ToString());
  minter_ = std::make_unique<pc::auth::Minter>(*std::move(minter));
}

std::string Tokens::For(const std::string& tenant, const std::string& role) const {
  return *minter_->Mint({.subject = "u-" + tenant, .tenant_id = tenant, .cloud = kCloud,
                         .roles = {role}},
                        absl::Hours(1), absl::Now());
}

std::shared_ptr<grpc::Channel> FastReconnectChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

Driver::Driver(const FaultCluster& cluster, const Tokens& tokens, Options options)
    : tokens_(tokens),
      options_(options),
      invitations_(inv::InvitationService::NewStub(
          FastReconnectChannel(cluster.grpc_address(Service::kInvitation),
                               cluster.client_credentials()))),
      relationships_(rel::RelationshipService::NewStub(
          FastReconnectChannel(cluster.grpc_address(Service::kRelationship),
                               cluster.client_credentials()))) {
  for (int p = 0; p < options_.partners; ++p) partners_.push_back(absl::StrCat("partner-", p + 1));
  for (int i = 0; i < options_.pairs; ++i) {
    Pair pair;
    pair.index = i;
    pair.partner_id = partners_[i % partners_.size()];
    pair.customer_id = absl::StrFormat("customer-%04d", i);
    pair.decline = i % 10 == 7;
    pair.revoke = !pair.decline && i % 4 == 1;
    pairs_.push_back(std::move(pair));
  }
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { Work(); });
  threads_.emplace_back([this] { Revoke(); });
}

Driver::~Driver() { Stop(); }

void Driver::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Driver::Release(int n) {
  {
    std::lock_guard lock(mu_);
    released_ = std::min<int>(released_ + n, static_cast<int>(pairs_.size()));
  }
  changed_.notify_all();
}

absl::Status Driver::WaitAnswered(int n, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  if (changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [&] { return answered_ >= n; })) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      absl::StrCat("only ", answered_, " of ", n, " pairs answered"));
}

absl::Status Driver::WaitIdle(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  if (changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [&] { return done_ == released_; })) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      absl::StrCat("only ", done_, " of ", released_, " released pairs done"));
}

int Driver::released() const {
  std::lock_guard lock(mu_);
  return released_;
}

int Driver::answered() const {
  std::lock_guard lock(mu_);
  return answered_;
}

std::vector<Pair> Driver::Ledger() const {
  std::lock_guard lock(mu_);
  return pairs_;
}

grpc::Status Driver::Call(const std::string& tenant, const std::string& role,
                          const std::function<grpc::Status(grpc::ClientContext*)>& rpc,
                          bool retry_not_found) {
  const absl::Time give_up = absl::Now() + options_.give_up;
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    grpc::ClientContext ctx;
    pc::auth::AttachBearerToken(&ctx, tokens_.For(tenant, role));
    // Waits for a connection instead of failing at once while the service restarts.
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_deadline));
    const grpc::Status s = rpc(&ctx);
    const bool not_yet = retry_not_found && s.error_code() == grpc::StatusCode::NOT_FOUND;
    const bool transient = pc::IsTransient(s);
    if (s.ok() || !(transient || not_yet) || absl::Now() >= give_up) return s;
    ++(not_yet ? early_revokes_ : retries_);
    std::unique_lock lock(mu_);
    // A client's backoff between attempts, not a synchronisation: Stop() ends it.
    if (changed_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return stop_; })) {
      return s;
    }
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

void Driver::Work() {
  while (true) {
    Pair pair;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return stop_ || claimed_ < released_; });
      if (stop_) return;
      pair = pairs_[claimed_++];
    }
    RunPair(pair);
    {
      std::lock_guard lock(mu_);
      pairs_[pair.index] = pair;
      ++answered_;
      if (pair.answered && pair.revoke) {
        revokes_.push_back(pair.index);
      } else {
        ++done_;
      }
    }
    changed_.notify_all();
  }
}

void Driver::RunPair(Pair& pair) {
  inv::CreateInvitationRequest create;
  create.set_request_id(absl::StrCat("fault-invite-", pair.index));
  create.set_kind(common::INVITATION_KIND_RESELLER_RELATIONSHIP);
  create.set_include_admin_permission(true);
  create.mutable_customer_hint()->set_tenant_id(pair.customer_id);
  inv::CreateInvitationResponse created;
  grpc::Status s = Call(pair.partner_id, "partner_admin", [&](grpc::ClientContext* ctx) {
    return invitations_->CreateInvitation(ctx, create, &created);
  });
  if (!s.ok()) {
    pair.error = "CreateInvitation: " + Describe(s);
    return;
  }
  pair.invitation_id = created.invitation().id();
  const std::string& link = created.email_draft().link();
  const std::string token = link.substr(link.find("token=") + 6);

  if (pair.decline) {
    inv::DeclineInvitationRequest decline;
    decline.set_request_id(absl::StrCat("fault-decline-", pair.index));
    decline.set_token(token);
    decline.set_reason("not now");
    inv::Invitation declined;
    s = Call(pair.customer_id, "customer_admin", [&](grpc::ClientContext* ctx) {
      return invitations_->DeclineInvitation(ctx, decline, &declined);
    });
  } else {
    inv::AcceptInvitationRequest accept;
    accept.set_request_id(absl::StrCat("fault-accept-", pair.index));
    accept.set_token(token);
    accept.mutable_customer_profile()->set_company_name("Company " + pair.customer_id);
    accept.mutable_customer_profile()->set_primary_domain(pair.customer_id + ".example.com");
    accept.mutable_customer_profile()->set_country("US");
    inv::AcceptInvitationResponse accepted;
    s = Call(pair.customer_id, "customer_admin", [&](grpc::ClientContext* ctx) {
      return invitations_->AcceptInvitation(ctx, accept, &accepted);
    });
  }
  if (!s.ok()) {
    pair.error = absl::StrCat(pair.decline ? "DeclineInvitation: " : "AcceptInvitation: ",
                              Describe(s));
    return;
  }
  pair.answered = true;
}

void Driver::Revoke() {
  while (true) {
    Pair pair;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return stop_ || !revokes_.empty(); });
      if (stop_) return;
      pair = pairs_[revokes_.front()];
      revokes_.pop_front();
    }
    rel::RevokeAdminPermissionRequest revoke;
    revoke.set_request_id(absl::StrCat("fault-revoke-", pair.index));
    revoke.set_partner_id(pair.partner_id);
    revoke.set_customer_id(pair.customer_id);
    revoke.set_reason("in-house IT");
    rel::Relationship revoked;
    // NOT_FOUND until the relationship service has applied the acceptance (asynchronous).
    const grpc::Status s = Call(
        pair.customer_id, "customer_admin",
        [&](grpc::ClientContext* ctx) {
          return relationships_->RevokeAdminPermission(ctx, revoke, &revoked);
        },
        /*retry_not_found=*/true);
    {
      std::lock_guard lock(mu_);
      Pair& stored = pairs_[pair.index];
      if (s.ok()) {
        stored.revoked = true;
      } else {
        stored.error = "RevokeAdminPermission: " + Describe(s);
      }
      ++done_;
    }
    changed_.notify_all();
  }
}

}  // namespace pc::fault
