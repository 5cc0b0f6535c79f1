#include "pc/runtime/logging.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"

namespace pc::runtime {
namespace {

using ::testing::MatchesRegex;

std::shared_ptr<spdlog::logger> CaptureLogger(std::ostringstream& out, LogFormat format) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(MakeLogFormatter("invitation", format));
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::trace);
  return logger;
}

TEST(LoggingTest, JsonLineEscapesTheMessage) {
  std::ostringstream out;
  CaptureLogger(out, LogFormat::kJson)->warn("said \"hi\"\nthen {} \\ left", "\x01");
  std::string line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one event, one line";
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["service"], "invitation");
  EXPECT_EQ(j["msg"], "said \"hi\"\nthen \x01 \\ left");
  EXPECT_THAT(j["ts"].get<std::string>(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"));
  EXPECT_FALSE(j.contains("correlation_id"));
}

TEST(LoggingTest, InvalidUtf8StillGivesValidJson) {
  std::ostringstream out;
  CaptureLogger(out, LogFormat::kJson)->info("bad byte \xff here");
  nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["msg"], "bad byte \xEF\xBF\xBD here");
}

TEST(LoggingTest, CorrelationScopesNestAndRestore) {
  std::ostringstream out;
  auto logger = CaptureLogger(out, LogFormat::kJson);
  {
    CorrelationScope outer("corr-1");
    logger->info("a");
    {
      CorrelationScope inner("corr-2");
      EXPECT_EQ(CurrentCorrelationId(), "corr-2");
      logger->info("b");
    }
    logger->info("c");
  }
  logger->info("d");
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> events;
  for (std::string line; std::getline(lines, line);) events.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["correlation_id"], "corr-1");
  EXPECT_EQ(events[1]["correlation_id"], "corr-2");
  EXPECT_EQ(events[2]["correlation_id"], "corr-1");
  EXPECT_FALSE(events[3].contains("correlation_id"));
  EXPECT_EQ(CurrentCorrelationId(), "");
}

TEST(LoggingTest, TextFormatForLocalRuns) {
  std::ostringstream out;
  CorrelationScope scope("corr-9");
  CaptureLogger(out, LogFormat::kText)->error("boom");
  EXPECT_THAT(out.str(), MatchesRegex("[0-9T:.-]+Z error invitation \\[corr-9\\] boom\n"));
}

TEST(LoggingTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(*ParseLogLevel("error"), spdlog::level::err);
  EXPECT_EQ(ParseLogLevel("loud").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("xml").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pc::runtime
