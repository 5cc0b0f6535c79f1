#!/usr/bin/env bash
# tools/dev/kube-bin.sh [kube-apiserver|kubectl]: prints the path of that binary built from the
# Go module k8s.io/kubernetes at $PC_KUBE_VERSION (default below), building it first if the
# cache does not hold it yet. The cache lives outside the clone, keyed by version, like the
# Kafka jars: ${XDG_CACHE_HOME:-~/.cache}/partnercenter/<command>-<version>/<command>
# The module's go.mod points its staging modules (k8s.io/api, …) at ./staging with version
# v0.0.0; a module download has no staging tree, so a writable copy of the module drops those
# replace lines and pins the staging modules to v0.<minor>.<patch> from the module proxy.
# A cold kube-apiserver build takes about 8 minutes on 2 idle cores.
set -euo pipefail
command=${1:-kube-apiserver}
case "$command" in kube-apiserver|kubectl) ;; *) echo "usage: $0 [kube-apiserver|kubectl]" >&2; exit 2 ;; esac
version=${PC_KUBE_VERSION:-v1.37.2}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/${command}-${version}"
bin="$cache/$command"
# The build moves the binary into place only when complete, so being there is enough.
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

command -v go >/dev/null 2>&1 || { echo "$command: Go is needed to build it" >&2; exit 1; }
staging="v0.${version#v1.}"
echo "$command: building ${version} from the Go module proxy (staging modules ${staging})" >&2
src=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${version}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "$command: could not download k8s.io/kubernetes@${version}" >&2; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src/." "$work/" && chmod -R u+w "$work"
# Drop `k8s.io/x => ./staging/…` and pin each `k8s.io/x v0.0.0` requirement to the release.
sed -i -e '/=> \.\/staging\//d' -e "s#^\(\s*k8s\.io/[a-z0-9-]*\) v0\.0\.0\$#\1 ${staging}#" "$work/go.mod"
mkdir -p "$cache"
(cd "$work" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
  go build -trimpath -ldflags="-s -w" -o "$bin.tmp" "./cmd/$command") >&2 \
  || { echo "$command: build failed" >&2; exit 1; }
mv "$bin.tmp" "$bin"
echo "$bin"
