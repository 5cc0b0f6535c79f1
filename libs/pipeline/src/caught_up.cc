#include "pc/pipeline/caught_up.h"

#include "nlohmann/json.hpp"
#include "pc/storage/outbox.h"

namespace pc::pipeline {

std::string CaughtUpReport::ToJson() const {
  nlohmann::json json = {{"caught_up", caught_up}};
  if (group_lag) json["group_lag"] = *group_lag;
  if (unheld_partitions) json["unheld_partitions"] = *unheld_partitions;
  if (outbox_backlog) json["outbox_backlog"] = *outbox_backlog;
  if (!error.empty()) json["error"] = error;
  return json.dump() + "\n";
}

CaughtUpReport CaughtUp::Check() const {
  CaughtUpReport report;
  bool ok = true;
  if (sources_.consumer != nullptr) {
    absl::StatusOr<pc::kafka::GroupStatus> group = sources_.consumer->ProbeNow();
    if (group.ok()) {
      report.group_lag = group->lag;
      report.unheld_partitions = group->unheld;
      ok = ok && group->lag == 0;
    } else {
      report.error = "consumer group: " + group.status().ToString();
      ok = false;
    }
  }
  if (sources_.outbox != nullptr) {
    absl::StatusOr<int64_t> backlog = pc::storage::Outbox::Backlog(*sources_.outbox);
    if (backlog.ok()) {
      report.outbox_backlog = *backlog;
      ok = ok && *backlog == 0;
    } else {
      if (!report.error.empty()) report.error += "; ";
      report.error += "outbox: " + backlog.status().ToString();
      ok = false;
    }
  }
  report.caught_up = ok;
  return report;
}

pc::runtime::AdminPage CaughtUp::Page() const {
  CaughtUpReport report = Check();
  return {.status = report.caught_up ? 200u : 503u, .body = report.ToJson()};
}

}  // namespace pc::pipeline
