#!/usr/bin/env bash
# The fuzz targets (fuzz/README.md): a clang build of its own, and bounded runs from the
# committed seeds.
#   fuzz.sh build                 configure (once) and build every target in $PC_FUZZ_BUILD_DIR
#   fuzz.sh run TARGET SECONDS    run one target for SECONDS from fuzz/corpus/TARGET (+ the
#                                 crash inputs kept in fuzz/regressions/TARGET); non-zero exit
#                                 on a crash, a sanitizer report or a broken invariant
#   fuzz.sh all SECONDS           build, then run every target in turn (make fuzz SECONDS=…)
# New inputs the run finds go to $PC_FUZZ_BUILD_DIR/corpus/TARGET (not the committed seeds);
# a crashing input is written to $PC_FUZZ_BUILD_DIR/artifacts/TARGET-crash-… .
set -euo pipefail
src=${PC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=${PC_FUZZ_BUILD_DIR:-$src/build/fuzz-clang}
jobs=${JOBS:-$(nproc)}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$src} CCACHE_NOHASHDIR=true

build() {
  for tool in clang-14 clang++-14; do
    command -v "$tool" >/dev/null || { echo "fuzz: $tool is missing (run make deps)" >&2; exit 1; }
  done
  if [ ! -f "$dir/build.ninja" ]; then
    # -O1 with line tables only: quick to build, fast enough to fuzz, symbolized reports.
    cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      -DPC_FUZZ=ON -DPC_WERROR=OFF -DPC_BUILD_BENCHMARKS=OFF >/dev/null
  fi
  local start=$SECONDS
  cmake --build "$dir" --target fuzzers -j "$jobs"
  echo "fuzz: built the targets in $((SECONDS - start))s"
}

run() {
  local target=$1 seconds=$2 binary="$dir/fuzz/${1}_fuzzer"
  [ -x "$binary" ] || { echo "fuzz: $binary is missing (fuzz.sh build)" >&2; exit 1; }
  local corpus="$dir/corpus/$target" artifacts="$dir/artifacts"
  mkdir -p "$corpus" "$artifacts"
  local inputs=("$corpus" "$src/fuzz/corpus/$target")
  [ -d "$src/fuzz/regressions/$target" ] && inputs+=("$src/fuzz/regressions/$target")
  # -timeout: one input taking longer is a finding; -rss_limit_mb: so is a memory blow-up.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" "${inputs[@]}"
}

case "${1:-}" in
  build) build ;;
  run) run "$2" "$3" ;;
  all)
    build
    for f in "$src"/fuzz/*_fuzzer.cc; do
      t=$(basename "$f" _fuzzer.cc)
      echo "fuzz: $t for ${2}s"
      run "$t" "$2"
    done ;;
  *) echo "usage: fuzz.sh build | run TARGET SECONDS | all SECONDS" >&2; exit 2 ;;
esac
