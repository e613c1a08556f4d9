#!/bin/bash
# Static checks: clang-tidy with the project's .clang-tidy (a small set of
# bug-finding checks, all errors) over every source file in src/, using the
# build's own compile commands; and the clang-format style on src/, tests/*.cc,
# fuzz/ and bench/ (.clang-format).
set -uo pipefail
SRC=${EMP_SRC:?}
BUILD=$(cd "$(dirname "${EMP_BIN:?}")/.." && pwd)
[ -f "$BUILD/compile_commands.json" ] || { echo "no compile_commands.json in $BUILD"; exit 1; }
cd "$SRC"
mapfile -t files < <(ls src/*.cc | grep -v '_test\.cc$')
status=0
# -Wno-unknown-warning-option: GCC-only flags of the build (-Wno-restrict).
if ! run-clang-tidy -quiet -p "$BUILD" -j 2 -extra-arg=-Wno-unknown-warning-option "${files[@]/#/$SRC/}" \
     >"$BUILD/clang-tidy.log" 2>&1; then
  grep -E 'error:|warning:' "$BUILD/clang-tidy.log" | sort -u | head -40
  echo "clang-tidy: FAILED (full log: $BUILD/clang-tidy.log)"
  status=1
else
  echo "clang-tidy: ${#files[@]} files clean"
fi
mapfile -t formatted < <(ls src/*.cc src/*.h tests/*.cc tests/*.h fuzz/*.cc fuzz/*.h bench/*.cc 2>/dev/null)
if ! clang-format --dry-run --Werror "${formatted[@]}" >"$BUILD/clang-format.log" 2>&1; then
  grep -o '^[^:]*:[0-9]*' "$BUILD/clang-format.log" | sort -u | head -20
  echo "clang-format: FAILED (run: clang-format -i ${formatted[*]:0:3} ...)"
  status=1
else
  echo "clang-format: ${#formatted[@]} files clean"
fi
exit $status
