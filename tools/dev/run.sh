#!/usr/bin/env bash
# `make run`: starts the whole system locally in the foreground on the embedded store:
# a real single-node Kafka broker (KRaft), the per-cloud topics, then every service that is
# built, each logging to .local/logs/<name>.log. Ctrl-C (or SIGTERM) stops everything in
# reverse order: services first (they drain and flush), the broker last.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build}
ROOT=$PWD
STATE=${PC_RUN_DIR:-$ROOT/.local}
mkdir -p "$STATE/logs" "$STATE/data"

export PC_KAFKA_DIR="$STATE/kafka"
export PC_KAFKA_PORT=${PC_KAFKA_PORT:-9092}
export PC_KAFKA_CONTROLLER_PORT=${PC_KAFKA_CONTROLLER_PORT:-9093}
BROKERS="127.0.0.1:$PC_KAFKA_PORT"
# The broker's CA and per-principal certificates (kafka.sh generates them at its first start).
KAFKA_CERTS="$PC_KAFKA_DIR/certs"
# A built pcctl writes the broker's ACLs in one request (kafka.sh falls back to kafka-acls).
export PC_PCCTL="$BUILD_DIR/tools/pcctl/pcctl"

pids=()
names=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping…"
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
    echo "run: stopped ${names[$i]}"
  done
  deploy/local/kafka/kafka.sh stop || true
  echo "run: broker stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

deploy/local/kafka/kafka.sh start
deploy/local/kafka/kafka.sh create-topics global usgov germany

# kafka_flags PRINCIPAL — the --kafka_* flags of a service running as PRINCIPAL.
kafka_flags() {
  printf '%s\n' --kafka_brokers="$BROKERS" --kafka_security_protocol=SSL \
    --kafka_ca_file="$KAFKA_CERTS/ca.crt" --kafka_cert_file="$KAFKA_CERTS/$1.crt" \
    --kafka_key_file="$KAFKA_CERTS/$1.key"
}
# kafka_env PRINCIPAL — the same as PC_KAFKA_* variables (for pcctl in another shell).
kafka_env() {
  echo "PC_KAFKA_BROKERS=$BROKERS PC_KAFKA_SECURITY_PROTOCOL=SSL PC_KAFKA_CA_FILE=$KAFKA_CERTS/ca.crt" \
    "PC_KAFKA_CERT_FILE=$KAFKA_CERTS/$1.crt PC_KAFKA_KEY_FILE=$KAFKA_CERTS/$1.key"
}

# start_service NAME BINARY ARGS... — starts a built service in the background.
start_service() {
  local name=$1 bin=$2; shift 2
  if [ ! -x "$bin" ]; then return 0; fi
  # Own session: Ctrl-C reaches only this script, which stops services in order.
  setsid "$bin" "$@" >"$STATE/logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
  echo "run: started $name (pid $!, log $STATE/logs/$name.log)"
}

if [ -f tools/dev/services.sh ]; then
  # shellcheck source=/dev/null
  source tools/dev/services.sh
fi

cat <<MSG

  Kafka broker (KRaft):  $BROKERS (TLS; each client authenticates with its certificate from
                         $KAFKA_CERTS; ACLs per service, see docs/security.md)
  Topics:                partnercenter.<global|usgov|germany>.{invitation-events,relationship-events,dead-letter}.v1
  Tail the events:       $(kafka_env pcctl) \\
                           $BUILD_DIR/tools/pcctl/pcctl events tail invitation-events --json
  or with kcat:          kcat -F <(deploy/local/kafka/kafka.sh client-config pcctl) -b $BROKERS \\
                           -C -t partnercenter.global.invitation-events.v1 -f '%k %h\n'
MSG
if declare -F print_service_help >/dev/null; then print_service_help; fi
echo
echo "  Ctrl-C stops everything."

# Wait until interrupted, or until a service dies (then stop the rest and say which).
while true; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "run: ${names[$i]} exited; see $STATE/logs/${names[$i]}.log"
      exit 1
    fi
  done
  deploy/local/kafka/kafka.sh status >/dev/null 2>&1 || { echo "run: the broker stopped; see $PC_KAFKA_DIR/kafka.log"; exit 1; }
  sleep 2
done
