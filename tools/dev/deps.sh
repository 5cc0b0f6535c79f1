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
  kcat postgresql-15 openjdk-17-jre-headless maven curl
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

# Tier-specific installers (browser: Chromium + playwright-core; deploy: kustomize + Go modules).
for extra_deps in tools/dev/deps.d/*.sh; do
  [ -e "$extra_deps" ] || continue
  # shellcheck source=/dev/null
  source "$extra_deps"
done
echo "deps: ok"
