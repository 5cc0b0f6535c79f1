#!/usr/bin/env bash
# `make bench`: runs every benchmark binary the build produced (build/bench/*_bench). Each
# reports its numbers as ratios against a baseline measured in the same run; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build}
shopt -s nullglob
benches=("$BUILD_DIR"/bench/*_bench)
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench: no benchmarks are built yet (they arrive with the services)"
  exit 0
fi
for b in "${benches[@]}"; do echo "== $b"; "$b"; done
