#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker + controller in one JVM) for local runs and the
# integration test tiers, run straight from the Maven Central jars with the machine's Java 17.
#
#   kafka.sh fetch                    download the jars into PC_KAFKA_HOME (once)
#   kafka.sh start                    format (once) and start the broker, wait until it answers
#   kafka.sh create-topics [cloud..]  create the partnercenter.<cloud>.* topics if missing
#   kafka.sh stop                     stop the broker (SIGTERM, then SIGKILL after 60 s)
#   kafka.sh status                   exit 0 if the broker runs and answers metadata
#
# Environment (defaults):
#   PC_KAFKA_VERSION          4.3.1
#   PC_KAFKA_HOME             ${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/kafka-<version>
#   PC_KAFKA_DIR              $PWD/.local/kafka   (server.properties, data/, kafka.log, kafka.pid)
#   PC_KAFKA_PORT             9092   (PLAINTEXT listener on 127.0.0.1)
#   PC_KAFKA_CONTROLLER_PORT  9093   (CONTROLLER listener on 127.0.0.1)
#   PC_KAFKA_HEAP             -Xmx512m
#   PC_KAFKA_START_TIMEOUT    120    (seconds to wait for the broker to answer)
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly VERSION="${PC_KAFKA_VERSION:-4.3.1}"
readonly HOME_DIR="${PC_KAFKA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/kafka-${VERSION}}"
readonly LIBS="${HOME_DIR}/libs"
readonly MARKER="${HOME_DIR}/.fetched-${VERSION}"
STATE_DIR="${PC_KAFKA_DIR:-$PWD/.local/kafka}"
readonly PORT="${PC_KAFKA_PORT:-9092}"
readonly CPORT="${PC_KAFKA_CONTROLLER_PORT:-9093}"
read -r -a HEAP <<<"${PC_KAFKA_HEAP:--Xmx512m}"
readonly START_TIMEOUT="${PC_KAFKA_START_TIMEOUT:-120}"
readonly BOOTSTRAP="127.0.0.1:${PORT}"
readonly DEFAULT_CLOUDS=(global usgov germany)
readonly TOPIC_KINDS=(invitation-events relationship-events dead-letter)

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

state_paths() {
  mkdir -p "$STATE_DIR"
  STATE_DIR="$(cd "$STATE_DIR" && pwd)"
  PROPS="${STATE_DIR}/server.properties"
  LOG4J="${STATE_DIR}/log4j2.properties"
  DATA="${STATE_DIR}/data"
  LOGFILE="${STATE_DIR}/kafka.log"
  PIDFILE="${STATE_DIR}/kafka.pid"
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"
}

# The pid from the pid file if that process is alive and is our broker, else nothing.
live_pid() {
  [[ -f "${PIDFILE}" ]] || return 1
  local pid
  pid="$(<"${PIDFILE}")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *" kafka.Kafka "* ]] || return 1
  echo "$pid"
}

# True once the broker lists itself (node 1, unfenced) in a metadata response.
answers() {
  local metadata
  metadata="$(kcat -L -b "$BOOTSTRAP" -m 2 -X log_level=0 2>/dev/null)" || return 1
  [[ "$metadata" == *"broker 1 at"* ]]
}

java_tool() {
  # Short-lived CLI JVMs: a small heap and the C1 compiler start fastest.
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.level=WARN \
    -cp "${LIBS}/*" "$@"
}

cmd_fetch() {
  if [[ -f "$MARKER" ]]; then
    return 0
  fi
  require java "install openjdk-17-jre-headless"
  require mvn "install maven"
  mkdir -p "$HOME_DIR"
  exec 9>"${HOME_DIR}/.lock"
  flock 9
  if [[ -f "$MARKER" ]]; then  # another fetch finished while we waited
    exec 9>&-
    return 0
  fi
  log "fetching Apache Kafka ${VERSION} jars from Maven Central into ${LIBS}"
  local started=$SECONDS
  rm -rf "${LIBS}.tmp" "$LIBS"
  mvn -B -q -Dstyle.color=never -f "${SCRIPT_DIR}/pom.xml" -Dkafka.version="${VERSION}" \
    dependency:copy-dependencies -DoutputDirectory="${LIBS}.tmp" >&2 \
    || die "maven could not fetch the Kafka ${VERSION} jars"
  [[ -f "${LIBS}.tmp/kafka_2.13-${VERSION}.jar" ]] || die "kafka_2.13-${VERSION}.jar missing after fetch"
  mv "${LIBS}.tmp" "$LIBS"
  ls "$LIBS" >"$MARKER"
  log "fetched $(wc -l <"$MARKER") jars in $((SECONDS - started)) s"
  exec 9>&-
}

write_config() {
  cat >"$PROPS" <<EOF
# Written by deploy/local/kafka/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CPORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CPORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=${DATA}
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
  cat >"$LOG4J" <<'EOF'
# Broker logging: everything to stdout, which kafka.sh sends to kafka.log.
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.kafka-request.name = kafka.request.logger
logger.kafka-request.level = WARN
logger.state-change.name = state.change.logger
logger.state-change.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
}

format_once() {
  [[ -f "${DATA}/meta.properties" ]] && return 0
  local cluster_id
  # A Kafka Uuid: 16 random bytes, base64url without padding, not starting with '-'.
  while :; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
    [[ "$cluster_id" != -* ]] && break
  done
  log "formatting ${DATA} (cluster id ${cluster_id})"
  java_tool kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$PROPS" \
    --ignore-formatted >&2 || die "formatting the storage failed"
}

show_log() {
  grep -m 5 -E '^\[[^]]*\] (ERROR|FATAL)' "$LOGFILE" >&2 || true
  echo "..." >&2
  tail -n 25 "$LOGFILE" >&2 || true
}

wait_until_answering() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start-up; errors and last lines of ${LOGFILE}:"
      show_log
      rm -f "$PIDFILE"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "broker did not answer on ${BOOTSTRAP} within ${START_TIMEOUT} s; errors and last lines of ${LOGFILE}:"
      show_log
      exit 1
    fi
    sleep 0.5
  done
}

cmd_start() {
  require kcat "apt-get install -y kcat"
  state_paths
  local pid
  if pid="$(live_pid)"; then
    wait_until_answering "$pid"
    log "already running (pid ${pid})"
    echo "$BOOTSTRAP"
    return 0
  fi
  rm -f "$PIDFILE"
  cmd_fetch
  local started=$SECONDS
  mkdir -p "$DATA"
  write_config
  format_once
  [[ -f "$LOGFILE" ]] && mv -f "$LOGFILE" "${LOGFILE}.prev"
  # Own session, no inherited stdio: the broker outlives this script and its caller (ctest).
  setsid java "${HEAP[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$STATE_DIR" \
    -cp "${LIBS}/*" kafka.Kafka "$PROPS" </dev/null >"$LOGFILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  log "started broker pid ${pid}, log ${LOGFILE}"
  wait_until_answering "$pid"
  log "broker answering on ${BOOTSTRAP} after $((SECONDS - started)) s"
  echo "$BOOTSTRAP"
}

cmd_stop() {
  [[ -d "$STATE_DIR" ]] || { log "not running"; return 0; }
  state_paths
  local pid
  if ! pid="$(live_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker pid ${pid} still alive after 60 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped (pid ${pid})"
}

cmd_status() {
  [[ -d "$STATE_DIR" ]] || { log "not running"; return 1; }
  state_paths
  local pid
  if ! pid="$(live_pid)"; then
    log "not running"
    return 1
  fi
  if ! answers; then
    log "pid ${pid} runs but does not answer on ${BOOTSTRAP}"
    return 1
  fi
  log "running (pid ${pid}) on ${BOOTSTRAP}"
}

cmd_create_topics() {
  [[ -d "$STATE_DIR" ]] || { log "not running"; return 1; }
  state_paths
  live_pid >/dev/null || die "broker not running (kafka.sh start first)"
  local clouds=("$@")
  ((${#clouds[@]})) || clouds=("${DEFAULT_CLOUDS[@]}")
  local existing cloud kind topic
  existing="$(kcat -L -b "$BOOTSTRAP" -m 10 -X log_level=0 2>/dev/null)" \
    || die "could not list topics on ${BOOTSTRAP}"
  for cloud in "${clouds[@]}"; do
    [[ "$cloud" =~ ^[a-z0-9-]+$ ]] || die "bad cloud name '${cloud}'"
    for kind in "${TOPIC_KINDS[@]}"; do
      topic="partnercenter.${cloud}.${kind}.v1"
      if grep -qF "topic \"${topic}\" with" <<<"$existing"; then
        log "exists: ${topic}"
        continue
      fi
      local out
      out="$(java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --create --if-not-exists --topic "$topic" --partitions 3 --replication-factor 1 2>&1)" \
        || { echo "$out" >&2; die "could not create ${topic}"; }
      log "created: ${topic}"
    done
  done
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  create-topics) shift; cmd_create_topics "$@" ;;
  *)
    echo "usage: $0 {fetch|start|create-topics [cloud ...]|stop|status}" >&2
    exit 2
    ;;
esac
