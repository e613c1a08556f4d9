#!/bin/bash
# Issue 13 items 15 and 16.
# 15: --once fails at once (exit 3, ONE error line) on what asking again
#     cannot heal — a malformed or missing replay file, HTTP 404, 3xx, 204,
#     304 — and waits (up to --startup.retry-timeout) only on transient
#     failures: 5xx, 429, connection refused. Replay files are read once.
# 16: an ARN ending in '/' still names its task; after SIGSTOP/SIGCONT the
#     overrun line says the process was paused, never that a 1 ms cycle "took
#     longer than the interval".
# Time bounds here catch a 30 s wait, not slowness: the start-up wait is left
# at its 30 s default and a failure must come long before it.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
requests() { curl -s "http://127.0.0.1:$META/_control" | jq '.task_requests'; }
errors() { grep -c 'level=error' "$1"; }

# once NAME flags... -> RC, MS; the log in $T/NAME.log
once() {
  local name=$1; shift; local t0; t0=$(_now_ms)
  "$EMP_BIN" --once --textfile.directory="$T/tf" --textfile.name=m.prom "$@" >"$T/$name.log" 2>&1; RC=$?
  MS=$(( $(_now_ms) - t0 ))
}
mkdir -p "$T/tf"

# --- 15: failures that cannot heal ---
for status in 404 301 302 204 304 400; do
  meta_control $META "{\"mode\": \"status:$status\"}"
  before=$(requests)
  once "http$status" --metadata.url="$META_URL"
  assert_eq "HTTP $status: exit code" 3 "$RC"
  [ "$MS" -lt 15000 ] || fail "HTTP $status: took ${MS} ms (the 30 s start-up wait is for transient failures)"
  assert_eq "HTTP $status: one /task request (not retried)" 1 "$(( $(requests) - before ))"
  assert_eq "HTTP $status: one error line" 1 "$(errors "$T/http$status.log")"
  grep -q "level=error msg=\"metadata unavailable\" err=\".*HTTP status $status" "$T/http$status.log" ||
    { cat "$T/http$status.log"; fail "HTTP $status: the error line does not name the status"; }
  assert_eq "HTTP $status: no retry announced" 0 "$(grep -c retrying "$T/http$status.log")"
  echo "MEASURED once_fail_ms_http$status=$MS"
done
meta_control $META '{"mode": "garbage"}'
once garbage --metadata.url="$META_URL"
assert_eq "malformed body from the endpoint: exit code" 3 "$RC"
[ "$MS" -lt 15000 ] || fail "malformed body: took ${MS} ms"
assert_eq "malformed body: one error line" 1 "$(errors "$T/garbage.log")"
meta_control $META '{"mode": "ok"}'

printf '{"TaskARN": "arn:aws:ecs:r:1:task/c/x", "Containers": [' >"$T/torn.json"   # cut short
for what in torn missing; do
  f=$T/torn.json; [ $what = missing ] && f=$T/no-such-file.json
  once "replay-$what" --metadata.task-file="$f" --metadata.stats-file="$FIXTURES/$FIX.stats.json"
  assert_eq "replay file $what: exit code" 3 "$RC"
  [ "$MS" -lt 15000 ] || fail "replay file $what: took ${MS} ms"
  assert_eq "replay file $what: one error line" 1 "$(errors "$T/replay-$what.log")"
  assert_eq "replay file $what: no retry" 0 "$(grep -c 'retrying' "$T/replay-$what.log")"
  echo "MEASURED once_fail_ms_replay_$what=$MS"
done

# --- 15: transient failures are retried for --startup.retry-timeout ---
for mode in status:503 status:429; do
  meta_control $META "{\"mode\": \"$mode\"}"
  before=$(requests)
  once "transient" --metadata.url="$META_URL" --startup.retry-timeout=1s
  assert_eq "$mode: exit code" 3 "$RC"
  n=$(( $(requests) - before ))
  [ "$n" -ge 3 ] || fail "$mode: only $n requests: a transient failure must be retried"
  ok "$mode: retried ($n requests in ${MS} ms, --startup.retry-timeout=1s)"
  assert_eq "$mode: one error line" 1 "$(errors "$T/transient.log")"
  assert_eq "$mode: one retry announcement" 1 "$(grep -c 'level=warn msg="metadata not available yet; retrying"' "$T/transient.log")"
done
meta_control $META '{"mode": "ok"}'
# Connection refused: a port nobody listens on (bound, then closed).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
once refused --metadata.url="http://127.0.0.1:$port/v4/x" --startup.retry-timeout=1s
assert_eq "connection refused: exit code" 3 "$RC"
assert_eq "connection refused: retried, announced once" 1 "$(grep -c 'retrying' "$T/refused.log")"
assert_eq "connection refused: one error line" 1 "$(errors "$T/refused.log")"

# --- 16: an ARN ending in '/' ---
jq -c '.TaskARN += "/"' "$FIXTURES/$FIX.task.json" >"$T/slash.task.json"
mkdir -p "$T/tf16"
"$EMP_BIN" --once --metadata.task-file="$T/slash.task.json" --metadata.stats-file="$FIXTURES/$FIX.stats.json" \
  --textfile.directory="$T/tf16" >"$T/slash.log" 2>&1; RC=$?
assert_eq "ARN ending in '/': exit code" 0 "$RC"
[ -s "$T/tf16/ecs_$TASK_ID.prom" ] || { cat "$T/slash.log"; fail "ARN ending in '/': no ecs_$TASK_ID.prom"; }
ok "ARN ending in '/': the task id is its last non-empty segment"
# An ARN with no task id at all: a clear error naming it.
jq -c '.TaskARN = "arn:aws:ecs:us-east-1:1:task///"' "$FIXTURES/$FIX.task.json" >"$T/noid.task.json"
"$EMP_BIN" --once --metadata.task-file="$T/noid.task.json" --metadata.stats-file="$FIXTURES/$FIX.stats.json" \
  --textfile.directory="$T/tf16" >"$T/noid.log" 2>&1; RC=$?
assert_eq "ARN without a task id: exit code" 3 "$RC"
grep -q 'level=error msg="metadata unavailable" err="TaskARN \\"arn:aws:ecs:us-east-1:1:task///\\" has no task id' "$T/noid.log" ||
  { cat "$T/noid.log"; fail "ARN without a task id: the error does not name the ARN"; }
assert_eq "ARN without a task id: one metadata error line" 1 "$(grep -c "msg=\"metadata unavailable\"" "$T/noid.log")"

# --- 16: SIGSTOP/SIGCONT ---
start_pusher "$T/stop.log" --metadata.url="$META_URL" --interval=200ms --interval.jitter=0 \
  --textfile.directory="$T/tf" --textfile.name=loop.prom
P=$PUSHER_PID
wait_for 10 test -s "$T/tf/loop.prom" || { cat "$T/stop.log"; fail "loop did not write"; }
kill -STOP $P; sleep 1.5; kill -CONT $P
wait_for 10 grep -q 'skipped ticks' "$T/stop.log" || { cat "$T/stop.log"; fail "no overrun line after SIGSTOP"; }
line=$(grep 'skipped ticks' "$T/stop.log" | head -1)
echo "# $line"
took=$(sed -n 's/.* took=\([0-9.]*\)s.*/\1/p' <<<"$line")
late=$(sed -n 's/.* late=\([0-9.]*\)s.*/\1/p' <<<"$line")
# The wording must match the figures: "took longer" only when the cycle itself did.
if grep -q 'cycle took longer than the interval' <<<"$line"; then
  python3 -c "import sys; sys.exit(0 if $took >= 0.2 else 1)" || fail "says the cycle took longer, but took=${took}s"
else
  grep -q 'the process was paused or starved' <<<"$line" || fail "overrun line: $line"
  python3 -c "import sys; sys.exit(0 if ${late:-0} >= 0.2 else 1)" || fail "says paused, but late=${late}s"
fi
ok "after SIGSTOP/SIGCONT the overrun line matches its figures (took=${took}s late=${late}s)"
_alive $P || fail "SIGSTOP/SIGCONT ended the process"
kill -TERM $P; wait $P; assert_eq "exit code after SIGTERM" 0 "$?"
echo "all hostile --once checks passed"
