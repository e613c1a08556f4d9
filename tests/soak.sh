#!/bin/bash
# Soak (issue 7): the pusher loops at a very short interval against the fake
# metadata endpoint, a real Pushgateway and a textfile, with a fault injected
# every N cycles (metadata 500 / garbage / truncated / closed mid-body / slower
# than the timeout, Pushgateway stopped, textfile directory gone). RSS, open
# file descriptors and threads are sampled every 0.5 s; first (after warm-up),
# last and max are reported. Descriptors and threads must not drift; at the end
# SIGTERM must exit 0 and the error counters must equal the error lines logged.
#
#   bash tests/soak.sh                      CI: 3000 cycles at 10 ms, a fault every 250 cycles
#   SOAK_CYCLES=50000 bash tests/soak.sh    the long run (≈ 10 min), a fault every 250 cycles
#   bash tests/soak.sh --valgrind [CYCLES]  under valgrind (default 300 cycles at 20 ms):
#                                           must report 0 bytes definitely lost
# Environment: SOAK_CYCLES, SOAK_INTERVAL (10ms), SOAK_FAULT_EVERY (250),
# SOAK_REPORT (file that receives the figures as key=value lines).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

VALGRIND=0
CYCLES=${SOAK_CYCLES:-3000}
INTERVAL=${SOAK_INTERVAL:-10ms}
FAULT_EVERY=${SOAK_FAULT_EVERY:-250}
if [ "${1:-}" = --valgrind ]; then
  VALGRIND=1; CYCLES=${2:-300}; INTERVAL=${SOAK_INTERVAL:-20ms}; FAULT_EVERY=${SOAK_FAULT_EVERY:-60}
  command -v valgrind >/dev/null || skip "valgrind not installed"
  # An ASan binary cannot run under valgrind; that build's LeakSanitizer checks leaks at exit instead.
  if ldd "$EMP_BIN" | grep -q libasan; then skip "sanitizer build: LeakSanitizer covers leaks here"; fi
fi

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_fake_metadata $FIX.task.json $FIX.stats.json --advance; META=$PEER_PORT
start_pushgateway; PGW=$PEER_PORT PGW_PID=$PEER_PID
D=$T/textfile; mkdir -p "$D"; F=$D/ecs_$TASK_ID.prom
LOG=$T/pusher.log
FLAGS=(--delete-on-exit=false --metadata.url="$META_URL" --metadata.timeout=100ms --pushgateway.url="http://127.0.0.1:$PGW"
       --pushgateway.timeout=100ms --textfile.directory="$D" --interval="$INTERVAL" --interval.jitter=0s
       --shutdown-timeout=5s)
if [ $VALGRIND = 1 ]; then
  valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --log-file="$T/valgrind.log" "$EMP_BIN" "${FLAGS[@]}" >"$LOG" 2>&1 &
  PUSHER_PID=$!; _PIDS="$_PIDS $PUSHER_PID"
else
  start_pusher "$LOG" "${FLAGS[@]}"
fi
P=$PUSHER_PID

cycles() { curl -s "http://127.0.0.1:$META/_control" | jq -r .task_requests; }
sample() { # prints "rss_kb fds threads"
  local rss thr fds
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$P/status" 2>/dev/null)
  thr=$(awk '/^Threads:/ {print $2}' "/proc/$P/status" 2>/dev/null)
  fds=$(ls "/proc/$P/fd" 2>/dev/null | wc -l)
  echo "${rss:-0} $fds ${thr:-0}"
}
wait_for 60 test -s "$F" || { cat "$LOG"; fail "no first cycle"; }

faults=(status500 garbage truncate close slow pushgateway_stopped textfile_dir_gone)
fault_on() {
  case $1 in
    status500) meta_control "$META" '{"mode":"status:500"}' ;;
    garbage|truncate|close) meta_control "$META" "{\"mode\":\"$1\"}" ;;
    slow) meta_control "$META" '{"mode":"slow","delay":0.3}' ;;
    pushgateway_stopped) kill -STOP "$PGW_PID" ;;
    # The pusher may create its temp file while rm runs ("Directory not empty"): retry.
    textfile_dir_gone) for _ in 1 2 3 4 5; do rm -rf "$D" 2>/dev/null && break; done ;;
  esac
}
fault_off() {
  case $1 in
    pushgateway_stopped) kill -CONT "$PGW_PID" ;;
    textfile_dir_gone) mkdir -p "$D" ;;
    *) meta_control "$META" '{"mode":"ok"}' ;;
  esac
}

first="" max_rss=0 max_fds=0 max_thr=0 next_fault=$FAULT_EVERY injected=0 start_ms=$(_now_ms)
while :; do
  _alive "$P" || { tail -20 "$LOG"; fail "the pusher died after $(cycles) cycles"; }
  c=$(cycles)
  read -r rss fds thr < <(sample)
  # First sample after warm-up (100 cycles), so start-up allocations are not drift.
  if [ -z "$first" ] && [ "$c" -ge 100 ]; then first="$rss $fds $thr"; fi
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  [ "$fds" -gt "$max_fds" ] && max_fds=$fds
  [ "$thr" -gt "$max_thr" ] && max_thr=$thr
  [ "$c" -ge "$CYCLES" ] && break
  if [ "$c" -ge "$next_fault" ]; then
    f=${faults[$((injected % ${#faults[@]}))]}
    fault_on "$f"
    # The fault lasts a few cycles (time-based: a stopped peer slows cycles down).
    sleep 0.3
    fault_off "$f"
    injected=$((injected + 1))
    next_fault=$((c + FAULT_EVERY))
  fi
  sleep 0.5
done
last=$(sample)
elapsed_ms=$(( $(_now_ms) - start_ms ))
# Drain: let a few clean cycles land, then stop.
sleep 0.5
kill -TERM "$P"
wait_exit "$P" 30 "SIGTERM after the soak"
read -r rss0 fds0 thr0 <<<"$first"
read -r rss1 fds1 thr1 <<<"$last"
report="cycles=$c faults=$injected seconds=$((elapsed_ms / 1000)) rss_kb_first=$rss0 rss_kb_last=$rss1 rss_kb_max=$max_rss fds_first=$fds0 fds_last=$fds1 fds_max=$max_fds threads_first=$thr0 threads_last=$thr1 threads_max=$max_thr"
echo "# soak: $report"
[ -n "${SOAK_REPORT:-}" ] && echo "$report" | tr ' ' '\n' >"$SOAK_REPORT"

assert_eq "SIGTERM: exit code" 0 "$EXIT_CODE"
[ "$injected" -ge 1 ] || fail "no fault was injected"
ok "$c cycles, $injected faults injected, the process stayed up"
# A fault may leave one extra connection for a moment; no growth beyond that.
[ "$fds1" -le $((fds0 + 1)) ] || fail "file descriptors grew: $fds0 -> $fds1"
ok "file descriptors flat: first $fds0, last $fds1, max $max_fds"
assert_eq "threads flat (last = first)" "$thr0" "$thr1"
ok "RSS first ${rss0} kB, last ${rss1} kB, max ${max_rss} kB (reported, not asserted)"
meta_lines=$(count_lines "$LOG" 'msg="metadata unavailable"')
assert_eq "metadata_errors_total equals the lines logged" "$meta_lines" \
  "$(series_value "$F" ee_ecs_metrics_exporter_metadata_errors_total)"
pgw_lines=$(count_lines "$LOG" 'msg="delivery failed" sink=pushgateway')
assert_eq "push_errors_total{sink=pushgateway} equals the lines logged" "$pgw_lines" \
  "$(series_value "$F" 'ee_ecs_metrics_exporter_push_errors_total{sink="pushgateway"')"
assert_whole_file "$F" "after the soak"
assert_no_tmp "$D" "after the soak"

if [ $VALGRIND = 1 ]; then
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$T/valgrind.log" | tr -d , | tail -1)
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$T/valgrind.log" | tail -1)
  grep -E 'in use at exit|All heap blocks|definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY' "$T/valgrind.log" | sed 's/^==[0-9]*== /# valgrind: /'
  # "All heap blocks were freed" prints no "definitely lost" line at all.
  if grep -q 'All heap blocks were freed' "$T/valgrind.log"; then lost=0; fi
  assert_eq "valgrind: bytes definitely lost" 0 "${lost:-missing}"
  assert_eq "valgrind: errors" 0 "${errors:-missing}"
fi
