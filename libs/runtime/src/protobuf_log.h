// libprotobuf's own log lines (GOOGLE_LOG: e.g. "String field '…' contains invalid UTF-8 data
// when parsing a protocol buffer") go through spdlog, so they are JSON lines like every other
// and a caller cannot write raw text into the log. A parse failure a caller caused is logged at
// debug level; the gRPC answer (error_details_interceptor.h) is what reports it.
//
//   InstallProtobufLogHandler();                    // SetupLogging does this
//   std::string field = TakeInvalidUtf8Field();     // on the thread that parsed, after a parse
#pragma once

#include <string>

namespace pc::runtime {

// Routes libprotobuf's log output through spdlog's default logger. Idempotent.
void InstallProtobufLogHandler();

// The full name of the string field (e.g. "partnercenter.relationship.v1.GetRelationshipRequest
// .customer_id") whose invalid UTF-8 the last parse on this thread reported, or ""; clears it.
std::string TakeInvalidUtf8Field();

}  // namespace pc::runtime
