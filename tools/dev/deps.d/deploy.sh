# Sourced by tools/dev/deps.sh: the Go modules of the deploy tier (tests/deploy: kustomize's Go
# API, client-go, grpc-go) from the Go module proxy, into the module cache. Fast when cached.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "deps: Go is missing (needed by the deploy tier)" >&2; exit 1; }
(cd tests/deploy && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download) \
  || { echo "deps: could not download the deploy tier's Go modules" >&2; exit 1; }
