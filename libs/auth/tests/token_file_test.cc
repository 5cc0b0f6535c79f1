#include "pc/auth/token_file.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pc::auth {
namespace {

TEST(TokenFileTest, ReadsTrimmedAndFollowsRotation) {
  const std::string path = ::testing::TempDir() + "/token_file_test_" + std::to_string(::getpid());
  std::filesystem::remove(path);
  TokenFile file(path);
  absl::StatusOr<std::string> missing = file.Get();
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr(path));

  std::ofstream(path) << "  first.token.sig\n";
  ASSERT_TRUE(file.Get().ok());
  EXPECT_EQ(*file.Get(), "first.token.sig");

  std::ofstream(path) << "second.longer.token.sig\n";  // rotated in place
  EXPECT_EQ(*file.Get(), "second.longer.token.sig");

  std::ofstream(path) << "\n";
  absl::StatusOr<std::string> empty = file.Get();
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pc::auth
