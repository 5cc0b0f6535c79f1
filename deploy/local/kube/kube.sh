#!/usr/bin/env bash
# A throw-away Kubernetes API server for the deploy tier and for trying the manifests by hand:
# Debian's etcd-server 3.4 plus kube-apiserver built from the Go module k8s.io/kubernetes
# (tools/dev/kube-bin.sh, cached outside the clone by version). Loopback only, its own
# ports and state directory, PodSecurity admission on, one admin token. Privileged containers
# are allowed at the server level (--allow-privileged, as in most clusters) so that PodSecurity
# is what refuses them in a namespace that enforces "restricted". No scheduler, no
# controllers, no kubelet: objects are stored and admitted, never run (the deploy tier starts
# the images with podman instead).
#
#   kube.sh start       start etcd and kube-apiserver; prints the kubeconfig's path
#   kube.sh stop        stop both; no error if not running
#   kube.sh status      exit 0 if the API server answers /readyz
#   kube.sh kubeconfig  print the kubeconfig's path
#
# Environment (defaults):
#   PC_KUBE_DIR        $PWD/.local/kube   (etcd data, certificates, kubeconfig, logs)
#   PC_KUBE_PORT       6443               (the API server's HTTPS port on 127.0.0.1)
#   PC_KUBE_ETCD_PORT  2379               (etcd's client port; peer port is one above)
set -euo pipefail
cd "$(dirname "$0")/../../.."
readonly REPO=$PWD
DIR="${PC_KUBE_DIR:-$PWD/.local/kube}"
readonly PORT="${PC_KUBE_PORT:-6443}"
readonly ETCD_PORT="${PC_KUBE_ETCD_PORT:-2379}"
readonly ETCD_PEER_PORT=$((ETCD_PORT + 1))

log() { echo "kube.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

setup() {
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  KUBECONFIG_FILE="$DIR/kubeconfig"
}

apiserver_ready() {
  [[ -f "$KUBECONFIG_FILE" ]] && kubectl --kubeconfig "$KUBECONFIG_FILE" get --raw /readyz >/dev/null 2>&1
}

# wait_for SECONDS PIDFILE LOG CHECK...: polls CHECK until it succeeds, the process dies, or time runs out.
wait_for() {
  local limit=$1 pidfile=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "$(basename "$pidfile" .pid) exited; last lines of $logfile:"
      tail -n 30 "$logfile" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$(basename "$pidfile" .pid) not ready after ${limit}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2
      return 1
    fi
    sleep 0.5  # a poll interval, as a readiness probe has
  done
}

etcd_healthy() { curl -fsS "http://127.0.0.1:${ETCD_PORT}/health" 2>/dev/null | grep -q '"health":"true"'; }

make_credentials() {
  local pki="$DIR/pki"
  [[ -s "$pki/apiserver.crt" && -s "$pki/sa.key" && -s "$DIR/tokens.csv" ]] && return 0
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=partnercenter-local-kube-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -out "$pki/apiserver.crt" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n') 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local token
  token=$(openssl rand -hex 24)
  printf '%s,admin,admin,system:masters\n' "$token" >"$DIR/tokens.csv"
  chmod 600 "$DIR/tokens.csv" "$pki"/*.key
}

write_kubeconfig() {
  local token
  token=$(cut -d, -f1 "$DIR/tokens.csv")
  cat >"$KUBECONFIG_FILE" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:${PORT}
      certificate-authority: ${DIR}/pki/ca.crt
users:
  - name: admin
    user:
      token: ${token}
contexts:
  - name: local
    context: {cluster: local, user: admin}
current-context: local
YAML
  chmod 600 "$KUBECONFIG_FILE"
}

cmd_start() {
  setup
  if apiserver_ready; then
    log "already running (${DIR})"
    echo "$KUBECONFIG_FILE"
    return 0
  fi
  command -v etcd >/dev/null || die "etcd not found (apt-get install -y etcd-server)"
  command -v kubectl >/dev/null || die "kubectl not found"
  local bin started=$SECONDS
  bin=$("$REPO/tools/dev/kube-bin.sh" kube-apiserver) || die "no kube-apiserver binary"
  make_credentials
  write_kubeconfig
  cmd_stop_quietly
  rm -rf "$DIR/etcd"  # a fresh store each start: tests apply into an empty cluster
  (cd / && exec etcd --name local --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "local=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --listen-metrics-urls "" >"$DIR/etcd.log" 2>&1) &
  echo $! >"$DIR/etcd.pid"
  wait_for 60 "$DIR/etcd.pid" "$DIR/etcd.log" etcd_healthy || die "etcd did not start"
  (cd / && exec "$bin" --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" \
    --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --client-ca-file "$DIR/pki/ca.crt" --token-auth-file "$DIR/tokens.csv" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --endpoint-reconciler-type none \
    --allow-privileged=true \
    --enable-admission-plugins PodSecurity,NamespaceLifecycle,LimitRanger,ResourceQuota \
    --profiling=false --v=1 >"$DIR/apiserver.log" 2>&1) &
  echo $! >"$DIR/apiserver.pid"
  wait_for 120 "$DIR/apiserver.pid" "$DIR/apiserver.log" apiserver_ready || die "kube-apiserver did not start"
  log "running after $((SECONDS - started)) s: https://127.0.0.1:${PORT}, kubeconfig ${KUBECONFIG_FILE}"
  echo "$KUBECONFIG_FILE"
}

stop_pid() {
  local pidfile=$1 pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd_stop_quietly() {
  stop_pid "$DIR/apiserver.pid"
  stop_pid "$DIR/etcd.pid"
}

cmd_stop() {
  [[ -d "${PC_KUBE_DIR:-$PWD/.local/kube}" ]] || { log "not running"; return 0; }
  setup
  cmd_stop_quietly
  log "stopped"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) setup; apiserver_ready ;;
  kubeconfig) setup; echo "$KUBECONFIG_FILE" ;;
  *) echo "usage: $0 start|stop|status|kubeconfig" >&2; exit 2 ;;
esac
