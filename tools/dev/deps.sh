#!/usr/bin/env bash
# Installs whatever this machine is missing to build, run and test the project. Idempotent:
# a second run installs nothing and takes a second or two.
#   - Debian packages (compilers' libraries, gRPC, librdkafka, PostgreSQL 15, Java 17, …)
#   - the pinned Apache Kafka jars from Maven Central, cached outside the build directory
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  cmake ninja-build g++ make pkg-config ccache git
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libabsl-dev
  librdkafka-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libpq-dev
  libjwt-dev nlohmann-json3-dev libspdlog-dev libboost-dev libssl-dev
  kcat postgresql-15 openjdk-17-jre-headless maven curl openssl
  clang-14 libclang-rt-14-dev libfuzzer-14-dev  # the fuzz tier (fuzz/README.md)
)
if [ -n "${PC_EXTRA_PACKAGES:-}" ]; then read -r -a extra <<<"$PC_EXTRA_PACKAGES"; PACKAGES+=("${extra[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

deploy/local/kafka/kafka.sh fetch

# pc_npm_ci DIR PACKAGE: `npm ci` in DIR unless DIR/node_modules already holds the version of
# PACKAGE that DIR/package-lock.json pins (then no network). Installs npm if it is missing.
pc_npm_ci() {
  local dir=$1 package=$2 want have
  command -v npm >/dev/null 2>&1 || {
    echo "deps: installing npm"
    $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null \
      || { echo "deps: could not install npm (needed by $dir)" >&2; exit 1; }
  }
  want=$(node -e "console.log(require('./$dir/package-lock.json').packages['node_modules/$package'].version)")
  have=$(node -e "try{console.log(require('./$dir/node_modules/$package/package.json').version)}catch(e){console.log('')}")
  if [ "$want" != "$have" ]; then
    echo "deps: npm ci $package@$want in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund >/dev/null) \
      || { echo "deps: npm ci in $dir failed" >&2; exit 1; }
  fi
}

# Tier-specific installers (browser: Chromium + playwright-core; deploy: kustomize + Go modules;
# protos: buf, grpcurl and the AsyncAPI parser).
for extra_deps in tools/dev/deps.d/*.sh; do
  [ -e "$extra_deps" ] || continue
  # shellcheck source=/dev/null
  source "$extra_deps"
done
echo "deps: ok"
