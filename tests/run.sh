#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: install, build, test.
#   bash tests/run.sh            (what CI runs)
# Ends with a line "N passed, N failed" and exits non-zero on any failure.
#
# Three passes, all counted in the final line:
#  1. the release build (-Werror) and the whole meson test suite;
#  2. the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#     (-fno-sanitize-recover=all, so any report fails its test) in build-asan;
#  3. the libFuzzer smoke: every fuzz target for its share of 45 s (fuzz/run.sh;
#     the long runs are `bash fuzz/run.sh --long`, by hand).
# The builds of passes 2 and 3 run in the background, at low priority, while
# pass 1's tests run (those mostly wait on peers): CI's 15 minutes go mostly
# to compiling, and this way the two cores are used while the tests wait.
# EMP_SANITIZE=0 skips pass 2, EMP_FUZZ_SECONDS=0 skips pass 3 (quick local runs).
# Extra arguments go to both meson test runs (e.g. a test name).
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

bash tests/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

LOGS=()
status=0
build_failures=0  # a build that fails counts as one failed test
build_dir() { # BUILD_DIR MESON_SETUP_ARGS...: configure when new, build; a failure counts once
  local build=$1; shift
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --wrap-mode=nodownload "$@" >/dev/null || { echo "meson setup $build failed"; status=1; build_failures=$((build_failures + 1)); return 1; }
  fi
  ninja -C "$build" >"$build.ninja.log" 2>&1 || { tail -50 "$build.ninja.log"; echo "build $build failed"; status=1; build_failures=$((build_failures + 1)); return 1; }
}
run_suite() { # BUILD_DIR JOBS -- MESON_TEST_ARGS...
  local build=$1 jobs=$2; shift 3
  meson test -C "$build" --no-rebuild --print-errorlogs --num-processes "$jobs" "$@" || status=1
  LOGS+=("$build/meson-logs/testlog.json")
}

ASAN=${EMP_ASAN_BUILD_DIR:-build-asan}
# Sanitized at -O1 without debug info: half the compile time of
# debugoptimized, and ASan's reports keep their symbolised stacks.
ASAN_SETUP=(--buildtype=plain -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
  "-Dcpp_args=-O1 -fno-sanitize-recover=all")
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}

RELEASE=${EMP_BUILD_DIR:-build-test}
start=$(date +%s)
phase() { echo "run.sh: $1 done at $(( $(date +%s) - start )) s"; }  # where CI time goes
# -Dbench=true: the benchmarks are compiled with the release build (not run:
# bench/run.sh measures), so an interface change that breaks them fails CI.
build_dir "$RELEASE" --buildtype=release -Dwerror=true -Dbench=true && release_built=1 || release_built=0
phase "release build"
# Passes 2 and 3 are compiled in the background while pass 1 runs; each
# writes its exit status to a file that the pass waits for.
rm -f "$ASAN.built" "$FUZZ_BUILD.built"
(
  if [ "${EMP_SANITIZE:-1}" != 0 ]; then
    { [ -f "$ASAN/build.ninja" ] || meson setup "$ASAN" --wrap-mode=nodownload "${ASAN_SETUP[@]}"; } >"$ASAN.ninja.log" 2>&1 &&
      nice -n 10 ninja -C "$ASAN" >>"$ASAN.ninja.log" 2>&1
    echo $? >"$ASAN.built"
  fi
  if [ "${EMP_FUZZ_SECONDS:-45}" != 0 ]; then
    FUZZ_BUILD=$FUZZ_BUILD nice -n 10 bash fuzz/run.sh --build-only >"$FUZZ_BUILD.ninja.log" 2>&1
    echo $? >"$FUZZ_BUILD.built"
  fi
) &
BACKGROUND_BUILD=$!
trap 'kill $BACKGROUND_BUILD 2>/dev/null' EXIT
wait_built() { # BUILD_DIR -> the background build's exit status
  while [ ! -f "$1.built" ]; do
    kill -0 "$BACKGROUND_BUILD" 2>/dev/null || { [ -f "$1.built" ] || echo 1 >"$1.built"; break; }
    sleep 2
  done
  return "$(cat "$1.built")"
}

# Pass 1 runs 2 tests at a time: the background builds take the rest of the
# two cores. Pass 2 runs alone and its tests mostly wait on peers, so 3 at a
# time (measured: 125 s instead of 219 s, the cores ~90% busy).
[ "$release_built" = 0 ] || run_suite "$RELEASE" "${EMP_TEST_JOBS:-2}" -- "$@"
phase "release tests"

if [ "${EMP_SANITIZE:-1}" != 0 ]; then
  # meson test exports ASAN_OPTIONS/UBSAN_OPTIONS with halt_on_error=1 and
  # abort_on_error=1 for sanitized builds; leak checking is ASan's default.
  # This pass runs every test that drives the binary through a code path of
  # its own (unit, fault, hostile, lifecycle, sinks). Left to pass 1 only,
  # to keep CI within its 15 minutes:
  #  - container_check builds the image with its own flags, lint and
  #    readme_check read the sources, soak_valgrind cannot run a sanitized
  #    binary (LeakSanitizer checks leaks here instead);
  #  - tests whose binary work is the same --once/loop path the sink tests
  #    already cover and whose time goes to waiting on peers or on log text:
  #    deploy_* (task definitions, rules, dashboard), promtool_check_metrics,
  #    textfile_node_exporter, pushgateway_prometheus, victoria_metrics_import,
  #    security_secrets (a grep over logs), soak (minutes of steady state).
  if ! wait_built "$ASAN"; then
    tail -50 "$ASAN.ninja.log"; echo "build $ASAN failed"; status=1; build_failures=$((build_failures + 1))
  else
    asan_tests=("$@")
    if [ ${#asan_tests[@]} -eq 0 ]; then
      mapfile -t asan_tests < <(meson test -C "$ASAN" --list --no-rebuild 2>/dev/null | grep ' / ' | sed 's/.* \/ //' |
        grep -vxE "${EMP_ASAN_SKIP:-container_check|soak_valgrind|soak|lint|readme_check|deploy_.*|promtool_check_metrics|textfile_node_exporter|pushgateway_prometheus|victoria_metrics_import|security_secrets}")
    fi
    phase "sanitizer build (background)"
    run_suite "$ASAN" "${EMP_ASAN_TEST_JOBS:-3}" -- "${asan_tests[@]}"
    phase "sanitizer tests"
  fi
fi

FUZZ_SUMMARY=$PWD/$FUZZ_BUILD/ci-summary
mkdir -p "$(dirname "$FUZZ_SUMMARY")"; rm -f "$FUZZ_SUMMARY"
if [ "${EMP_FUZZ_SECONDS:-45}" != 0 ]; then
  wait_built "$FUZZ_BUILD" || tail -30 "$FUZZ_BUILD.ninja.log"  # fuzz/run.sh reports the failure again
  FUZZ_BUILD=$FUZZ_BUILD FUZZ_SUMMARY=$FUZZ_SUMMARY bash fuzz/run.sh --smoke "${EMP_FUZZ_SECONDS:-45}" || status=1
  [ -s "$FUZZ_SUMMARY" ] || echo "fuzz FAILED 0" >"$FUZZ_SUMMARY"
fi
echo "test time: $(( $(date +%s) - start )) s (builds included)"

python3 - "$build_failures" "$FUZZ_SUMMARY" "${LOGS[@]}" <<'PY'
import json, os, sys
passed = skipped = 0
failed = int(sys.argv[1])
for log in sys.argv[3:]:
    for line in open(log):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
if os.path.exists(sys.argv[2]):
    for line in open(sys.argv[2]):
        if line.split()[1] == "OK": passed += 1
        else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
