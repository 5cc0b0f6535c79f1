#!/usr/bin/env bash
# grpc-certs.sh DIR NAME... — a local certificate authority and one certificate per NAME for
# gRPC over TLS (make run, the test tiers). Writes DIR/ca.pem + DIR/ca.key (once) and
# DIR/NAME.pem + DIR/NAME.key (EC P-256, 30 days, SANs DNS:NAME, DNS:localhost, IP:127.0.0.1,
# extendedKeyUsage serverAuth + clientAuth, so the same pair serves and presents itself as a
# client for mTLS). Existing files are kept unless they expire within a day; keys are 0600.
# The pair is written to temporary names and renamed, key first, so a process re-reading
# the files (gRPC's file watcher) never sees a half-written certificate.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
umask 077
fresh() { [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1; }

if ! fresh "$dir/ca.pem" || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=partnercenter local gRPC CA" -keyout "$dir/ca.key.tmp" -out "$dir/ca.pem.tmp" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  mv "$dir/ca.key.tmp" "$dir/ca.key"; mv "$dir/ca.pem.tmp" "$dir/ca.pem"
  rm -f "$dir"/*.pem.issued  # certificates of an older CA are reissued below
fi
for name in "$@"; do
  if fresh "$dir/$name.pem" && [ -s "$dir/$name.key" ] && [ -e "$dir/$name.pem.issued" ]; then continue; fi
  ext=$(mktemp)
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$name" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name.key.tmp" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 30 -extfile "$ext" -out "$dir/$name.pem.tmp" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
  mv "$dir/$name.key.tmp" "$dir/$name.key"; mv "$dir/$name.pem.tmp" "$dir/$name.pem"
  touch "$dir/$name.pem.issued"
done
