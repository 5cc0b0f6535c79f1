#!/usr/bin/env bash
# `make bench`: runs every benchmark binary the build produced (build/bench/*_bench) against a
# throwaway PostgreSQL (deploy/local/postgres/pg.sh, port 45432, data under
# $BUILD_DIR/bench-infra/postgres), stopped again on exit. Each benchmark reports its numbers as
# ratios against a baseline measured in the same run; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build}
shopt -s nullglob
benches=("$BUILD_DIR"/bench/*_bench)
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench: no benchmarks are built yet (they arrive with the services)"
  exit 0
fi
export PC_PG_DIR="$BUILD_DIR/bench-infra/postgres" PC_PG_PORT=45432
trap 'deploy/local/postgres/pg.sh stop' EXIT
deploy/local/postgres/pg.sh start >/dev/null
export PC_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:${PC_PG_PORT}/postgres"
status=0
for b in "${benches[@]}"; do echo "== $b"; "$b" || status=1; done
exit $status
