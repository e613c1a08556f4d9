#!/bin/bash
# The benchmark suite, from a fresh Debian 12 machine, in one command:
#   bash bench/run.sh
# Installs what it needs (tests/setup.sh, which brings Google Benchmark and
# prometheus-cpp), builds a release tree in build-bench with -Dbench=true,
# runs the cycle microbenchmarks and the whole-process measurements, and
# prints the tables of bench/README.md (also left in build-bench/bench-report.md).
# Not part of the test run: timings are measured here, never asserted in tests.
#
# Knobs: BENCH_REPETITIONS (3), BENCH_MIN_TIME (0.2 s per benchmark),
# BENCH_FILTER (a Google Benchmark regex, default all), BENCH_CYCLES (10000),
# BENCH_ONCE_RUNS (25), BENCH_INTERVAL (5ms). Build dir: EMP_BENCH_BUILD_DIR.
# BENCH_LEAN=0 skips the lean static build (container/build-lean.sh, ~4 min
# the first time) and its side-by-side column; the original Python exporter
# is measured beside ours when EMP_SEED_DIR (default ../shared/seed) exists.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${EMP_BENCH_BUILD_DIR:-build-bench}

# Google Benchmark and prometheus-cpp come with the full list (CI builds bench/ too).
EMP_EXTRA_PACKAGES="util-linux binutils eatmydata ${EMP_EXTRA_PACKAGES:-}" bash tests/setup.sh

if [ -f "$BUILD/build.ninja" ]; then
  meson configure "$BUILD" -Dbench=true --buildtype=release >/dev/null
else
  meson setup "$BUILD" --buildtype=release -Dbench=true -Dwerror=true >/dev/null
fi
echo "building $BUILD/bench/cycle_bench and $BUILD/src/ecs-metrics-pusher" >&2
ninja -C "$BUILD" bench/cycle_bench bench/libcurl_floor src/ecs-metrics-pusher >"$BUILD.ninja.log" 2>&1 || { tail -50 "$BUILD.ninja.log"; exit 1; }

echo "cycle microbenchmarks (log: $BUILD/bench-micro.log)" >&2
"$BUILD/bench/cycle_bench" \
  --benchmark_repetitions="${BENCH_REPETITIONS:-3}" --benchmark_report_aggregates_only=true \
  --benchmark_min_time="${BENCH_MIN_TIME:-0.2}" --benchmark_filter="${BENCH_FILTER:-.}" \
  --benchmark_out="$BUILD/bench-micro.json" --benchmark_out_format=json >"$BUILD/bench-micro.log" 2>&1 ||
  { tail -20 "$BUILD/bench-micro.log"; exit 1; }

echo "whole-process figures (log: $BUILD/bench-process.log)" >&2
EMP_BIN=$SRC/$BUILD/src/ecs-metrics-pusher EMP_SRC=$SRC \
  bash bench/process_bench.sh "$BUILD/bench-process.json" >"$BUILD/bench-process.log" 2>&1 ||
  { tail -20 "$BUILD/bench-process.log"; exit 1; }

extra=()
if [ "${BENCH_LEAN:-1}" != 0 ]; then
  echo "lean static build (container/build-lean.sh; log: $BUILD/lean-build.log)" >&2
  nice -n 10 bash container/build-lean.sh "$BUILD/lean" >"$BUILD/lean-build.log" 2>&1 || { tail -20 "$BUILD/lean-build.log"; exit 1; }
  echo "whole-process figures of the lean build (log: $BUILD/bench-process-lean.log)" >&2
  EMP_BIN=$SRC/$BUILD/lean/ecs-metrics-pusher EMP_SRC=$SRC EMP_BENCH_LABEL=lean EMP_LIBCURL_FLOOR=/nonexistent \
    bash bench/process_bench.sh "$BUILD/bench-process-lean.json" >"$BUILD/bench-process-lean.log" 2>&1 ||
    { tail -20 "$BUILD/bench-process-lean.log"; exit 1; }
  extra+=(--lean "$BUILD/bench-process-lean.json")
fi
SEED=${EMP_SEED_DIR:-$SRC/../shared/seed}
if [ -f "$SEED/scripts/ecs_metrics_exporter.py" ]; then
  echo "the original Python exporter from $SEED (log: $BUILD/bench-seed.log)" >&2
  if EMP_SRC=$SRC bash bench/seed_bench.sh "$SEED" "$BUILD/bench-seed.json" >"$BUILD/bench-seed.log" 2>&1; then
    extra+=(--seed "$BUILD/bench-seed.json")
  else
    echo "  skipped: $(tail -1 "$BUILD/bench-seed.log")" >&2
  fi
else
  echo "no original exporter at $SEED: its column is left out" >&2
fi

python3 bench/report.py "$BUILD/bench-micro.json" "$BUILD/bench-process.json" "${extra[@]}" | tee "$BUILD/bench-report.md"
