#include "pc/runtime/init.h"

#include <cstdlib>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

// Init() is the only place that exits; each case runs in a child process.
void RunInit(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  Init(static_cast<int>(argv.size()), argv.data(), "invitation");
}

TEST(InitDeathTest, BadEnvironmentExitsTwoNamingTheVariable) {
  EXPECT_EXIT(
      {
        setenv("PC_CLOUD", "mars", 1);
        RunInit({"invitation"});
      },
      ::testing::ExitedWithCode(2),
      "invitation: invalid configuration: --cloud \\(env PC_CLOUD\\): must be one of global, "
      "usgov, germany; got 'mars'");
}

TEST(InitDeathTest, BadArgumentExitsTwoNamingTheFlag) {
  EXPECT_EXIT(RunInit({"invitation", "--grpc_port=http"}), ::testing::ExitedWithCode(2),
              "invalid configuration: --grpc_port: cannot use 'http'");
}

TEST(InitDeathTest, HelpExitsZero) {
  EXPECT_EXIT(RunInit({"invitation", "--help"}), ::testing::ExitedWithCode(0), "");
}

TEST(InitTest, GoodConfigurationSetsFlagsAndService) {
  absl::FlagSaver saver;
  setenv("PC_LOG_FORMAT", "text", 1);
  RunInit({"invitation", "--log_level=warn", "--cloud=germany"});
  unsetenv("PC_LOG_FORMAT");
  EXPECT_EQ(ServiceName(), "invitation");
  EXPECT_EQ(absl::GetFlag(FLAGS_log_format), "text");
  EXPECT_EQ(absl::GetFlag(FLAGS_cloud), "germany");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
}

TEST(InitDeathTest, CheckOkAbortsWithTheStatus) {
  EXPECT_DEATH(PC_CHECK_OK(absl::UnavailableError("port 50051 in use")), "port 50051 in use");
}

}  // namespace
}  // namespace pc::runtime
