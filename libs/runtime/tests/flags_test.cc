#include "pc/runtime/flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/testing/status_matchers.h"

ABSL_FLAG(std::string, example_database_url, "sqlite://test.db", "A service-specific flag.");
ABSL_FLAG(bool, example_dev_tokens, false, "A boolean flag.");

namespace pc::runtime {
namespace {

using ::pc::testing::IsOk;
using ::pc::testing::StatusIs;
using ::testing::HasSubstr;

class FlagsTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;  // every test starts from the defaults
};

TEST_F(FlagsTest, EnvVarNameIsUpperSnake) {
  EXPECT_EQ(EnvVarFor("grpc_port"), "PC_GRPC_PORT");
  EXPECT_EQ(EnvVarFor("database_url"), "PC_DATABASE_URL");
}

TEST_F(FlagsTest, EnvironmentSetsFlags) {
  ASSERT_OK(ParseFlags({{"PC_GRPC_PORT", "6000"},
                        {"PC_CLOUD", "usgov"},
                        {"PC_SHUTDOWN_GRACE", "5s"},
                        {"PC_EXAMPLE_DATABASE_URL", "postgresql://db/x"},
                        {"PC_UNRELATED_VARIABLE", "ignored"},
                        {"HOME", "/root"}},
                       {}));
  EXPECT_EQ(absl::GetFlag(FLAGS_grpc_port), 6000);
  EXPECT_EQ(absl::GetFlag(FLAGS_cloud), "usgov");
  EXPECT_EQ(absl::GetFlag(FLAGS_shutdown_grace), absl::Seconds(5));
  EXPECT_EQ(absl::GetFlag(FLAGS_example_database_url), "postgresql://db/x");
}

TEST_F(FlagsTest, CommandLineBeatsEnvironment) {
  ASSERT_OK(ParseFlags({{"PC_GRPC_PORT", "6000"}, {"PC_LOG_LEVEL", "debug"}},
                       {"--grpc_port=7000", "--log_level", "warn"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_grpc_port), 7000);
  EXPECT_EQ(absl::GetFlag(FLAGS_log_level), "warn");
}

TEST_F(FlagsTest, BooleanForms) {
  ASSERT_OK(ParseFlags({}, {"--example_dev_tokens"}));
  EXPECT_TRUE(absl::GetFlag(FLAGS_example_dev_tokens));
  ASSERT_OK(ParseFlags({}, {"--noexample_dev_tokens"}));
  EXPECT_FALSE(absl::GetFlag(FLAGS_example_dev_tokens));
  ASSERT_OK(ParseFlags({{"PC_EXAMPLE_DEV_TOKENS", "true"}}, {"-example_dev_tokens=false"}));
  EXPECT_FALSE(absl::GetFlag(FLAGS_example_dev_tokens));
}

TEST_F(FlagsTest, BadEnvironmentValueNamesTheVariable) {
  absl::Status status = ParseFlags({{"PC_GRPC_PORT", "not-a-port"}}, {});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "INVALID_FIELD"));
  EXPECT_THAT(status.message(), HasSubstr("PC_GRPC_PORT"));
  EXPECT_THAT(status.message(), HasSubstr("not-a-port"));
}

TEST_F(FlagsTest, BadArgumentValueNamesTheFlag) {
  absl::Status status = ParseFlags({}, {"--shutdown_grace=soon"});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "INVALID_FIELD"));
  EXPECT_THAT(status.message(), HasSubstr("--shutdown_grace"));
}

// The gRPC TLS flags (libs/tls) are checked at start like every other flag: a certificate
// file that is not there stops the service before it serves anything.
TEST_F(FlagsTest, UnusableTlsFilesStopTheStartNamingTheFlag) {
  absl::Status missing = ParseFlags({{"PC_GRPC_TLS_CERT_FILE", "/nonexistent/tls.crt"},
                                     {"PC_GRPC_TLS_KEY_FILE", "/nonexistent/tls.key"}},
                                    {});
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(), HasSubstr("--grpc_tls_cert_file: cannot read '/nonexistent/tls.crt'"));
  absl::Status half =
      ParseFlags({}, {"--grpc_tls_cert_file=", "--grpc_tls_key_file=/nonexistent/tls.key"});
  EXPECT_THAT(half.message(), HasSubstr("--grpc_tls_cert_file and --grpc_tls_key_file"));
}

TEST_F(FlagsTest, ValidatorsRejectOutOfRangeValues) {
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::string> args;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{
           {{{"PC_CLOUD", "mars"}}, {}, "--cloud (env PC_CLOUD)"},
           {{}, {"--grpc_port=70000"}, "--grpc_port (env PC_GRPC_PORT)"},
           {{}, {"--admin_port=-1"}, "--admin_port (env PC_ADMIN_PORT)"},
           {{{"PC_LOG_FORMAT", "xml"}}, {}, "--log_format (env PC_LOG_FORMAT)"},
           {{}, {"--log_level=loud"}, "--log_level (env PC_LOG_LEVEL)"},
           {{}, {"--shutdown_grace=0s"}, "--shutdown_grace (env PC_SHUTDOWN_GRACE)"},
       }) {
    absl::FlagSaver saver;
    absl::Status status = ParseFlags(c.env, c.args);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "INVALID_FIELD")) << c.named;
    EXPECT_THAT(status.message(), HasSubstr(c.named));
  }
}

TEST_F(FlagsTest, UnknownFlagMissingValueAndStrayArgumentsFail) {
  EXPECT_THAT(ParseFlags({}, {"--no_such_flag=1"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFlags({}, {"--grpc_port"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFlags({}, {"serve"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFlags({}, {"--", "serve"}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(FlagsTest, ServiceValidatorsRun) {
  FlagValidator postgres_only =
      CheckFlag<std::string>(FLAGS_example_database_url, [](const std::string& url) -> std::string {
        return url.starts_with("postgresql://") ? "" : "must be a postgresql:// URL";
      });
  absl::Status status = ParseFlags({}, {}, {postgres_only});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "INVALID_FIELD"));
  EXPECT_THAT(status.message(),
              HasSubstr("--example_database_url (env PC_EXAMPLE_DATABASE_URL): must be a postgresql"));
  EXPECT_THAT(ParseFlags({}, {"--example_database_url=postgresql://db/x"}, {postgres_only}), IsOk());
  EXPECT_THAT(ParseFlags({}, {"--example_database_url="}, {NonEmptyFlag(FLAGS_example_database_url)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(FlagsTest, UsageListsFlagsWithTheirVariables) {
  std::string usage = FlagsUsage("invitation");
  EXPECT_THAT(usage, HasSubstr("--grpc_port=50051   (env PC_GRPC_PORT)"));
  EXPECT_THAT(usage, HasSubstr("--example_database_url=sqlite://test.db   (env PC_EXAMPLE_DATABASE_URL)"));
}

}  // namespace
}  // namespace pc::runtime
