// GET /caughtup: true when the service's consumer group has no lag on any partition of its
// topics (whoever holds them) and its outbox has no unsent row. Tests and operators wait on
// it instead of guessing "nothing changed for a while".
//
//   pc::pipeline::CaughtUp caught_up({.consumer = &monitor, .outbox = db->get()});
//   server_options.admin_pages["/caughtup"] = [&] { return caught_up.Page(); };
//
// 200 {"caught_up":true,"group_lag":0,"unheld_partitions":0,"outbox_backlog":0}; 503 with the
// same fields (and "error" when something could not be read) otherwise.
#pragma once

#include <optional>
#include <string>

#include "pc/pipeline/consumer_monitor.h"
#include "pc/runtime/server.h"
#include "pc/storage/database.h"

namespace pc::pipeline {

struct CaughtUpReport {
  bool caught_up = false;
  std::optional<int64_t> group_lag;          // no consumer: unset
  std::optional<int64_t> unheld_partitions;  // no consumer: unset
  std::optional<int64_t> outbox_backlog;     // no outbox: unset
  std::string error;                         // what could not be read
  std::string ToJson() const;
};

class CaughtUp {
 public:
  struct Sources {
    const ConsumerMonitor* consumer = nullptr;  // nullptr: a service without a consumer
    pc::storage::Database* outbox = nullptr;    // nullptr: a service without an outbox
  };
  explicit CaughtUp(Sources sources) : sources_(sources) {}

  // Reads everything fresh (a group probe and a COUNT on the outbox).
  CaughtUpReport Check() const;
  pc::runtime::AdminPage Page() const;

 private:
  Sources sources_;
};

}  // namespace pc::pipeline
