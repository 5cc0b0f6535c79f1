#!/usr/bin/env bash
# The proto contract checks (ctest -L contracts runs each; docs/topics.md, "Contracts").
#
#   contracts.sh lint                  buf lint with protos/buf.yaml (AIP-style rules)
#   contracts.sh breaking [PROTOS]     buf breaking of PROTOS (default protos/) against the
#                                      baseline image: FILE for the gRPC APIs, WIRE_JSON for the
#                                      event envelope and payloads
#   contracts.sh self-test             proves `breaking` catches a renumbered field and a changed
#                                      type (naming the field) and accepts an added field
#   contracts.sh catalog-current DIR  docs/asyncapi.json and the table in docs/topics.md are
#                                      what the build generated into DIR (<build>/docs)
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
  catalog-current)
    generated="${2:?usage: contracts.sh catalog-current <build>/docs}"
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
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
