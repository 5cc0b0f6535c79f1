#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server (Debian's postgresql-15 binaries) for local runs and the
# integration test tiers: loopback only, trust auth, its own data dir, its own port.
#
#   pg.sh start    initdb (once) and start; prints postgresql://postgres@127.0.0.1:<port>/postgres
#   pg.sh stop     fast shutdown; no error if not running
#   pg.sh status   exit 0 if the server runs and accepts connections
#
# Environment (defaults):
#   PC_PG_DIR   $PWD/.local/postgres   (data/, postgres.log, the Unix socket)
#   PC_PG_PORT  5432
#   PC_PG_BIN   /usr/lib/postgresql/15/bin
#
# The server runs as the `postgres` user (initdb refuses root). If that user cannot reach PC_PG_DIR
# (a parent directory it may not traverse) or the socket path would be too long, the server lives
# in /tmp/partnercenter-pg-<hash of PC_PG_DIR> instead, and PC_PG_DIR/run links to it.
set -euo pipefail

readonly BIN="${PC_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR="${PC_PG_DIR:-$PWD/.local/postgres}"
readonly PORT="${PC_PG_PORT:-5432}"
readonly URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

log() { echo "pg.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Stop and status leave a missing PC_PG_DIR alone.
exists() {
  [[ -d "$PG_DIR" ]] && return 0
  log "not running"
  return 1
}

setup_paths() {
  [[ -x "${BIN}/initdb" && -x "${BIN}/pg_ctl" && -x "${BIN}/postgres" ]] \
    || die "PostgreSQL 15 not found in ${BIN} (apt-get install -y postgresql-15)"
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "PC_PG_PORT must be a number, got '${PORT}'"
  if ((EUID == 0)); then
    id -u postgres >/dev/null 2>&1 || die "no 'postgres' user (apt-get install -y postgresql-15)"
  fi
  mkdir -p "$PG_DIR"
  PG_DIR="$(cd "$PG_DIR" && pwd)"
  RUN_DIR="$PG_DIR"
  if ((EUID == 0)); then
    chown postgres:postgres "$PG_DIR"
  fi
  local socket="${RUN_DIR}/.s.PGSQL.${PORT}"
  if ! as_owner test -x "$PG_DIR" -a -w "$PG_DIR" 2>/dev/null || ((${#socket} > 100)) \
    || [[ "$PG_DIR" == *"'"* ]]; then
    RUN_DIR="/tmp/partnercenter-pg-$(printf '%s' "$PG_DIR" | sha1sum | cut -c1-12)"
    mkdir -p "$RUN_DIR"
    chmod 700 "$RUN_DIR"
    ((EUID == 0)) && chown postgres:postgres "$RUN_DIR"
    ln -sfn "$RUN_DIR" "${PG_DIR}/run"
  fi
  DATA="${RUN_DIR}/data"
  LOGFILE="${RUN_DIR}/postgres.log"
}

running() {
  [[ -f "${DATA}/PG_VERSION" ]] && as_owner "${BIN}/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

accepting() {
  "${BIN}/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 5
}

init_once() {
  [[ -f "${DATA}/PG_VERSION" ]] && return 0
  log "initdb ${DATA}"
  as_owner "${BIN}/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"${RUN_DIR}/initdb.log" 2>&1 \
    || { cat "${RUN_DIR}/initdb.log" >&2; die "initdb failed"; }
  echo "include_if_exists = 'partnercenter.conf'" | as_owner tee -a "${DATA}/postgresql.conf" >/dev/null
}

write_config() {
  # Rewritten on every start so PC_PG_PORT / the socket dir can change between runs.
  as_owner tee "${DATA}/partnercenter.conf" >/dev/null <<EOF
# Written by deploy/local/postgres/pg.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${RUN_DIR}'
logging_collector = off
EOF
}

cmd_start() {
  setup_paths
  if running; then
    accepting || die "a server runs on ${DATA} but does not accept connections on port ${PORT}"
    log "already running (${DATA})"
    echo "$URL"
    return 0
  fi
  local started=$SECONDS
  init_once
  write_config
  if ! as_owner "${BIN}/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t 60 >/dev/null 2>&1; then
    log "start failed; last lines of ${LOGFILE}:"
    tail -n 20 "$LOGFILE" >&2 || true
    exit 1
  fi
  accepting || die "server started but does not accept connections on 127.0.0.1:${PORT}"
  log "running after $((SECONDS - started)) s, data ${DATA}, log ${LOGFILE}"
  echo "$URL"
}

cmd_stop() {
  exists || return 0
  setup_paths
  if ! running; then
    log "not running"
    return 0
  fi
  as_owner "${BIN}/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null \
    || die "pg_ctl stop failed (see ${LOGFILE})"
  log "stopped"
}

cmd_status() {
  exists || return 1
  setup_paths
  if running && accepting; then
    log "running on 127.0.0.1:${PORT} (${DATA})"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {start|stop|status}" >&2
    exit 2
    ;;
esac
