// The shared retention flags, in their own file so that only binaries calling
// RetentionFlagsFromFlags() define them.
#include "absl/flags/flag.h"
#include "pc/pipeline/retention.h"

ABSL_FLAG(absl::Duration, outbox_retention, absl::Hours(24),
          "Sent outbox rows are deleted after this long (unsent rows never are)");
ABSL_FLAG(absl::Duration, inbox_retention, absl::Hours(24 * 31),
          "Inbox rows (event ids already applied) are deleted after this long: the longest "
          "finite topic retention (30 days) plus a day");
ABSL_FLAG(absl::Duration, idempotency_window, absl::Hours(24),
          "How long a mutating call's request_id is remembered; a retry after that runs as a "
          "new call");
ABSL_FLAG(absl::Duration, retention_interval, absl::Minutes(10),
          "How often the retention rules run");

namespace pc::pipeline {

RetentionFlags RetentionFlagsFromFlags() {
  return {.outbox = absl::GetFlag(FLAGS_outbox_retention),
          .inbox = absl::GetFlag(FLAGS_inbox_retention),
          .idempotency_window = absl::GetFlag(FLAGS_idempotency_window),
          .interval = absl::GetFlag(FLAGS_retention_interval)};
}

}  // namespace pc::pipeline
