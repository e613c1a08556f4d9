#!/bin/bash
# Issue 13 items 2, 5, 6, 7: the textfile sink in a shared, hostile directory.
#  2: a FIFO with no reader under our name never blocks the loop: one clear
#     error per cycle, cycles go on, SIGTERM exits 0.
#  5: symlinks planted under our temp-file names or our file name are never
#     followed: the file they point to keeps its content and mode.
#  6: temp files left by kill -9 are removed at the next start once older
#     than a minute; nothing else in the directory is touched.
#  7: task ids with NUL, '..' or other unsafe bytes give an escaped, whole
#     file name; one too long for a file name is a clear error.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
F=ecs_$TASK_ID.prom
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
requests() { curl -s "http://127.0.0.1:$META/_control" | jq '.stats_requests'; }
requests_at_least() { [ "$(requests)" -ge "$1" ]; }
count() { grep -c "$2" "$1"; }
# The last values stay on exit: the checks below read the file afterwards.
LOOP=(--metadata.url="$META_URL" --interval=100ms --interval.jitter=0 --shutdown-timeout=5s --delete-on-exit=false)

# --- 2: a FIFO with no reader ---
mkdir -p "$T/fifo"; mkfifo "$T/fifo/$F"
start_pusher "$T/fifo.log" "${LOOP[@]}" --textfile.directory="$T/fifo"
P=$PUSHER_PID
n=$(requests)
wait_for 20 requests_at_least $((n + 5)) || { cat "$T/fifo.log"; fail "FIFO: cycles stopped (blocked in open?)"; }
ok "FIFO with no reader: cycles go on"
fifo_errors_at_least() { [ "$(count "$T/fifo.log" 'FIFO with no reader')" -ge "$1" ]; }
wait_for 10 fifo_errors_at_least 3 || { cat "$T/fifo.log"; fail "FIFO: no error lines"; }
[ "$(count "$T/fifo.log" 'level=error msg="delivery failed" sink=textfile err=".*is a FIFO with no reader')" -ge 3 ] ||
  fail "FIFO: the error line does not say what is wrong"
ok "FIFO with no reader: one clear error line per cycle"
kill -TERM $P; wait $P; RC=$?
assert_eq "FIFO: exit code after SIGTERM (6 would mean the shutdown timer had to end it)" 0 "$RC"
[ -p "$T/fifo/$F" ] || fail "FIFO: the FIFO was replaced"

# --- 5: planted symlinks ---
mkdir -p "$T/links"
printf 'precious\n' >"$T/victim"; chmod 0600 "$T/victim"
printf 'precious too\n' >"$T/victim2"; chmod 0600 "$T/victim2"
ln -s "$T/victim2" "$T/links/$F"
start_pusher "$T/links.log" "${LOOP[@]}" --textfile.directory="$T/links"
P=$PUSHER_PID
# The name an older version used (pid-based: predictable, pid 1 in a container).
ln -s "$T/victim" "$T/links/.$F.$P.tmp"
n=$(requests)
wait_for 20 requests_at_least $((n + 5)) || fail "links: no cycles"
wait_for 10 test -f "$T/links/$F" -a ! -L "$T/links/$F" || fail "links: our file is still the planted symlink"
kill -TERM $P; wait $P
assert_eq "planted temp-name symlink: target content" precious "$(cat "$T/victim")"
assert_eq "planted temp-name symlink: target mode" 600 "$(stat -c %a "$T/victim")"
assert_eq "planted file-name symlink: target content" "precious too" "$(cat "$T/victim2")"
assert_eq "planted file-name symlink: target mode" 600 "$(stat -c %a "$T/victim2")"
grep -q 'ee_ecs_metrics_exporter_success{' "$T/links/$F" || fail "links: our file is not whole"
ok "the symlink under our file name was replaced by our file, not written through"

# --- 6: leftovers of kill -9 ---
KILLS=${HOSTILE_KILLS:-40}
D=$T/kill; mkdir -p "$D"
for i in $(seq "$KILLS"); do
  "$EMP_BIN" --metadata.url="$META_URL" --interval=10ms --interval.jitter=0 --textfile.directory="$D" \
    --log.level=error >/dev/null 2>&1 &
  p=$!
  wait_for 10 test -s "$D/$F" || fail "kill -9: no file"
  sleep "0.0$((RANDOM % 10))"
  kill -KILL $p; wait $p 2>/dev/null
done
left=$(find "$D" -maxdepth 1 -name '*.tmp' | wc -l)
echo "MEASURED tmp_left_after_${KILLS}_kill9=$left"
# Plant what must survive: another task's temp file, a name outside the
# pattern, a symlink and a directory under our pattern, a fresh one (a write
# in progress), a file of another user — all old.
planted=(".ecs_other.prom.a1B2c3.tmp" ".$F.tmp" "$F.a1B2c3.tmp" "notes.txt")
for f in "${planted[@]}"; do echo keep >"$D/$f"; done
echo keep >"$T/outside"; ln -s "$T/outside" "$D/.$F.LiNk00.tmp"
mkdir "$D/.$F.DiR000.tmp"
ours=2   # planted below as ours
echo keep >"$D/.$F.nobody.tmp"
if chown 65534:65534 "$D/.$F.nobody.tmp" 2>/dev/null && [ "$(id -u)" != 65534 ]; then foreign=1; else foreign=0; ours=3; fi
# Ours, written by "a killed process": one of each name form.
echo x >"$D/.$F.Ab12Cd.tmp"; echo x >"$D/.$F.4242.tmp"
find "$D" -maxdepth 1 -name '*.tmp' -exec touch -h -d '2 minutes ago' {} +
touch -d '2 minutes ago' "$D"/notes.txt
echo x >"$D/.$F.FrEsH1.tmp"   # young: a write in progress
start_pusher "$T/kill.log" "${LOOP[@]}" --textfile.directory="$D"
P=$PUSHER_PID
wait_for 10 grep -q 'removed temporary files left by an earlier process' "$T/kill.log" ||
  { cat "$T/kill.log"; ls -la "$D"; fail "leftovers not removed at start-up"; }
removed=$(sed -n 's/.*removed temporary files left by an earlier process.* count=\([0-9]*\).*/\1/p' "$T/kill.log")
assert_eq "leftovers removed at start-up (ours: $left from kill -9 + $ours planted)" $((left + ours)) "$removed"
kill -TERM $P; wait $P
for f in "${planted[@]}" ".$F.LiNk00.tmp" ".$F.DiR000.tmp" ".$F.FrEsH1.tmp"; do
  [ -e "$D/$f" ] || [ -L "$D/$f" ] || fail "removed something not ours: $f"
done
[ "$foreign" = 0 ] || [ -e "$D/.$F.nobody.tmp" ] || fail "removed another user's file"
assert_eq "the symlink's target" keep "$(cat "$T/outside")"
assert_eq "our temp files left (only the young one)" ".$F.FrEsH1.tmp" \
  "$(find "$D" -maxdepth 1 -name ".$F.*.tmp" -user "$(id -u)" -type f -printf '%f\n')"
ok "only our own old temp files were removed"

# --- 7: unsafe task ids ---
unsafe() { # NAME JQ_EXPR -> RC, directory $T/id-NAME
  jq -c "$2" "$FIXTURES/$FIX.task.json" >"$T/$1.task.json"
  mkdir -p "$T/id-$1"
  "$EMP_BIN" --once --metadata.task-file="$T/$1.task.json" --metadata.stats-file="$FIXTURES/$FIX.stats.json" \
    --textfile.directory="$T/id-$1" >"$T/$1.log" 2>&1; RC=$?
}
unsafe nul '.TaskARN = "arn:aws:ecs:us-east-1:1:task/c/abc\u0000def"'
assert_eq "task id with NUL: exit code" 0 "$RC"
assert_eq "task id with NUL: the file" "ecs_abc%00def.prom" "$(ls "$T/id-nul")"
unsafe dots '.TaskARN = "arn:aws:ecs:us-east-1:1:task/c/.."'
assert_eq "task id '..': the file" "ecs_...prom" "$(ls -A "$T/id-dots")"
unsafe ctl '.TaskARN = "arn:aws:ecs:us-east-1:1:task/c/a\n%b\u001b"'
assert_eq "task id with control bytes and '%': the file" "ecs_a%0A%25b%1B.prom" "$(ls -A "$T/id-ctl")"
long=$(printf 'x%.0s' $(seq 300))
unsafe long ".TaskARN = \"arn:aws:ecs:us-east-1:1:task/c/$long\""
assert_eq "task id of 300 bytes: exit code (the only sink failed)" 4 "$RC"
grep -q 'level=error msg="delivery failed" sink=textfile err="task id \\"xxxx.*is too long for a file name' "$T/long.log" ||
  { cat "$T/long.log"; fail "long task id: no clear error"; }
assert_eq "task id of 300 bytes: nothing written" 0 "$(ls -A "$T/id-long" | wc -l)"
echo "all hostile textfile checks passed"
