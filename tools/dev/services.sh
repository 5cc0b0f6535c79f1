# Sourced by tools/dev/run.sh after the broker is up: dev keys, then each built service on
# SQLite under $STATE, logging to $STATE/logs/<name>.log. Variables from run.sh: BUILD_DIR,
# STATE, BROKERS; function start_service.
PCCTL="$BUILD_DIR/tools/pcctl/pcctl"
export PC_JWT_KEYS_DIR="$STATE/jwt"
"$PCCTL" dev-keys --jwt_keys_dir="$PC_JWT_KEYS_DIR" >/dev/null

# gRPC over mTLS between every pair: a local CA and one certificate per process
# (tools/dev/grpc-certs.sh); pcctl and grpcurl use the `pcctl` pair.
TLS="$STATE/grpc-tls"
bash tools/dev/grpc-certs.sh "$TLS" invitation relationship notification portal pcctl
export PC_GRPC_TLS_CA_FILE="$TLS/ca.pem" PC_GRPC_TLS_CERT_FILE="$TLS/pcctl.pem" \
  PC_GRPC_TLS_KEY_FILE="$TLS/pcctl.key"
tls_flags() {
  echo "--grpc_tls_cert_file=$TLS/$1.pem" "--grpc_tls_key_file=$TLS/$1.key" \
    "--grpc_tls_client_ca_file=$TLS/ca.pem" "--grpc_tls_ca_file=$TLS/ca.pem"
}
# Each service's own identity (role service, tid partnercenter, sub = the service), minted
# with the dev key like every local token; only the invitation service calls as itself.
mkdir -p "$STATE/tokens"
( umask 077; "$PCCTL" token --tenant=partnercenter --role=service --subject=invitation \
    --ttl=720h --jwt_keys_dir="$PC_JWT_KEYS_DIR" >"$STATE/tokens/invitation" )

# One local replica of each: nothing to drain on Ctrl-C (--drain_delay is for load balancers).
common_flags=(--jwt_keys_dir="$PC_JWT_KEYS_DIR" --log_format=text --drain_delay=0s)
# Each service talks to Kafka as its own principal (its certificate; kafka_flags in run.sh).
mapfile -t invitation_kafka < <(kafka_flags invitation)
mapfile -t relationship_kafka < <(kafka_flags relationship)
mapfile -t notification_kafka < <(kafka_flags notification)

# shellcheck disable=SC2046
start_service invitation "$BUILD_DIR/services/invitation/pc-invitation" "${common_flags[@]}" \
  "${invitation_kafka[@]}" \
  $(tls_flags invitation) --service_token_file="$STATE/tokens/invitation" \
  --database_url="sqlite://$STATE/data/invitation.db" \
  --portal_base_url="${PC_PORTAL_BASE_URL:-http://localhost:${PC_PORTAL_PORT:-8080}}" \
  --relationship_address=127.0.0.1:50052

# shellcheck disable=SC2046
start_service relationship "$BUILD_DIR/services/relationship/pc-relationship" "${common_flags[@]}" \
  "${relationship_kafka[@]}" $(tls_flags relationship) \
  --database_url="sqlite://$STATE/data/relationship.db" \
  --invitation_address=127.0.0.1:50051 --consumer_instance_id=local-relationship

# shellcheck disable=SC2046
start_service notification "$BUILD_DIR/services/notification/pc-notification" "${common_flags[@]}" \
  "${notification_kafka[@]}" $(tls_flags notification) \
  --database_url="sqlite://$STATE/data/notification.db" --consumer_instance_id=local-notification

PORTAL_PORT=${PC_PORTAL_PORT:-8080}
# shellcheck disable=SC2046
start_service portal "$BUILD_DIR/services/portal/pc-portal" $(tls_flags portal) \
  --jwt_keys_dir="$PC_JWT_KEYS_DIR" --log_format=text --drain_delay=0s --http_port="$PORTAL_PORT" \
  --dev_sign_in --insecure_cookies \
  --invitation_address=127.0.0.1:50051 --relationship_address=127.0.0.1:50052 \
  --notification_address=127.0.0.1:50053

# wait_ready NAME ADMIN_PORT — until /readyz answers 200 (bounded), or the process died.
wait_ready() {
  local name=$1 port=$2 pid="" i
  for i in "${!names[@]}"; do [ "${names[$i]}" = "$name" ] && pid=${pids[$i]}; done
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "run: $name exited during start-up (a port in use?); last lines of $STATE/logs/$name.log:" >&2
      tail -n 3 "$STATE/logs/$name.log" | cut -c1-300 >&2
      return 1
    fi
    sleep 0.2
  done
  echo "run: $name did not become ready; see $STATE/logs/$name.log" >&2
  return 1
}
[ -x "$BUILD_DIR/services/invitation/pc-invitation" ] && wait_ready invitation 51051
[ -x "$BUILD_DIR/services/relationship/pc-relationship" ] && wait_ready relationship 51052
[ -x "$BUILD_DIR/services/notification/pc-notification" ] && wait_ready notification 51053
[ -x "$BUILD_DIR/services/portal/pc-portal" ] && wait_ready portal 51080

print_service_help() {
  cat <<MSG

  Portal:                http://localhost:$PORTAL_PORT/   (metrics http://127.0.0.1:51080/metrics)
    Sign in as a partner:         tenant partner-1,  role "Partner admin"
    …in another browser profile (or a private window) as the customer:
                                  tenant customer-1, role "Customer admin"
    Then: New invitation → copy the link → open it as the customer → Accept; the partner's
    Customers page shows the customer without a reload. Revoke admin on the customer's
    Partners page and watch the partner's row change live.

  gRPC is mTLS (CA and certificates in $TLS; PC_GRPC_TLS_* are exported for pcctl).
  Invitation service:    127.0.0.1:50051 (gRPC, reflection on), metrics http://127.0.0.1:51051/metrics
  Relationship service:  127.0.0.1:50052 (gRPC, reflection on), metrics http://127.0.0.1:51052/metrics
  Notification service:  127.0.0.1:50053 (gRPC, reflection on), metrics http://127.0.0.1:51053/metrics
  Try it (dev tokens are minted with the key in $PC_JWT_KEYS_DIR):
    export PC_JWT_KEYS_DIR=$PC_JWT_KEYS_DIR
    $PCCTL invite --as=partner-1 --name=Fabrikam --domain=contoso.com --admin
    $PCCTL accept '<link from the draft>' --as=customer-1 --verified_domains=contoso.com \\
        --company=Contoso --domain=contoso.com    # the dev token proves the hinted domain
    $PCCTL invitations list --as=partner-1
    $PCCTL invite --as=partner-1 --customer=customer-2 --admin     # a named customer tenant
    $PCCTL customers list --as=partner-1
    $PCCTL revoke --as=customer-1 --partner=partner-1 --reason="in-house IT"
    $PCCTL check-access --token="\$($PCCTL token --tenant=partnercenter --role=service --subject=portal)" \\
        --partner=partner-1 --customer=customer-1   # as a service identity
    $PCCTL restore --as=partner-1 --customer=customer-1           # a new draft; accept its link
    $PCCTL history --as=partner-1 --customer=customer-1
    $PCCTL watch customers --as=partner-1        # live changes, one JSON line each (Ctrl-C ends)
    $PCCTL customers page --as=partner-1 --invitations
  Raw gRPC (mTLS):  grpcurl -cacert $TLS/ca.pem -cert $TLS/pcctl.pem -key $TLS/pcctl.key \\
               -H "authorization: Bearer \$($PCCTL token --tenant=partner-1 --role=partner_admin)" \\
               127.0.0.1:50051 list
MSG
}
