# Sourced by tools/dev/deps.sh after deploy.sh (which puts Go on PATH; cwd = repo root): the
# contracts tier's pinned tools (tests/contracts, ctest -L contracts).
#   - buf and grpcurl: `go install tool` from tests/contracts/go.mod + go.sum (versions pinned
#     there) into the cache, in a folder named by the hash of those two files, so a new pin
#     builds new binaries and an old cache is never mistaken for it. Go fetches a newer
#     toolchain from the module proxy itself if go.mod asks for one.
#   - @asyncapi/parser from tests/contracts/package-lock.json.
# Fast when present: a hash, two -x tests and a node_modules version check, no network.
pc_tools_key=$(cat tests/contracts/go.mod tests/contracts/go.sum | sha256sum | cut -c1-12)
pc_tools_bin="${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter/contracts-tools-${pc_tools_key}"
if [ ! -x "$pc_tools_bin/buf" ] || [ ! -x "$pc_tools_bin/grpcurl" ]; then
  echo "deps: building buf and grpcurl (tests/contracts/go.mod) into $pc_tools_bin"
  rm -rf "$pc_tools_bin.tmp"
  (cd tests/contracts && GOFLAGS=-mod=readonly GOBIN="$pc_tools_bin.tmp" go install tool) \
    || { echo "deps: could not build buf and grpcurl" >&2; exit 1; }
  rm -rf "$pc_tools_bin" && mv "$pc_tools_bin.tmp" "$pc_tools_bin"
fi
pc_npm_ci tests/contracts @asyncapi/parser
unset pc_tools_key pc_tools_bin
