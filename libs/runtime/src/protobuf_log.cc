#include "protobuf_log.h"

#include <string_view>
#include <utility>

#include "google/protobuf/stubs/logging.h"
#include "spdlog/spdlog.h"

namespace pc::runtime {
namespace {

thread_local std::string invalid_utf8_field;

constexpr std::string_view kUtf8Prefix = "String field '";
constexpr std::string_view kUtf8Marker = "contains invalid UTF-8 data when parsing";

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  if (message.rfind(kUtf8Prefix, 0) == 0 && message.find(kUtf8Marker) != std::string::npos) {
    const size_t end = message.find('\'', kUtf8Prefix.size());
    invalid_utf8_field = message.substr(kUtf8Prefix.size(), end - kUtf8Prefix.size());
    spdlog::debug("libprotobuf: {} ({}:{})", message, filename, line);
    return;
  }
  spdlog::level::level_enum to = level == google::protobuf::LOGLEVEL_INFO      ? spdlog::level::info
                                 : level == google::protobuf::LOGLEVEL_WARNING ? spdlog::level::warn
                                 : level == google::protobuf::LOGLEVEL_ERROR   ? spdlog::level::err
                                                                               : spdlog::level::critical;
  spdlog::log(to, "libprotobuf: {} ({}:{})", message, filename, line);
}

}  // namespace

void InstallProtobufLogHandler() { google::protobuf::SetLogHandler(&Handle); }

std::string TakeInvalidUtf8Field() { return std::exchange(invalid_utf8_field, std::string()); }

}  // namespace pc::runtime
