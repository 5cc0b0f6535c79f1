#include "pc/runtime/logging.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "protobuf_log.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace pc::runtime {
namespace {

thread_local std::string current_correlation_id;

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(std::string service, LogFormat format)
      : service_(std::move(service)), format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(msg.time),
                                      absl::UTCTimeZone());
    auto level = spdlog::level::to_string_view(msg.level);
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string line;
    if (format_ == LogFormat::kJson) {
      nlohmann::ordered_json j;
      j["ts"] = ts;
      j["level"] = std::string(level.data(), level.size());
      j["service"] = service_;
      j["msg"] = text;
      if (!current_correlation_id.empty()) j["correlation_id"] = current_correlation_id;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = absl::StrCat(ts, " ", std::string(level.data(), level.size()), " ", service_);
      if (!current_correlation_id.empty()) {
        absl::StrAppend(&line, " [", current_correlation_id, "]");
      }
      absl::StrAppend(&line, " ", std::string(text));
    }
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(service_, format_);
  }

 private:
  std::string service_;
  LogFormat format_;
};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(const std::string& text) {
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  return absl::InvalidArgumentError(absl::StrCat("unknown log format '", text, "'"));
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(const std::string& text) {
  using spdlog::level::level_enum;
  static const std::pair<const char*, level_enum> kLevels[] = {
      {"trace", level_enum::trace}, {"debug", level_enum::debug},
      {"info", level_enum::info},   {"warn", level_enum::warn},
      {"error", level_enum::err},   {"critical", level_enum::critical},
      {"off", level_enum::off}};
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown log level '", text, "'"));
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string service, LogFormat format) {
  return std::make_unique<LineFormatter>(std::move(service), format);
}

void SetupLogging(const std::string& service, LogFormat format,
                  spdlog::level::level_enum level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(MakeLogFormatter(service, format));
  auto logger = std::make_shared<spdlog::logger>(service, std::move(sink));
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  InstallProtobufLogHandler();
}

CorrelationScope::CorrelationScope(std::string correlation_id)
    : previous_(std::exchange(current_correlation_id, std::move(correlation_id))) {}

CorrelationScope::~CorrelationScope() { current_correlation_id = std::move(previous_); }

const std::string& CurrentCorrelationId() { return current_correlation_id; }

}  // namespace pc::runtime
