// Logging for every service: spdlog's default logger writes one line per event to stderr,
// JSON by default (`{"ts":"2024-05-01T12:00:00.123Z","level":"info","service":"invitation",
// "msg":"...","correlation_id":"..."}`) or plain text for local runs (--log_format=text).
// Init() (init.h) sets it up from the flags; code just calls spdlog.
//
//   pc::runtime::CorrelationScope scope(request.correlation_id());   // this thread, this scope
//   spdlog::info("accepted invitation {}", id);                      // carries correlation_id
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "spdlog/formatter.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {

enum class LogFormat { kJson, kText };

// Parses "json" / "text".
absl::StatusOr<LogFormat> ParseLogFormat(const std::string& text);
// Parses trace, debug, info, warn, error, critical, off.
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(const std::string& text);

// The formatter behind SetupLogging (JSON-escapes the message; adds correlation_id if set).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string service, LogFormat format);

// Makes spdlog's default logger write `format` lines for `service` to stderr at `level`.
void SetupLogging(const std::string& service, LogFormat format, spdlog::level::level_enum level);

// Sets the correlation id that log lines of this thread carry until the scope ends; scopes
// nest and restore the previous id.
class CorrelationScope {
 public:
  explicit CorrelationScope(std::string correlation_id);
  ~CorrelationScope();
  CorrelationScope(const CorrelationScope&) = delete;
  CorrelationScope& operator=(const CorrelationScope&) = delete;

 private:
  std::string previous_;
};

// The correlation id of the innermost CorrelationScope on this thread, or "".
const std::string& CurrentCorrelationId();

}  // namespace pc::runtime
