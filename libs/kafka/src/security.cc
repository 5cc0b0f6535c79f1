#include "pc/kafka/security.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "rdkafka_util.h"

namespace pc::kafka {
namespace {

// The content of `path`, or INVALID_ARGUMENT naming `setting` and the file.
absl::StatusOr<std::string> ReadFile(const std::string& setting, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, ": cannot read '", path, "': ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (content.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(setting, ": '", path, "' is empty"));
  }
  return content.str();
}

absl::Status CheckPem(const std::string& setting, const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(setting, path);
  if (!content.ok()) return content.status();
  if (!absl::StrContains(*content, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(setting, ": '", path, "' is not a PEM file"));
  }
  return absl::OkStatus();
}

// The password in `path` without its trailing line break.
absl::StatusOr<std::string> ReadPassword(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile("kafka_sasl_password_file", path);
  if (!content.ok()) return content.status();
  std::string password = *content;
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka_sasl_password_file: '", path, "' holds no password"));
  }
  return password;
}

bool IsTls(const Security& s) { return s.protocol == "SSL" || s.protocol == "SASL_SSL"; }

// Errors the broker (or we) raise when credentials are refused, as opposed to a broker that
// cannot be reached.
bool IsAuthenticationError(int err) {
  return err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
         err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE ||
         err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM;
}

// What VerifyConnection's error callback saw.
struct Probe {
  absl::Mutex mu;
  std::string refused ABSL_GUARDED_BY(mu);     // first authentication / TLS error
  std::string last_error ABSL_GUARDED_BY(mu);  // last other error

  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* probe = static_cast<Probe*>(opaque);
    absl::MutexLock lock(&probe->mu);
    const std::string text =
        absl::StrCat(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), ": ", reason);
    // A TLS alert from the broker (e.g. "tlsv13 alert certificate required", "alert unknown
    // ca") is a refusal even when librdkafka reports it as a transport error.
    if (IsAuthenticationError(err) ||
        (err == RD_KAFKA_RESP_ERR__TRANSPORT && absl::StrContains(reason, " alert "))) {
      if (probe->refused.empty()) probe->refused = text;
    } else {
      probe->last_error = text;
    }
  }
};

std::string Describe(const Security& s) {
  std::string out = absl::StrCat("security.protocol=", s.protocol);
  if (!s.ca_file.empty()) absl::StrAppend(&out, ", ca_file=", s.ca_file);
  if (!s.cert_file.empty()) absl::StrAppend(&out, ", cert_file=", s.cert_file);
  if (!s.sasl_username.empty()) {
    absl::StrAppend(&out, ", sasl ", s.sasl_mechanism, " user ", s.sasl_username);
  }
  return out;
}

}  // namespace

absl::Status ValidateSecurity(const Security& s) {
  if (s.protocol != "PLAINTEXT" && s.protocol != "SSL" && s.protocol != "SASL_SSL") {
    return absl::InvalidArgumentError(absl::StrCat(
        "kafka_security_protocol: must be one of PLAINTEXT, SSL, SASL_SSL; got '", s.protocol,
        "'"));
  }
  if (!IsTls(s)) {
    if (!s.ca_file.empty() || !s.cert_file.empty() || !s.key_file.empty()) {
      return absl::InvalidArgumentError(
          "kafka_security_protocol: PLAINTEXT, but TLS files are set (kafka_ca_file, "
          "kafka_cert_file, kafka_key_file); use SSL or SASL_SSL");
    }
  }
  if (s.protocol != "SASL_SSL" && (!s.sasl_username.empty() || !s.sasl_password_file.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka_security_protocol: ", s.protocol,
                     ", but SASL settings are set (kafka_sasl_username, "
                     "kafka_sasl_password_file); use SASL_SSL"));
  }
  if (s.cert_file.empty() != s.key_file.empty()) {
    return absl::InvalidArgumentError(
        "kafka_cert_file and kafka_key_file: set both (mTLS) or neither");
  }
  if (!s.ca_file.empty()) {
    if (absl::Status st = CheckPem("kafka_ca_file", s.ca_file); !st.ok()) return st;
  }
  if (!s.cert_file.empty()) {
    if (absl::Status st = CheckPem("kafka_cert_file", s.cert_file); !st.ok()) return st;
    if (absl::Status st = CheckPem("kafka_key_file", s.key_file); !st.ok()) return st;
  }
  if (s.protocol == "SASL_SSL") {
    if (s.sasl_mechanism != "SCRAM-SHA-512" && s.sasl_mechanism != "SCRAM-SHA-256") {
      return absl::InvalidArgumentError(absl::StrCat(
          "kafka_sasl_mechanism: must be SCRAM-SHA-512 or SCRAM-SHA-256; got '",
          s.sasl_mechanism, "'"));
    }
    if (s.sasl_username.empty()) {
      return absl::InvalidArgumentError("kafka_sasl_username: required with SASL_SSL");
    }
    if (s.sasl_password_file.empty()) {
      return absl::InvalidArgumentError("kafka_sasl_password_file: required with SASL_SSL");
    }
    if (absl::StatusOr<std::string> p = ReadPassword(s.sasl_password_file); !p.ok()) {
      return p.status();
    }
  }
  return absl::OkStatus();
}

namespace internal {

absl::Status ApplySecurity(rd_kafka_conf_t* conf, const Security& s) {
  if (absl::Status status = ValidateSecurity(s); !status.ok()) return status;
  std::map<std::string, std::string> properties = {
      {"security.protocol", absl::AsciiStrToLower(s.protocol)}};
  if (IsTls(s)) {
    // Verify the broker's host name / IP against its certificate (librdkafka's default since
    // 2.0, stated so that no "extra" silently turns it off unnoticed in a review).
    properties["ssl.endpoint.identification.algorithm"] = "https";
    if (!s.ca_file.empty()) properties["ssl.ca.location"] = s.ca_file;
    if (!s.cert_file.empty()) {
      properties["ssl.certificate.location"] = s.cert_file;
      properties["ssl.key.location"] = s.key_file;
    }
  }
  if (s.protocol == "SASL_SSL") {
    absl::StatusOr<std::string> password = ReadPassword(s.sasl_password_file);
    if (!password.ok()) return password.status();
    properties["sasl.mechanisms"] = s.sasl_mechanism;
    properties["sasl.username"] = s.sasl_username;
    properties["sasl.password"] = *password;
  }
  return SetProperties(conf, properties);
}

bool IsSecretProperty(const std::string& name) {
  return absl::StrContains(name, "password") || absl::StrContains(name, "secret") ||
         name == "ssl.key.pem" || name == "ssl_key" || name == "sasl.oauthbearer.config";
}

}  // namespace internal

absl::Status VerifyConnection(const std::string& brokers, const Security& security,
                              absl::Duration timeout) {
  if (brokers.empty()) return absl::InvalidArgumentError("kafka: brokers is empty");
  auto probe = std::make_unique<Probe>();
  auto conf = internal::NewConf(security, {{"bootstrap.servers", brokers},
                                           {"client.id", "pc-connection-check"}});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), probe.get());
  rd_kafka_conf_set_error_cb(conf->get(), &Probe::OnError);
  auto handle = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!handle.ok()) return handle.status();
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(*handle, &rd_kafka_destroy);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    const int wait_ms = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>(500, absl::ToInt64Milliseconds(left))));
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(rk.get(), 0, nullptr, &metadata, wait_ms) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
      return absl::OkStatus();
    }
    rd_kafka_poll(rk.get(), 0);  // serves the error callback
    absl::MutexLock lock(&probe->mu);
    if (!probe->refused.empty()) {
      std::string message = absl::StrCat("kafka: connecting to ", brokers, " with ",
                                         Describe(security), " was refused: ", probe->refused);
      if (security.protocol == "SASL_SSL") {
        absl::StrAppend(&message,
                        " (note: librdkafka 2.0.2's SCRAM is refused by Kafka 4.x brokers even "
                        "with the right password, confluentinc/librdkafka#4895, fixed in 2.6.1; "
                        "use SSL with a client certificate)");
      }
      return absl::UnauthenticatedError(message);
    }
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(absl::StrCat(
          "kafka: no broker of ", brokers, " answered within ", absl::FormatDuration(timeout),
          " (", Describe(security), ")",
          probe->last_error.empty() ? "" : absl::StrCat("; last error: ", probe->last_error)));
    }
  }
}

}  // namespace pc::kafka
