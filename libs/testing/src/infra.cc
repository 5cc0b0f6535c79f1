#include "pc/testing/infra.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <libpq-fe.h>

#include <cstdlib>
#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pc/common/ids.h"

namespace pc::testing {
namespace {

absl::Status Exec(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("cannot connect to the test PostgreSQL (",
                                                 url, "): ", PQerrorMessage(conn)));
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      status = absl::InternalError(absl::StrCat(sql, ": ", PQerrorMessage(conn)));
    }
    PQclear(res);
  }
  PQfinish(conn);
  return status;
}

// Replaces the database name (the path) of a postgresql:// URL.
std::string WithDatabase(const std::string& url, const std::string& db) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = url.find('?');
  std::string base = url.substr(0, slash == std::string::npos ? query : slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return absl::StrCat(base, "/", db, rest);
}

}  // namespace

std::string RequiredEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(
        absl::StrCat(name, " is not set: run this test through ctest, whose fixtures start the ",
                     "real broker and PostgreSQL (see cmake/PcTestInfra.cmake)"));
  }
  return v;
}

std::string KafkaBrokers() { return RequiredEnv("PC_TEST_KAFKA_BROKERS"); }

pc::kafka::Security KafkaSecurity(const std::string& principal, const std::string& certs_dir) {
  const std::string dir = certs_dir.empty() ? RequiredEnv("PC_TEST_KAFKA_CERTS_DIR") : certs_dir;
  return {.protocol = "SSL",
          .ca_file = dir + "/ca.crt",
          .cert_file = absl::StrCat(dir, "/", principal, ".crt"),
          .key_file = absl::StrCat(dir, "/", principal, ".key")};
}

std::map<std::string, std::string> KafkaSecurityEnv(const std::string& principal,
                                                    const std::string& certs_dir) {
  const pc::kafka::Security s = KafkaSecurity(principal, certs_dir);
  return {{"PC_KAFKA_SECURITY_PROTOCOL", s.protocol},
          {"PC_KAFKA_CA_FILE", s.ca_file},
          {"PC_KAFKA_CERT_FILE", s.cert_file},
          {"PC_KAFKA_KEY_FILE", s.key_file}};
}

pc::kafka::Security UntrustedKafkaSecurity() {
  const std::string dir = RequiredEnv("PC_TEST_KAFKA_CERTS_DIR") + "/untrusted";
  return {.protocol = "SSL",
          .ca_file = dir + "/ca.crt",
          .cert_file = dir + "/admin.crt",
          .key_file = dir + "/admin.key"};
}

int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("could not pick a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string UniqueName(const std::string& prefix) {
  return absl::StrCat("test.", prefix, ".", NewUuid().substr(0, 8));
}

absl::StatusOr<std::unique_ptr<TempPostgresDatabase>> TempPostgresDatabase::Create() {
  const std::string admin_url = RequiredEnv("PC_TEST_DATABASE_URL");
  std::string name = absl::StrCat("pc_test_", NewUuid().substr(0, 8));
  absl::Status created = Exec(admin_url, absl::StrCat("CREATE DATABASE ", name));
  if (!created.ok()) return created;
  std::string url = WithDatabase(admin_url, name);
  return std::unique_ptr<TempPostgresDatabase>(
      new TempPostgresDatabase(admin_url, std::move(name), std::move(url)));
}

TempPostgresDatabase::~TempPostgresDatabase() {
  (void)Exec(admin_url_, absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
}

}  // namespace pc::testing
