#!/usr/bin/env bash
# Checks by hand that the machine's librdkafka (through kcat) works against the broker kafka.sh
# runs: an idempotent, acks=all, lz4 producer; a consumer group that commits its offsets; and
# the on-disk batches (producer id, lz4). Not part of CI. Uses a throw-away topic, deleted at the end.
#
#   deploy/local/kafka/kafka.sh start && deploy/local/kafka/smoke.sh
#
# Same environment as kafka.sh (PC_KAFKA_PORT, PC_KAFKA_DIR, PC_KAFKA_HOME, PC_KAFKA_VERSION).
set -euo pipefail

readonly VERSION="${PC_KAFKA_VERSION:-4.3.1}"
readonly LIBS="${PC_KAFKA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/kafka-${VERSION}}/libs"
readonly STATE_DIR="${PC_KAFKA_DIR:-$PWD/.local/kafka}"
readonly BOOTSTRAP="127.0.0.1:${PC_KAFKA_PORT:-9092}"
# The broker is secured: everything here runs as the admin super user (kafka.sh writes these).
readonly ADMIN_RDKAFKA="${STATE_DIR}/admin.librdkafka.properties"
readonly ADMIN_JAVA="${STATE_DIR}/admin.java.properties"
readonly COUNT=100
readonly RUN="$(date +%s)-$$"
readonly TOPIC="pc.smoke.${RUN}"
readonly GROUP="pc-smoke-${RUN}"
WORK="$(mktemp -d)"
readonly WORK

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
pass() { echo "smoke: ok: $*"; }
java_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.level=WARN -cp "${LIBS}/*" "$@"
}
cleanup() {
  java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_JAVA" \
    --delete --if-exists --topic "$TOPIC" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$(dirname "$0")/kafka.sh" status || fail "broker not running on ${BOOTSTRAP}"
echo "smoke: $(kcat -V 2>&1 | grep -m1 '^Version' || true)"

java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_JAVA" --create \
  --topic "$TOPIC" --partitions 3 --replication-factor 1 >/dev/null 2>&1 \
  || fail "could not create ${TOPIC}"
pass "created ${TOPIC} (3 partitions)"

# 1. Idempotent producer, acks=all, lz4. -d eos logs the producer id librdkafka acquires.
seq 1 "$COUNT" | sed 's/.*/key-&:value-&/' \
  | kcat -F "$ADMIN_RDKAFKA" -P -b "$BOOTSTRAP" -t "$TOPIC" -K: -X enable.idempotence=true -X acks=all -z lz4 \
      -d eos 2>"${WORK}/produce.log" \
  || { tail -n 20 "${WORK}/produce.log" >&2; fail "produce"; }
pid_line="$(grep -o 'Acquired PID{[^}]*}' "${WORK}/produce.log" | tail -n1)" || true
[[ -n "$pid_line" ]] || fail "producer never acquired an idempotent producer id"
pass "produced ${COUNT} messages (idempotent, acks=all, lz4): ${pid_line}"

# 2. On disk: every batch carries a producer id and lz4 compression.
batches="$(for f in "${STATE_DIR}/data/${TOPIC}"-*/*.log; do
  java_tool org.apache.kafka.tools.DumpLogSegments --files "$f" 2>/dev/null | grep '^baseOffset'
done)"
total="$(grep -o 'count: [0-9]*' <<<"$batches" | awk '{s += $2} END {print s + 0}')"
[[ "$total" -eq "$COUNT" ]] || fail "log segments hold ${total} records, expected ${COUNT}"
if grep -v 'compresscodec: lz4' <<<"$batches" | grep -q .; then fail "a batch is not lz4"; fi
if grep -q 'producerId: -1' <<<"$batches"; then fail "a batch has no producer id"; fi
pass "log segments: ${total} records in $(wc -l <<<"$batches") batches, all lz4 with producerId/sequence"

# 3. Consumer group reads everything once and commits; a second run of the group reads nothing.
consume() {
  kcat -F "$ADMIN_RDKAFKA" -C -b "$BOOTSTRAP" -G "$GROUP" -X auto.offset.reset=earliest -e -q -f '%k\n' "$TOPIC" \
    2>>"${WORK}/consume.log"
}
consume >"${WORK}/first.txt" || fail "first consume"
first="$(wc -l <"${WORK}/first.txt")"
unique="$(sort -u "${WORK}/first.txt" | wc -l)"
[[ "$first" -eq "$COUNT" && "$unique" -eq "$COUNT" ]] \
  || fail "group read ${first} messages (${unique} distinct), expected ${COUNT}"
pass "group ${GROUP} consumed ${first} messages, ${unique} distinct keys"
consume >"${WORK}/second.txt" || fail "second consume"
second="$(wc -l <"${WORK}/second.txt")"
[[ "$second" -eq 0 ]] || fail "second run of the group re-read ${second} messages"
pass "second run of the group read 0 messages (offsets committed)"

# 4. The broker's view of the committed offsets: lag 0 on every partition, sum = COUNT.
describe="$(java_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
  --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_JAVA" --describe --group "$GROUP" 2>/dev/null)"
committed="$(awk -v t="$TOPIC" '$2 == t {s += $4; if ($6 != 0) bad = 1} END {print (bad ? -1 : s + 0)}' \
  <<<"$describe")"
[[ "$committed" -eq "$COUNT" ]] || { echo "$describe" >&2; fail "committed offsets sum ${committed}"; }
pass "committed offsets sum to ${committed}, lag 0 on all partitions"

echo "smoke: PASS"
