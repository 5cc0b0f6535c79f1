// The fault tier's client: invite → accept (or decline) pairs through the real gRPC APIs, and
// for some accepted pairs the customer's revoke of admin permission, while the cluster is being
// broken. Every call is retried on UNAVAILABLE and DEADLINE_EXCEEDED with the SAME request
// (same request_id, same token), as a careful client would; what was acknowledged is kept in a
// ledger for the checker.
//
//   Tokens tokens(cluster.jwt_dir());
//   Driver driver(cluster, tokens, {.pairs = 300});
//   driver.Release(25);                      // 25 more pairs may run now
//   ASSERT_OK(driver.WaitAnswered(10, absl::Seconds(60)));
//   ASSERT_OK(driver.WaitIdle(absl::Minutes(2)));   // every released pair done
//   std::vector<Pair> ledger = driver.Ledger();
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cluster.h"
#include "grpcpp/grpcpp.h"
#include "partnercenter/invitation/v1/invitation_service.grpc.pb.h"
#include "partnercenter/notification/v1/notification_service.grpc.pb.h"
#include "partnercenter/relationship/v1/relationship_service.grpc.pb.h"
#include "pc/auth/minter.h"

namespace pc::fault {

// Dev tokens signed with the key the services were started with (cluster.jwt_dir()).
class Tokens {
 public:
  explicit Tokens(const std::filesystem::path& jwt_dir);
  // A one-hour token for `tenant` with `role` (partner_admin, customer_admin, …).
  std::string For(const std::string& tenant, const std::string& role) const;

 private:
  std::unique_ptr<pc::auth::Minter> minter_;
};

// gRPC channels that retry connecting quickly (a restarted service is back within a second).
std::shared_ptr<grpc::Channel> FastReconnectChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials);

// One invite → answer pair and what the driver was told about it.
struct Pair {
  int index = 0;
  std::string partner_id;
  std::string customer_id;
  bool decline = false;  // the customer declines instead of accepting
  bool revoke = false;   // after accepting, the customer revokes admin permission
  std::string invitation_id;  // from the acknowledged CreateInvitation
  bool answered = false;      // AcceptInvitation / DeclineInvitation acknowledged
  bool revoked = false;       // RevokeAdminPermission acknowledged
  std::string error;          // a call that failed for good (not retryable, or given up)
};

class Driver {
 public:
  struct Options {
    int pairs = 300;    // most pairs that can be released
    int partners = 4;   // pairs are spread over this many partners
    int workers = 4;    // concurrent pairs
    absl::Duration call_deadline = absl::Seconds(5);
    // A call still failing after this long is recorded as failed (the checker reports it).
    absl::Duration give_up = absl::Seconds(150);
  };
  Driver(const FaultCluster& cluster, const Tokens& tokens, Options options);
  ~Driver();  // Stop()

  // Lets `n` more pairs run.
  void Release(int n);
  // Until at least `n` pairs have their answer (accept or decline) acknowledged or failed.
  absl::Status WaitAnswered(int n, absl::Duration timeout);
  // Until every released pair is done: answered (and revoked, if it revokes) or failed.
  absl::Status WaitIdle(absl::Duration timeout);
  void Stop();

  int released() const;
  int answered() const;
  std::vector<Pair> Ledger() const;
  const std::vector<std::string>& partners() const { return partners_; }
  // Calls repeated after UNAVAILABLE / DEADLINE_EXCEEDED.
  int64_t retries() const { return retries_; }
  // Revokes repeated after NOT_FOUND: sent before the relationship service had applied the
  // acceptance (it learns of it from the topic).
  int64_t early_revokes() const { return early_revokes_; }

 private:
  void Work();
  void Revoke();
  void RunPair(Pair& pair);
  // Runs `rpc` with a fresh token for (tenant, role) until it succeeds, fails for good, or
  // give_up passes.
  grpc::Status Call(const std::string& tenant, const std::string& role,
                    const std::function<grpc::Status(grpc::ClientContext*)>& rpc,
                    bool retry_not_found = false);

  const Tokens& tokens_;
  const Options options_;
  std::vector<std::string> partners_;
  std::unique_ptr<partnercenter::invitation::v1::InvitationService::Stub> invitations_;
  std::unique_ptr<partnercenter::relationship::v1::RelationshipService::Stub> relationships_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Pair> pairs_;  // guarded by mu_ (a thread runs a copy, then stores it back)
  int released_ = 0;         // guarded by mu_
  int claimed_ = 0;          // guarded by mu_
  int answered_ = 0;         // guarded by mu_
  int done_ = 0;             // guarded by mu_
  std::deque<int> revokes_;  // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> early_revokes_{0};
  std::vector<std::thread> threads_;
};

}  // namespace pc::fault
