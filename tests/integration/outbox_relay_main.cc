// A stand-alone outbox relay for the delivery tests: publishes the outbox of a SQLite file
// to Kafka and reports on stdout. With "crash", it stops dead after the first batch was
// delivered but before it is marked sent, so the test can kill -9 it in exactly that window.
//
//   outbox_relay_main <sqlite path> <brokers> [crash]
//   → "PUBLISHED <n>" after delivery reports, "MARKED <n>" after mark-sent commits.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "pc/kafka/publisher.h"
#include "pc/testing/infra.h"
#include "pc/storage/database.h"
#include "pc/storage/outbox.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <sqlite path> <brokers> [crash]\n", argv[0]);
    return 2;
  }
  const bool crash = argc > 3 && std::string(argv[3]) == "crash";
  auto db = pc::storage::Open(argv[1]);
  auto publisher = pc::kafka::KafkaPublisher::Create(
      {.brokers = argv[2], .security = pc::testing::KafkaSecurity()});
  if (!db.ok() || !publisher.ok()) {
    std::fprintf(stderr, "setup failed\n");
    return 1;
  }
  pc::storage::OutboxRelay relay(
      **db, **publisher,
      {.on_published =
           [crash](const std::vector<pc::storage::OutboxEntry>& delivered) {
             std::printf("PUBLISHED %zu\n", delivered.size());
             std::fflush(stdout);
             while (crash) pause();  // wait here for SIGKILL
           },
       .on_marked_sent =
           [](const std::vector<int64_t>& ids) {
             std::printf("MARKED %zu\n", ids.size());
             std::fflush(stdout);
           }});
  relay.Start();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  (void)relay.Stop(absl::Seconds(10));
  (*publisher)->Close(absl::Seconds(10));
  return 0;
}
