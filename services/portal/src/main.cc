// pc-portal: flags → gRPC channels to the three services, the token verifier, the shared
// per-partner feed hub and the HTTP server → serve until SIGTERM (SSE streams end first, then
// in-flight pages finish). Admin (/metrics, /healthz, /readyz) comes from pc::runtime.
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "backends.h"
#include "feed_hub.h"
#include "http_server.h"
#include "pc/auth/minter.h"
#include "pc/auth/token_cache.h"
#include "pc/common/clock.h"
#include "pc/common/ids.h"
#include "pc/runtime/flags.h"
#include "pc/runtime/identity.h"
#include "pc/runtime/init.h"
#include "pc/runtime/metrics.h"
#include "pc/runtime/server.h"
#include "pc/runtime/tls.h"
#include "portal.h"
#include "spdlog/spdlog.h"
#include "web.h"

ABSL_FLAG(int32_t, http_port, 8080, "HTTP port for people (0 = let the kernel pick)");
ABSL_FLAG(std::string, http_bind_address, "0.0.0.0", "Address the HTTP port binds");
ABSL_FLAG(std::string, invitation_address, "127.0.0.1:50051", "pc-invitation gRPC address");
ABSL_FLAG(std::string, relationship_address, "127.0.0.1:50052", "pc-relationship gRPC address");
ABSL_FLAG(std::string, notification_address, "127.0.0.1:50053", "pc-notification gRPC address");
ABSL_FLAG(absl::Duration, backend_deadline, absl::Seconds(5), "Deadline of each gRPC call");
ABSL_FLAG(bool, dev_sign_in, false,
          "Local development: /signin mints tokens with <jwt_keys_dir>/<jwt_kid>.key.pem. "
          "Never in production");
ABSL_FLAG(std::string, jwt_kid, "dev-1", "Key id used for dev sign-in");
ABSL_FLAG(std::string, identity_header, "",
          "Production: the request header in which the sign-in proxy forwards the user's JWT");
ABSL_FLAG(std::string, csrf_secret_file, "",
          "File holding the CSRF HMAC secret (share it across replicas); empty: random per "
          "process");
ABSL_FLAG(bool, insecure_cookies, false,
          "Plain-HTTP local runs: the session cookie without the Secure attribute");
ABSL_FLAG(absl::Duration, session_ttl, absl::Hours(8), "Lifetime of a dev sign-in session");
ABSL_FLAG(absl::Duration, feed_linger, absl::Seconds(30),
          "How long a partner's live feed stays open after its last page closed");
ABSL_FLAG(int32_t, http_workers, 8, "Concurrent page requests (each may wait on gRPC)");

int main(int argc, char** argv) {
  absl::SetFlag(&FLAGS_grpc_port, 0);  // the portal's gRPC port only serves health
  absl::SetFlag(&FLAGS_admin_port, 51080);
  pc::runtime::Init(
      argc, argv, "portal",
      {pc::runtime::PortFlag(FLAGS_http_port), pc::runtime::NonEmptyFlag(FLAGS_invitation_address),
       pc::runtime::NonEmptyFlag(FLAGS_relationship_address),
       pc::runtime::NonEmptyFlag(FLAGS_notification_address),
       pc::runtime::PositiveDurationFlag(FLAGS_backend_deadline),
       pc::runtime::PositiveDurationFlag(FLAGS_session_ttl),
       pc::runtime::CheckFlag<int32_t>(FLAGS_http_workers, [](const int32_t& n) -> std::string {
         return n >= 1 && n <= 256 ? "" : "must be 1–256";
       }),
       [] {
         const bool dev = absl::GetFlag(FLAGS_dev_sign_in);
         const bool header = !absl::GetFlag(FLAGS_identity_header).empty();
         if (dev == header) {
           return pc::runtime::InvalidFlagError(
               "identity_header", "set exactly one of --identity_header (production) and "
                                  "--dev_sign_in (local development)");
         }
         return absl::OkStatus();
       }});
  const std::string cloud = absl::GetFlag(FLAGS_cloud);

  auto verifier = pc::runtime::LoadVerifierFromFlags();
  PC_CHECK_OK(verifier.status());
  pc::auth::VerifiedTokenCache tokens(*verifier);

  pc::portal::Portal::Options options{.cloud = cloud,
                                      .csrf_secret = pc::RandomUrlSafeToken(32),
                                      .insecure_cookies = absl::GetFlag(FLAGS_insecure_cookies),
                                      .identity_header = absl::GetFlag(FLAGS_identity_header),
                                      .session_ttl = absl::GetFlag(FLAGS_session_ttl)};
  if (const std::string path = absl::GetFlag(FLAGS_csrf_secret_file); !path.empty()) {
    std::ifstream in(path);
    std::stringstream secret;
    secret << in.rdbuf();
    if (!in || secret.str().size() < 16) {
      PC_CHECK_OK(pc::runtime::InvalidFlagError("csrf_secret_file",
                                                "unreadable or shorter than 16 bytes"));
    }
    options.csrf_secret = secret.str();
  }
  if (absl::GetFlag(FLAGS_dev_sign_in)) {
    auto minter = pc::auth::Minter::FromDirectory(
        absl::GetFlag(FLAGS_jwt_keys_dir), absl::GetFlag(FLAGS_jwt_kid),
        absl::GetFlag(FLAGS_jwt_issuer), absl::GetFlag(FLAGS_jwt_audience));
    PC_CHECK_OK(minter.status());
    options.dev_minter = *std::move(minter);
    spdlog::warn("portal: dev sign-in is ON (tokens minted locally); never use it in production");
  }

  pc::portal::Backends backends = pc::portal::Backends::Connect(
      {.invitation = absl::GetFlag(FLAGS_invitation_address),
       .relationship = absl::GetFlag(FLAGS_relationship_address),
       .notification = absl::GetFlag(FLAGS_notification_address)},
      absl::GetFlag(FLAGS_backend_deadline), pc::runtime::ChannelCredentialsFromFlags());
  pc::portal::FeedHub hub(std::make_unique<pc::portal::GrpcWatchSource>(backends.notification),
                          &pc::portal::Portal::ChangeFrame, &pc::portal::Portal::StatusFrame,
                          {.linger = absl::GetFlag(FLAGS_feed_linger)});
  pc::portal::Portal portal(std::move(options), std::move(backends), tokens,
                            pc::SystemClock::Get());
  pc::portal::HttpServer http({.bind_address = absl::GetFlag(FLAGS_http_bind_address),
                               .port = absl::GetFlag(FLAGS_http_port),
                               .worker_threads = absl::GetFlag(FLAGS_http_workers),
                               .identity_header = absl::GetFlag(FLAGS_identity_header)},
                              portal, hub);

  auto& registry = pc::runtime::Registry::Default();
  registry.AddGauge("pc_portal_feed_streams", "Partners with a live WatchCustomers stream.")
      .WithLabels()
      .SetCallback([&hub] { return static_cast<double>(hub.streams()); });
  registry.AddGauge("pc_portal_sse_clients", "Open Server-Sent Events connections.")
      .WithLabels()
      .SetCallback([&http] { return static_cast<double>(http.open_streams()); });

  pc::runtime::Server server(pc::runtime::ServerOptions::FromFlags());
  server.OnStop("http", [&http] { http.Stop(); });
  PC_CHECK_OK(http.Start());
  PC_CHECK_OK(server.Start());
  spdlog::info("portal ({}) serving http://127.0.0.1:{}/ , admin on :{}", cloud, http.port(),
               server.admin_port());
  server.Wait();
  return 0;
}
