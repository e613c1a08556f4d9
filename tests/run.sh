#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: install, build, test.
#   bash tests/run.sh            (what CI runs)
# Ends with a line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

bash tests/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

BUILD=${EMP_BUILD_DIR:-build-test}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Dwerror=true >/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$BUILD" >"$BUILD.ninja.log" 2>&1 || { tail -50 "$BUILD.ninja.log"; echo "0 passed, 1 failed"; exit 1; }

meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes "${EMP_TEST_JOBS:-2}" "$@"
status=$?

python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
