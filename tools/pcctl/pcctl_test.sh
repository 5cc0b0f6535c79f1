#!/usr/bin/env bash
# pcctl's own behaviour without any service: help lists its flags, unknown roles are refused.
set -euo pipefail
pcctl=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
for args in "--help" "token --help" "--helpshort"; do
  # absl prints usage and exits with 1 for --help; the text is what matters.
  out=$($pcctl $args 2>&1 || true)
  grep -q -- "--tenant" <<<"$out" || fail "pcctl $args does not list --tenant: $out"
  grep -q "No flags matched" <<<"$out" && fail "pcctl $args: No flags matched"
done
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
$pcctl dev-keys --jwt_keys_dir="$keys" >/dev/null
if out=$($pcctl token --tenant=p1 --role=superuser --jwt_keys_dir="$keys" 2>&1); then
  fail "pcctl token --role=superuser minted a token: $out"
fi
grep -q "unknown role 'superuser'" <<<"$out" || fail "no clear error for an unknown role: $out"
token=$($pcctl token --tenant=p1 --role=partner_admin --jwt_keys_dir="$keys")
[ "$(tr -cd . <<<"$token" | wc -c)" = 2 ] || fail "not a JWT: $token"
echo "1 passed, 0 failed"
