#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker + controller in one JVM) for local runs and the
# integration test tiers, run straight from the Maven Central jars with the machine's Java 17.
#
#   kafka.sh fetch                    download the jars into PC_KAFKA_HOME (once)
#   kafka.sh start                    format (once) and start the broker, wait until it answers
#   kafka.sh create-topics [cloud..]  create the partnercenter.<cloud>.* topics if missing
#   kafka.sh stop                     stop the broker (SIGTERM, then SIGKILL after 60 s)
#   kafka.sh status                   exit 0 if the broker runs and answers metadata
#   kafka.sh client-config <principal> [librdkafka|java]
#                                     print the client properties of one principal
#   kafka.sh certs                    generate the CA and the certificates (once; start does it)
#
# The broker is secured (docs/security.md): an SSL listener that requires a client
# certificate from the local CA (principal = the certificate's CN, e.g. User:relationship), a
# SASL_SSL listener with SCRAM-SHA-512 users created at format time, KRaft's
# StandardAuthorizer with the super users admin (the admin scripts) and broker, and
# least-privilege ACLs per service principal (acl_spec below). There is no plaintext listener.
#
# Environment (defaults):
#   PC_KAFKA_VERSION          4.3.1
#   PC_KAFKA_HOME             ${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/kafka-<version>
#   PC_KAFKA_DIR              $PWD/.local/kafka   (server.properties, data/, kafka.log, kafka.pid)
#   PC_KAFKA_PORT             9092   (SSL listener on 127.0.0.1, client certificate required)
#   PC_KAFKA_CONTROLLER_PORT  9093   (CONTROLLER listener on 127.0.0.1, SSL)
#   PC_KAFKA_SASL_PORT        PC_KAFKA_PORT+2  (SASL_SSL listener, SCRAM-SHA-512)
#   PC_KAFKA_CERTS_DIR        $PC_KAFKA_DIR/certs  (CA, broker and per-principal credentials)
#   PC_PCCTL                  (unset)  a built pcctl: writes the ACLs in one request instead of
#                                      one kafka-acls JVM per line (~10 s each on a busy machine)
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
readonly SASL_PORT="${PC_KAFKA_SASL_PORT:-$((PORT + 2))}"
read -r -a HEAP <<<"${PC_KAFKA_HEAP:--Xmx512m}"
readonly START_TIMEOUT="${PC_KAFKA_START_TIMEOUT:-120}"
readonly BOOTSTRAP="127.0.0.1:${PORT}"
readonly DEFAULT_CLOUDS=(global usgov germany)
readonly TOPIC_KINDS=(invitation-events relationship-events dead-letter)
# Every principal that gets a certificate and a SCRAM user. admin and broker are super users;
# portal has credentials but no ACL (it never needs Kafka; the tests prove what it cannot do).
readonly PRINCIPALS=(admin broker invitation relationship notification portal pcctl)

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
  CERTS="${PC_KAFKA_CERTS_DIR:-${STATE_DIR}/certs}"
  ADMIN_RDKAFKA="${STATE_DIR}/admin.librdkafka.properties"
  ADMIN_JAVA="${STATE_DIR}/admin.java.properties"
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
  metadata="$(kcat_admin -L -m 2 -X log_level=0 2>/dev/null)" || return 1
  [[ "$metadata" == *"broker 1 at"* ]]
}

# kcat as the admin super user: every kcat call of the scripts goes through here.
kcat_admin() {
  kcat -F "$ADMIN_RDKAFKA" -b "$BOOTSTRAP" "$@"
}

# A Kafka admin tool (TopicCommand, AclCommand, ...) as the admin super user.
admin_tool() {
  local class="$1"
  shift
  java_tool "$class" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_JAVA" "$@"
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

# issue NAME CA_DIR [SAN]: a P-256 key and a certificate CN=NAME signed by CA_DIR/ca.*, for
# client and server use; NAME.pem holds key and certificate (Java's PEM keystore).
issue() {
  local name="$1" dir="$2" san="${3:-}"
  local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth"
  [[ -n "$san" ]] && ext+=$'\n'"subjectAltName=${san}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${name}" \
    -keyout "${dir}/${name}.key" -out "${dir}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${dir}/${name}.csr" -CA "${dir}/ca.crt" -CAkey "${dir}/ca.key" \
    -CAcreateserial -days 825 -sha256 -extfile <(echo "$ext") -out "${dir}/${name}.crt" 2>/dev/null
  rm -f "${dir}/${name}.csr"
  cat "${dir}/${name}.key" "${dir}/${name}.crt" >"${dir}/${name}.pem"
}

new_ca() {
  local dir="$1" cn="$2"
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
    -subj "/CN=${cn}" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "${dir}/ca.key" -out "${dir}/ca.crt" 2>/dev/null
}

# The CA, the broker certificate (127.0.0.1, localhost), one certificate and one SCRAM
# password per principal, and, for the tests that prove a foreign CA is refused, a second CA
# under untrusted/ with an "admin" certificate of its own. Generated once; later starts reuse
# them (a lock keeps two brokers sharing PC_KAFKA_CERTS_DIR from generating at once).
ensure_certs() {
  [[ -f "${CERTS}/.complete" ]] && return 0
  require openssl "apt-get install -y openssl"
  mkdir -p "$CERTS"
  exec 8>"${CERTS}/.lock"
  flock 8
  if [[ ! -f "${CERTS}/.complete" ]]; then
    local started=$SECONDS
    (
      umask 077
      new_ca "$CERTS" "partnercenter local Kafka CA"
      issue broker "$CERTS" "DNS:localhost,IP:127.0.0.1"
      local p
      for p in "${PRINCIPALS[@]}"; do
        [[ "$p" == broker ]] || issue "$p" "$CERTS"
        head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32 >"${CERTS}/${p}.password"
      done
      new_ca "${CERTS}/untrusted" "an unrelated CA"
      issue admin "${CERTS}/untrusted"
    ) || die "generating certificates with openssl failed"
    touch "${CERTS}/.complete"
    log "generated a CA and certificates for ${PRINCIPALS[*]} in ${CERTS} in $((SECONDS - started)) s"
  fi
  exec 8>&-
}

# client_config PRINCIPAL FORMAT: the client properties of PRINCIPAL, librdkafka or java
# (for the SSL listener: the CA and the principal's certificate; docs/security.md).
client_config() {
  local p="$1" format="${2:-librdkafka}"
  [[ -f "${CERTS}/${p}.crt" ]] || die "no credentials for principal '${p}' in ${CERTS}"
  case "$format" in
    librdkafka)
      printf '%s\n' "security.protocol=ssl" "ssl.ca.location=${CERTS}/ca.crt" \
        "ssl.certificate.location=${CERTS}/${p}.crt" "ssl.key.location=${CERTS}/${p}.key"
      ;;
    java)
      printf '%s\n' "security.protocol=SSL" "ssl.truststore.type=PEM" \
        "ssl.truststore.location=${CERTS}/ca.crt" "ssl.keystore.type=PEM" \
        "ssl.keystore.location=${CERTS}/${p}.pem"
      ;;
    *) die "client-config: the format is librdkafka or java" ;;
  esac
}

write_client_configs() {
  client_config admin librdkafka >"$ADMIN_RDKAFKA"
  client_config admin java >"$ADMIN_JAVA"
}

# One AclCommand argument list per line: least privilege per service principal (the table in
# docs/security.md). Consumer groups are prefixed ACLs so that tests can run groups of their
# own ("relationship.test…"); the Kubernetes KafkaUsers grant the literal group names.
acl_spec() {
  local inv="" rel="" dlq="" c
  for c in "${DEFAULT_CLOUDS[@]}"; do
    inv+=" --topic partnercenter.${c}.invitation-events.v1"
    rel+=" --topic partnercenter.${c}.relationship-events.v1"
    dlq+=" --topic partnercenter.${c}.dead-letter.v1"
  done
  local writers="--allow-principal User:invitation --allow-principal User:relationship"
  writers+=" --allow-principal User:notification"
  local readers="--allow-principal User:relationship --allow-principal User:notification"
  echo "${writers} --operation IdempotentWrite --cluster"
  echo "--allow-principal User:invitation --operation Write --operation Describe${inv}"
  echo "${readers} --operation Read --operation Describe${inv}${rel}"
  echo "--allow-principal User:relationship --operation Write${rel}"
  echo "${readers} --operation Write --operation Describe${dlq}"
  echo "--allow-principal User:relationship --operation Read --resource-pattern-type prefixed --group relationship"
  echo "--allow-principal User:notification --operation Read --resource-pattern-type prefixed --group notification"
  echo "--allow-principal User:pcctl --operation Read --operation Describe${inv}${rel}${dlq}"
  echo "--allow-principal User:pcctl --operation Read --resource-pattern-type prefixed --group pcctl-"
  # TopicTailer (relationship's access cache, pcctl events tail) and EndOffsets (notification's
  # rebuild) never join or commit, but librdkafka still looks up their throwaway group.
  echo "--allow-principal User:relationship --allow-principal User:pcctl --operation Read --resource-pattern-type prefixed --group tailer-"
  echo "--allow-principal User:notification --operation Read --resource-pattern-type prefixed --group end-offsets-"
}

# ACLs live in the metadata log, so they are written once per data dir and spec.
ensure_acls() {
  local marker
  marker="${DATA}/.acls-$(acl_spec | sha1sum | cut -c1-12)"
  [[ -f "$marker" ]] && return 0
  local started=$SECONDS line out
  local -a args
  if [[ -n "${PC_PCCTL:-}" && -x "${PC_PCCTL}" ]]; then
    # One CreateAcls request through librdkafka (about a second) instead of a JVM per line.
    out="$(acl_spec | "$PC_PCCTL" kafka acls add --kafka_brokers="$BOOTSTRAP" \
      --kafka_security_protocol=SSL --kafka_ca_file="${CERTS}/ca.crt" \
      --kafka_cert_file="${CERTS}/admin.crt" --kafka_key_file="${CERTS}/admin.key" 2>&1)" \
      || { echo "$out" >&2; die "could not add the ACLs with ${PC_PCCTL}"; }
  else
    while read -r line; do
      read -r -a args <<<"$line"
      out="$(admin_tool org.apache.kafka.tools.AclCommand --add --force "${args[@]}" 2>&1)" \
        || { echo "$out" >&2; die "could not add ACLs: ${line}"; }
    done < <(acl_spec)
  fi
  touch "$marker"
  log "ACLs written in $((SECONDS - started)) s"
}

write_config() {
  cat >"$PROPS" <<EOF
# Written by deploy/local/kafka/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CPORT}
listeners=SSL://127.0.0.1:${PORT},SASL_SSL://127.0.0.1:${SASL_PORT},CONTROLLER://127.0.0.1:${CPORT}
advertised.listeners=SSL://127.0.0.1:${PORT},SASL_SSL://127.0.0.1:${SASL_PORT}
listener.security.protocol.map=SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=SSL
controller.listener.names=CONTROLLER
# TLS everywhere, PEM files from ${CERTS}. SSL and CONTROLLER require a client certificate
# from the local CA; its CN is the principal (CN=relationship -> User:relationship).
ssl.keystore.type=PEM
ssl.keystore.location=${CERTS}/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=${CERTS}/ca.crt
ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([a-z0-9-]+)$/\$1/,DEFAULT
# SASL_SSL: SCRAM-SHA-512 users (created at format time), TLS without client certificates.
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# KRaft's authorizer: nothing is allowed without an ACL, except to the super users.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:broker
allow.everyone.if.no.acl.found=false
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
  local -a scram=()
  local p
  for p in "${PRINCIPALS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=${p},password=$(<"${CERTS}/${p}.password")]")
  done
  # Its output prints the SCRAM records (salts, keys): kept out of the logs.
  local out
  out="$(java_tool kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$PROPS" \
    --ignore-formatted "${scram[@]}" 2>&1)" \
    || { grep -v -i scram <<<"$out" >&2; die "formatting the storage failed"; }
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
    ensure_acls
    log "already running (pid ${pid})"
    echo "$BOOTSTRAP"
    return 0
  fi
  rm -f "$PIDFILE"
  cmd_fetch
  local started=$SECONDS
  mkdir -p "$DATA"
  ensure_certs
  write_config
  write_client_configs
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
  ensure_acls
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
  existing="$(kcat_admin -L -m 10 -X log_level=0 2>/dev/null)" \
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
      out="$(admin_tool org.apache.kafka.tools.TopicCommand \
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
  certs) state_paths; ensure_certs ;;
  client-config)
    [[ $# -ge 2 ]] || die "usage: $0 client-config <principal> [librdkafka|java]"
    state_paths
    client_config "$2" "${3:-librdkafka}"
    ;;
  *)
    echo "usage: $0 {fetch|start|create-topics [cloud ...]|stop|status|certs|client-config <principal> [librdkafka|java]}" >&2
    exit 2
    ;;
esac
