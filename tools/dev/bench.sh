#!/usr/bin/env bash
# `make bench` (QUICK=1: fewer events and pairs): runs every benchmark binary the build
# produced (build/bench/*_bench) against a
# throwaway PostgreSQL (deploy/local/postgres/pg.sh, port 45432, data under
# $BUILD_DIR/bench-infra/postgres) and a throwaway Kafka broker (deploy/local/kafka/kafka.sh,
# port 49092, data under $BUILD_DIR/bench-infra/kafka), both stopped again on exit. Each benchmark reports its numbers as
# ratios against a baseline measured in the same run and appends its figures to
# $BUILD_DIR/bench/figures.jsonl; tools/dev/bench-report.mjs then prints one table and writes
# report.json, report.md and report.svg (the chart) beside it. See docs/benchmarks.md.
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
export PC_KAFKA_DIR="$BUILD_DIR/bench-infra/kafka" PC_KAFKA_PORT=49092 PC_KAFKA_CONTROLLER_PORT=49093
export PC_KAFKA_SASL_PORT=49094 PC_PCCTL="$BUILD_DIR/tools/pcctl/pcctl"
trap 'deploy/local/postgres/pg.sh stop; deploy/local/kafka/kafka.sh stop >/dev/null' EXIT
deploy/local/postgres/pg.sh start >/dev/null
# A fresh broker every run (its data from an earlier run would be read again by the benches
# that consume cloud topics from the start); its certificates are kept.
deploy/local/kafka/kafka.sh stop >/dev/null 2>&1 || true
rm -rf "$PC_KAFKA_DIR/data"
deploy/local/kafka/kafka.sh start >/dev/null
export PC_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:${PC_PG_PORT}/postgres"
export PC_TEST_KAFKA_BROKERS="127.0.0.1:${PC_KAFKA_PORT}"
export PC_TEST_KAFKA_CERTS_DIR="$PC_KAFKA_DIR/certs"
export PC_BENCH_JSON="$BUILD_DIR/bench/figures.jsonl"
: > "$PC_BENCH_JSON"
if [ -n "${QUICK:-}" ]; then export PC_BENCH_QUICK=1; fi
status=0
for b in "${benches[@]}"; do
  echo "== $b"
  "$b" || { echo "bench: $b failed"; status=1; }
done
echo
echo "== report"
node tools/dev/bench-report.mjs "$PC_BENCH_JSON" || status=1
exit $status
