#!/bin/bash
# Issue 13 item 8: running out of memory is an error line and `success 0`,
# never an abort. The pusher reads a /task body with a 1,000,000-byte
# container name (under the 1 MiB default --metadata.max-body-bytes) under
# address-space limits (ulimit -v) swept across the range where it stops
# fitting: every run must exit 0 (it fitted) or 3 (one error line naming the
# memory), never 134 (an uncaught std::bad_alloc). A loop under a failing
# limit keeps running and reports success 0. Peak memory itself is measured
# in docs/reliability.md, not asserted here.
. "$(dirname "$0")/lib.sh"

# AddressSanitizer reserves terabytes of address space: ulimit -v cannot apply.
if ldd "$EMP_BIN" 2>/dev/null | grep -q 'libasan\|libtsan'; then skip "sanitizer build: address-space limits do not apply"; fi

FIX=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
jq -c '.Containers[0].Name = ("n" * 1000000)' "$FIX.task.json" >"$T/big.task.json"
[ "$(stat -c %s "$T/big.task.json")" -lt 1048576 ] || fail "the body must fit the default cap"
ARGS=(--metadata.task-file="$T/big.task.json" --metadata.stats-file="$FIX.stats.json")

# The smallest limit under which the binary starts at all (the shared libraries map).
start=""
for limit in $(seq 10000 500 200000); do
  if ( ulimit -v "$limit"; exec "$EMP_BIN" --version ) >/dev/null 2>&1; then start=$limit; break; fi
done
[ -n "$start" ] || fail "the binary does not start under any limit up to 200000 kB"
fitted=0 failed=0 fail_limit=""
for limit in $(seq "$start" 500 $((start + 60000))); do
  ( ulimit -v "$limit"; exec "$EMP_BIN" --once "${ARGS[@]}" --textfile.path=/dev/null ) >"$T/run.log" 2>&1
  rc=$?
  case $rc in
    0) fitted=$((fitted + 1)) ;;
    3) failed=$((failed + 1)); fail_limit=$limit
       # One metadata error line, naming memory (simdjson's own message or ours).
       [ "$(grep -c 'level=error msg="metadata unavailable"' "$T/run.log")" = 1 ] || { cat "$T/run.log"; fail "limit ${limit} kB: not one error line"; }
       grep -q 'level=error msg="metadata unavailable" err=".*\(out of memory\|Error allocating memory\|Cannot allocate memory\)' "$T/run.log" ||
         { cat "$T/run.log"; fail "limit ${limit} kB: the error line does not name the memory"; } ;;
    *) cat "$T/run.log" >&2; fail "limit ${limit} kB: exit code $rc (134 = abort on an uncaught std::bad_alloc)" ;;
  esac
done
ok "ulimit -v $start..$((start + 60000)) kB in 500 kB steps: $fitted runs fitted (exit 0), $failed ran out of memory (exit 3), none aborted"
[ "$fitted" -gt 0 ] && [ "$failed" -gt 0 ] || fail "the sweep did not cross the limit (fitted=$fitted failed=$failed)"

# A loop under a limit that does not fit: cycles go on, success 0, SIGTERM exits 0.
mkdir -p "$T/tf"
( ulimit -v "$fail_limit"; exec "$EMP_BIN" "${ARGS[@]}" --interval=100ms --interval.jitter=0 --startup.retry-timeout=0s \
    --textfile.directory="$T/tf" --textfile.name=m.prom ) >"$T/loop.log" 2>&1 &
P=$!; _PIDS="$_PIDS $P"
errors_at_least() { [ "$(grep -c 'msg="metadata unavailable"' "$T/loop.log")" -ge "$1" ]; }
wait_for 20 errors_at_least 3 || { cat "$T/loop.log"; fail "loop: no repeated errors"; }
_alive $P || { cat "$T/loop.log"; fail "loop under ulimit -v $fail_limit died"; }
ok "loop under ulimit -v $fail_limit kB keeps running, one error line per cycle"
if [ -s "$T/tf/m.prom" ]; then
  assert_eq "loop: success in the textfile" 0 "$(text_value ee_ecs_metrics_exporter_success <"$T/tf/m.prom")"
fi
kill -TERM $P; wait $P; assert_eq "loop: exit code after SIGTERM" 0 "$?"
echo "all hostile memory checks passed"
