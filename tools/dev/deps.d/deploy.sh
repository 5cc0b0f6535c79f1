# Sourced by tools/dev/deps.sh (cwd = repo root, $SUDO set): the deploy tier (tests/deploy) needs
# Go (the version tests/deploy/go.mod names) and its modules (kustomize's Go API, client-go,
# grpc-go). Go is used from PATH or /usr/local/go; if neither has it, the toolchain is fetched
# from the Go module proxy (golang.org/toolchain) into the same cache as the Kafka jars. Fast
# when present: a version check and `go mod download` against the module cache.
pc_go_version=$(awk '$1 == "go" { print $2; exit }' tests/deploy/go.mod)
pc_go_cache="${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/go-${pc_go_version}"
for pc_go_dir in /usr/local/go/bin "$pc_go_cache/bin"; do
  if ! command -v go >/dev/null 2>&1 && [ -x "$pc_go_dir/go" ]; then export PATH="$pc_go_dir:$PATH"; fi
done
if ! command -v go >/dev/null 2>&1; then
  echo "deps: installing Go ${pc_go_version} from the Go module proxy"
  command -v unzip >/dev/null 2>&1 || $SUDO apt-get install -y -qq --no-install-recommends unzip >/dev/null \
    || { echo "deps: could not install unzip (needed to unpack Go)" >&2; exit 1; }
  pc_go_zip=$(mktemp --suffix=.zip)
  pc_go_tmp=$(mktemp -d)
  curl -fsSL -o "$pc_go_zip" \
    "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go${pc_go_version}.linux-amd64.zip" \
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
unset pc_go_version pc_go_cache pc_go_dir pc_go_zip pc_go_tmp pc_go_root
