#!/usr/bin/env bash
# The proto contract checks (ctest -L contracts runs each; docs/topics.md, "Evolving").
#
#   contracts.sh lint                  buf lint with protos/buf.yaml (AIP-style rules)
#   contracts.sh breaking [PROTOS]     buf breaking of PROTOS (default protos/) against the
#                                      baseline image: FILE for the gRPC APIs, WIRE_JSON for the
#                                      event envelope and payloads
#   contracts.sh self-test             proves `breaking` catches a renumbered field and a changed
#                                      type (naming the field) and accepts an added field
#   contracts.sh catalog-self-test GENERATOR PROTOC   the catalog generator refuses a payload
#                                      on no topic, a listed payload the envelope lacks, and a
#                                      schema_version that disagrees with the package
#   contracts.sh catalog-current GENERATOR PROTOC   docs/asyncapi.json and the table in
#                                      docs/topics.md are what the protos and topics.json make
#   contracts.sh refresh-baseline REF  rebuilds baseline.binpb from the protos at git REF (a
#                                      release tag); run it at a release and commit the result
#
# buf comes from PC_BUF (CMake passes the pinned one tools/dev/deps.d/protos.sh installed),
# else from PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
buf="${PC_BUF:-buf}"
baseline="$here/baseline.binpb"

# breaking DIR: both rule sets against the baseline; the findings name file:line:column and
# the field, e.g. 'Field "9" with name "aggregate_version" on message "EventEnvelope" changed
# type from "int64" to "string".'
breaking() {
  local dir=$1 rc=0
  # The gRPC APIs and common types: protos/buf.yaml's breaking section (FILE, events ignored).
  (cd "$dir" && "$buf" breaking --against "$baseline" --config "$root/protos/buf.yaml") || rc=1
  # The topics' contract: wire and JSON compatibility of the envelope and every payload.
  (cd "$dir" && "$buf" breaking --against "$baseline" --path partnercenter/events \
     --config '{"version":"v2","breaking":{"use":["WIRE_JSON"]}}') || rc=1
  return $rc
}

# mutate NAME SED_EXPR FILE EXPECTED: a copy of protos/ with one edit must fail `breaking`
# with EXPECTED in its output.
expect_breaking() {
  local name=$1 expr=$2 file=$3 expected=$4 tmp out
  tmp=$(mktemp -d)
  cp -r "$root/protos" "$tmp/protos"
  sed -i -e "$expr" "$tmp/protos/$file"
  if cmp -s "$root/protos/$file" "$tmp/protos/$file"; then
    echo "self-test $name: the edit changed nothing (has $file moved?)" >&2; rm -rf "$tmp"; return 1
  fi
  if out=$(breaking "$tmp/protos" 2>&1); then
    echo "self-test $name: buf breaking accepted it:" >&2; echo "$out" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "self-test $name: failed, but without naming it ($expected):" >&2; echo "$out" >&2; return 1
  fi
  echo "self-test $name: caught: $(grep -F -- "$expected" <<<"$out" | head -n 1)"
}

self_test() {
  local tmp
  expect_breaking "renumbered event field" 's/string correlation_id = 12;/string correlation_id = 13;/' \
    partnercenter/events/v1/events.proto 'field "12" with name "correlation_id" on message "EventEnvelope" was deleted'
  expect_breaking "changed event field type" 's/int64 aggregate_version = 9;/string aggregate_version = 9;/' \
    partnercenter/events/v1/events.proto '"aggregate_version" on message "EventEnvelope" changed type from "int64" to "string"'
  expect_breaking "renamed payload field (JSON)" 's/string reassigned_to_partner_id = 1;/string new_partner_id = 1;/' \
    partnercenter/events/v1/events.proto 'reassigned_to_partner_id'
  expect_breaking "renumbered API field" 's/string request_id = 1;/string request_id = 99;/' \
    partnercenter/invitation/v1/invitation_service.proto 'with name "request_id"'
  expect_breaking "removed RPC" '/rpc CheckAdminAccess(/d' \
    partnercenter/relationship/v1/relationship_service.proto 'CheckAdminAccess'
  # What the other branches do all the time must pass: a new field and a new message.
  tmp=$(mktemp -d)
  cp -r "$root/protos" "$tmp/protos"
  sed -i -e 's/^  string correlation_id = 12;$/  string correlation_id = 12;\n  string trace_parent = 13;/' \
    -e '$a message SomethingNew {\n  string id = 1;\n}' "$tmp/protos/partnercenter/events/v1/events.proto"
  grep -q "trace_parent = 13" "$tmp/protos/partnercenter/events/v1/events.proto" \
    || { echo "self-test additive: the edit did not apply" >&2; rm -rf "$tmp"; return 1; }
  if ! breaking "$tmp/protos"; then
    echo "self-test additive: buf breaking refused an added field and message" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
  echo "self-test additive: an added field and message pass"
}

# generate_catalog PROTOS OUT GENERATOR PROTOC: OUT/asyncapi.json and OUT/topics-table.md from
# the protos in PROTOS, as the build's event_catalog target makes them.
generate_catalog() {
  local protos=$1 out=$2 generator=$3 protoc=$4
  "$protoc" --include_source_info --include_imports --descriptor_set_out="$out/events.desc" \
    -I "$protos" partnercenter/events/v1/events.proto
  "$generator" --descriptor_set="$out/events.desc" \
    --topics="$protos/partnercenter/events/v1/topics.json" \
    --out="$out/asyncapi.json" --table_out="$out/topics-table.md"
}

# expect_catalog_refusal NAME -e SED_EXPR [-e …] FILE EXPECTED GENERATOR PROTOC: the catalog
# generator, run on a copy of protos/ with that edit, must fail with EXPECTED in its message.
expect_catalog_refusal() {
  local name=$1 sed_args=() tmp out
  shift
  while [ "$1" = -e ]; do sed_args+=(-e "$2"); shift 2; done
  local file=$1 expected=$2 generator=$3 protoc=$4
  tmp=$(mktemp -d)
  cp -r "$root/protos" "$tmp/protos"
  sed -i "${sed_args[@]}" "$tmp/protos/$file"
  if cmp -s "$root/protos/$file" "$tmp/protos/$file"; then
    echo "catalog self-test $name: the edit changed nothing (has $file moved?)" >&2; rm -rf "$tmp"; return 1
  fi
  if out=$(generate_catalog "$tmp/protos" "$tmp" "$generator" "$protoc" 2>&1); then
    echo "catalog self-test $name: the generator accepted it" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
  grep -qF -- "$expected" <<<"$out" \
    || { echo "catalog self-test $name: refused, but not naming it ($expected): $out" >&2; return 1; }
  echo "catalog self-test $name: refused: $out"
}

catalog_self_test() {
  local generator=$1 protoc=$2 events=partnercenter/events/v1/events.proto
  expect_catalog_refusal "payload on no topic" \
    -e 's/^    ServiceRequestOpened service_request_opened = 47;$/&\n    ServiceRequestClosed service_request_closed = 48;/' \
    -e '$a message ServiceRequestClosed {\n  string id = 1;\n}' \
    "$events" 'service_request_closed (ServiceRequestClosed) is on no topic' "$generator" "$protoc"
  expect_catalog_refusal "two fields of one payload type" \
    -e 's/^    ServiceRequestOpened service_request_opened = 47;$/&\n    ServiceRequestOpened service_request_reopened = 48;/' \
    "$events" 'service_request_opened and service_request_reopened both carry ServiceRequestOpened' \
    "$generator" "$protoc"
  expect_catalog_refusal "listed payload missing" -e 's/^    InvitationResent invitation_resent = 25;$//' \
    "$events" 'lists InvitationResent, which is not in' "$generator" "$protoc"
  expect_catalog_refusal "schema version disagrees with the package" \
    -e '0,/"schema_version": 1/s//"schema_version": 2/' \
    partnercenter/events/v1/topics.json 'has schema_version 2 but its payloads are in package partnercenter.events.v1' \
    "$generator" "$protoc"
}

refresh_baseline() {
  local ref=$1 tmp
  tmp=$(mktemp -d)
  git -C "$root" archive "$ref" protos | tar -x -C "$tmp"
  rm -f "$tmp/protos/buf.yaml"  # the image holds the files only; the rules are today's
  "$buf" build "$tmp/protos" --exclude-source-info -o "$baseline"
  printf '%s\n' "$(git -C "$root" rev-parse "$ref") $ref" >"$here/baseline.ref"
  rm -rf "$tmp"
  echo "baseline.binpb rebuilt from $ref; commit tests/contracts/baseline.{binpb,ref}"
}

case "${1:-}" in
  lint) cd "$root/protos" && "$buf" lint ;;
  breaking) breaking "${2:-$root/protos}" && echo "buf breaking: compatible with $(cut -d' ' -f2- "$here/baseline.ref")" ;;
  self-test) self_test ;;
  catalog-self-test) catalog_self_test "${2:?generator}" "${3:?protoc}" ;;
  catalog-current)
    generated=$(mktemp -d)
    trap 'rm -rf "$generated"' EXIT
    generate_catalog "$root/protos" "$generated" "${2:?generator}" "${3:?protoc}"
    stale=0
    diff -u "$root/docs/asyncapi.json" "$generated/asyncapi.json" || stale=1
    "$root/tools/eventcatalog/splice-table.sh" "$generated/topics-table.md" "$root/docs/topics.md" \
      | diff -u "$root/docs/topics.md" - || stale=1
    if [ $stale = 1 ]; then
      echo "docs/asyncapi.json or the topic table in docs/topics.md is not what the protos and" \
           "topics.json generate (diff above: - committed, + generated)." \
           "Run: cmake --build build --target update_event_catalog" >&2
      exit 1
    fi
    echo "docs/asyncapi.json and the topic table in docs/topics.md are current" ;;
  refresh-baseline) refresh_baseline "${2:?usage: contracts.sh refresh-baseline <git ref>}" ;;
  *) sed -n '2,21p' "$0" >&2; exit 2 ;;
esac
