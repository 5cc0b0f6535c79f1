# Sourced by tools/dev/deps.sh (cwd = repo root, $SUDO set): the deploy tier (tests/deploy) needs
#   - Go (the version tests/deploy/go.mod names) and its modules (kustomize's Go API, the
#     Kubernetes API types, grpc-go). Go is used from PATH or /usr/local/go; if neither has it,
#     the toolchain is fetched from the machine's Go module proxy (GOPROXY; golang.org/toolchain)
#     into the same cache as the Kafka jars;
#   - promtool (Debian's prometheus package) checks and unit-tests the PrometheusRule alerts;
#   - podman, buildah, runc and debootstrap (the images), etcd-server (the API server's store);
#   - kube-apiserver, and kubectl where the machine has none (Debian 12 packages neither), built
#     once per version into the cache by tools/dev/kube-bin.sh; kubectl is linked into
#     /usr/local/bin.
# Fast when present: package checks, a version check and `go mod download` against the cache.
pc_deploy_missing=()
for p in podman buildah runc debootstrap etcd-server bc prometheus; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pc_deploy_missing+=("$p")
done
if [ ${#pc_deploy_missing[@]} -gt 0 ]; then
  echo "deps: installing ${pc_deploy_missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${pc_deploy_missing[@]}" >/dev/null \
    || { echo "deps: could not install ${pc_deploy_missing[*]}" >&2; exit 1; }
fi
pc_go_version=$(awk '$1 == "go" { print $2; exit }' tests/deploy/go.mod)
pc_go_cache="${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/go-${pc_go_version}"
for pc_go_dir in /usr/local/go/bin "$pc_go_cache/bin"; do
  if ! command -v go >/dev/null 2>&1 && [ -x "$pc_go_dir/go" ]; then export PATH="$pc_go_dir:$PATH"; fi
done
if ! command -v go >/dev/null 2>&1; then
  # The machine's own module proxy: the first entry of GOPROXY that is a URL.
  pc_go_proxy=$(tr ',|' '\n\n' <<<"${GOPROXY:-}" | grep -m1 -E '^https?://' || true)
  [ -n "$pc_go_proxy" ] || { echo "deps: Go ${pc_go_version} is missing and GOPROXY names no module proxy to fetch it from" >&2; exit 1; }
  echo "deps: installing Go ${pc_go_version} from ${pc_go_proxy}"
  command -v unzip >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends unzip >/dev/null \
    || { echo "deps: could not install unzip (needed to unpack Go)" >&2; exit 1; }
  pc_go_zip=$(mktemp --suffix=.zip)
  pc_go_tmp=$(mktemp -d)
  curl -fsSL -o "$pc_go_zip" \
    "${pc_go_proxy%/}/golang.org/toolchain/@v/v0.0.1-go${pc_go_version}.linux-amd64.zip" \
    || { echo "deps: could not download Go ${pc_go_version}" >&2; exit 1; }
  unzip -q "$pc_go_zip" -d "$pc_go_tmp" || { echo "deps: could not unpack Go" >&2; exit 1; }
  pc_go_root="$pc_go_tmp/golang.org/toolchain@v0.0.1-go${pc_go_version}.linux-amd64"
  # A module zip keeps no file modes: make the tools executable again.
  chmod -R a+rX "$pc_go_root" && chmod a+x "$pc_go_root"/bin/* "$pc_go_root"/pkg/tool/*/*
  mkdir -p "$(dirname "$pc_go_cache")" && rm -rf "$pc_go_cache" && mv "$pc_go_root" "$pc_go_cache"
  rm -rf "$pc_go_zip" "$pc_go_tmp"
  export PATH="$pc_go_cache/bin:$PATH"
  go version >/dev/null 2>&1 || { echo "deps: the downloaded Go does not run" >&2; exit 1; }
fi
(cd tests/deploy && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download) \
  || { echo "deps: could not download the deploy tier's Go modules" >&2; exit 1; }
tools/dev/kube-bin.sh kube-apiserver >/dev/null || { echo "deps: could not build kube-apiserver" >&2; exit 1; }
if ! command -v kubectl >/dev/null 2>&1; then
  pc_kubectl=$(tools/dev/kube-bin.sh kubectl) || { echo "deps: could not build kubectl" >&2; exit 1; }
  $SUDO ln -sf "$pc_kubectl" /usr/local/bin/kubectl
fi
unset pc_kubectl pc_deploy_missing pc_go_proxy pc_go_version pc_go_cache pc_go_dir pc_go_zip pc_go_tmp pc_go_root
