// A plain HTTP GET against a service's admin port on loopback (/caughtup, /metrics, /readyz),
// for tests and benches that wait on what an operator would look at.
//
//   auto [status, body] = pc::testing::HttpGet(admin_port, "/caughtup");
//   PC_RETURN_IF_ERROR(pc::testing::WaitForHttp200(admin_port, "/caughtup", absl::Minutes(5)));
#pragma once

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pc::testing {

// (HTTP status, body); status 0 and the error text if the request failed (not listening…).
std::pair<unsigned, std::string> HttpGet(int port, const std::string& target);

// Asks `target` every 200 ms until it answers 200; DEADLINE_EXCEEDED with the last answer.
absl::Status WaitForHttp200(int port, const std::string& target, absl::Duration timeout);

}  // namespace pc::testing
