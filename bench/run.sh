#!/bin/bash
# The benchmark suite, from a fresh Debian 12 machine, in one command:
#   bash bench/run.sh
# Installs what it needs (tests/setup.sh plus Google Benchmark and
# prometheus-cpp), builds a release tree in build-bench with -Dbench=true,
# runs the cycle microbenchmarks and the whole-process measurements, and
# prints the tables of bench/README.md (also left in build-bench/bench-report.md).
# Not part of the test run: timings are measured here, never asserted in tests.
#
# Knobs: BENCH_REPETITIONS (3), BENCH_MIN_TIME (0.2 s per benchmark),
# BENCH_FILTER (a Google Benchmark regex, default all), BENCH_CYCLES (10000),
# BENCH_ONCE_RUNS (25), BENCH_INTERVAL (5ms). Build dir: EMP_BENCH_BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${EMP_BENCH_BUILD_DIR:-build-bench}

EMP_EXTRA_PACKAGES="libbenchmark-dev prometheus-cpp-dev util-linux binutils ${EMP_EXTRA_PACKAGES:-}" bash tests/setup.sh

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

python3 bench/report.py "$BUILD/bench-micro.json" "$BUILD/bench-process.json" | tee "$BUILD/bench-report.md"
