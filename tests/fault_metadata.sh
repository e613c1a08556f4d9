#!/bin/bash
# Fault injection on the metadata endpoint (issue 7). The pusher runs in loop
# mode at a short interval with a textfile sink; the fake endpoint refuses,
# fails, stalls, truncates, sends garbage, sends too much, closes mid-body,
# and changes its containers between cycles. For every fault:
#  - the process keeps running (and ignores a SIGHUP sent during the fault);
#  - each failed cycle logs one "metadata unavailable" line with the cause;
#  - the textfile stays a whole file, with ee_ecs_metrics_exporter_success 0
#    and ee_ecs_metrics_exporter_metadata_errors_total counting the failures;
#  - no temp file is left; the next good cycle brings success back to 1.
# Then, for every fault: SIGTERM during it ends the process with 0 within the
# shutdown timeout, and --once exits 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

TASK=ecs_exporter/fargate-awsvpc-cgroupv1.task.json
STATS=ecs_exporter/fargate-awsvpc-cgroupv1.stats.json
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_fake_metadata "$TASK" "$STATS"
META_PID=$PEER_PID META_PORT=$PEER_PORT
# Undoes a fault: restarts a stopped endpoint on its port, or back to normal answers.
heal_metadata() { # CONTROL
  if [ "$1" = refuse ]; then
    start_fake_metadata "$TASK" "$STATS" --port "$META_PORT"; META_PID=$PEER_PID
  else
    meta_control "$META_PORT" '{"mode":"ok"}'
  fi
}

D=$T/textfile; mkdir -p "$D"
F=$D/ecs_$TASK_ID.prom
LOG=$T/pusher.log
COMMON=(--delete-on-exit=false --metadata.url="$META_URL" --metadata.timeout=250ms --metadata.connect-timeout=250ms
        --metadata.max-body-bytes=1000000 --textfile.directory="$D" --interval=300ms --interval.jitter=0s
        --shutdown-timeout=3s)
SUCCESS=ee_ecs_metrics_exporter_success
ERRORS=ee_ecs_metrics_exporter_metadata_errors_total

start_pusher "$LOG" "${COMMON[@]}"
P=$PUSHER_PID
wait_for 10 series_is "$F" $SUCCESS 1 || { cat "$LOG"; fail "first good cycle"; }
ok "first good cycle wrote $F with success 1"

# fault NAME CONTROL_JSON CAUSE_ERE
fault() {
  local name=$1 control=$2 cause=$3
  local before; before=$(series_value "$F" $ERRORS)
  local lines_before; lines_before=$(count_lines "$LOG" "msg=\"metadata unavailable\".*$cause")
  if [ "$control" = refuse ]; then stop_peer "$META_PID"; else meta_control "$META_PORT" "$control"; fi
  wait_for 10 series_at_least "$F" $ERRORS $((before + 2)) || { tail -5 "$LOG"; fail "$name: no failed cycles counted"; }
  assert_eq "$name: success" 0 "$(series_value "$F" $SUCCESS)"
  # On a loaded machine a cycle may time out before the fault shows its own
  # cause: wait for two lines that name it rather than count the first two.
  cause_lines_from() { [ $(( $(count_lines "$LOG" "msg=\"metadata unavailable\".*$cause") - $1 )) -ge 2 ]; }
  wait_for 30 cause_lines_from "$lines_before" || { tail -5 "$LOG"; fail "$name: no error line naming '$cause'"; }
  local lines; lines=$(count_lines "$LOG" "msg=\"metadata unavailable\".*$cause")
  ok "$name: logged 'metadata unavailable' with cause /$cause/ ($((lines - lines_before)) cycles)"
  assert_whole_file "$F" "$name"
  assert_no_tmp "$D" "$name"
  kill -HUP "$P"
  sleep 0.1
  assert_alive "$P" "$name (after SIGHUP)"
  heal_metadata "$control"
  wait_for 10 series_is "$F" $SUCCESS 1 || fail "$name: did not recover"
  ok "$name: next good cycle recovered (success 1)"
  [ -n "$(series_value "$F" 'ee_container_cpu_usage_seconds_total{container_name="prometheus"')" ] ||
    fail "$name: container series missing after recovery"
}

fault refused   refuse                                'Connection refused|Couldn.t connect'
fault http500   '{"mode":"status:500"}'               'HTTP status 500'
fault slow      '{"mode":"slow","delay":1.0}'         '[Tt]imed? ?out'
fault truncated '{"mode":"truncate"}'                 'JSON'
fault garbage   '{"mode":"garbage"}'                  'JSON'
fault oversize  '{"mode":"oversize"}'                 'larger than 1000000 bytes'
fault close     '{"mode":"close"}'                    'transfer closed|Connection|end of file|partial'

# Containers change between cycles: one stops (stats null), one is removed from
# both bodies. Its own series go; the task's CPU counter never goes backwards.
PROM=bae32def0ab64f06818e8862e58f8d6d-1819985369
cpu_task() { series_value "$F" 'ee_container_cpu_usage_seconds_total{container_name="_task_"'; }
cpu_prom() { series_value "$F" 'ee_container_cpu_usage_seconds_total{container_name="prometheus"'; }
meta_control "$META_PORT" '{"tick":5}'
sleep 0.7  # two cycles at tick 5
[ -n "$(cpu_prom)" ] && [ -n "$(cpu_task)" ] || fail "no CPU series at tick 5"
task_before=$(cpu_task)
meta_control "$META_PORT" "{\"stop\":[\"$PROM\"]}"
wait_for 10 sh -c "! grep -q 'ee_container_cpu_usage_seconds_total{container_name=\"prometheus\"' '$F'" ||
  fail "stopped container still has a CPU series"
ok "stopped container: its CPU series is gone"
assert_eq "stopped container: task CPU kept (no false reset)" "$task_before" "$(cpu_task)"
meta_control "$META_PORT" "{\"stop\":[],\"remove\":[\"$PROM\"]}"
sleep 0.7
wait_for 10 sh -c "! grep -q 'container_name=\"prometheus\"' '$F'" || fail "removed container still reported"
ok "removed container: no series left"
assert_eq "removed container: task CPU kept" "$task_before" "$(cpu_task)"
assert_eq "container changes: success" 1 "$(series_value "$F" $SUCCESS)"
meta_control "$META_PORT" '{"remove":[]}'
wait_for 10 sh -c "grep -q 'ee_container_cpu_usage_seconds_total{container_name=\"prometheus\"' '$F'" ||
  fail "container did not come back"
ok "container back: reported again"
assert_whole_file "$F" "container changes"

# Stop: the final cycle lands, and the counters agree with the log exactly.
kill -TERM "$P"
wait_exit "$P" 5 "SIGTERM"
assert_eq "SIGTERM: exit code" 0 "$EXIT_CODE"
logged=$(count_lines "$LOG" 'msg="metadata unavailable"')
assert_eq "metadata_errors_total equals the error lines logged" "$logged" "$(series_value "$F" $ERRORS)"
assert_eq "no other error lines" "$logged" "$(count_lines "$LOG" 'level=error')"
assert_whole_file "$F" "after SIGTERM"
assert_no_tmp "$D" "after SIGTERM"

# SIGTERM during each fault: exit 0 within the shutdown timeout (3 s), the
# final cycle reports success 0, nothing torn.
for control in refuse '{"mode":"status:500"}' '{"mode":"slow","delay":5}' '{"mode":"hang","delay":5}' \
               '{"mode":"truncate"}' '{"mode":"garbage"}' '{"mode":"oversize"}' '{"mode":"close"}'; do
  name="SIGTERM during ${control}"
  rm -f "$F"
  start_pusher "$T/sig.log" "${COMMON[@]}"
  wait_for 10 series_is "$F" $SUCCESS 1 || { cat "$T/sig.log"; fail "$name: first cycle"; }
  if [ "$control" = refuse ]; then stop_peer "$META_PID"; else meta_control "$META_PORT" "$control"; fi
  wait_for 10 series_is "$F" $SUCCESS 0 || fail "$name: fault not seen"
  assert_clean_stop "$PUSHER_PID" "$F" "$D" "$name"
  heal_metadata "$control"
done

# --once: exit 3 on every metadata fault; the file still says success 0.
for control in refuse '{"mode":"status:500"}' '{"mode":"slow","delay":1}' '{"mode":"truncate"}' \
               '{"mode":"garbage"}' '{"mode":"oversize"}' '{"mode":"close"}'; do
  name="--once with ${control}"
  if [ "$control" = refuse ]; then stop_peer "$META_PID"; else meta_control "$META_PORT" "$control"; fi
  "$EMP_BIN" --once --startup.retry-timeout=0s "${COMMON[@]}" --textfile.name=once.prom >"$T/once.log" 2>&1
  assert_eq "$name: exit code" 3 "$?"
  assert_eq "$name: success in file" 0 "$(series_value "$D/once.prom" $SUCCESS)"
  assert_whole_file "$D/once.prom" "$name"
  heal_metadata "$control"
done
"$EMP_BIN" --once "${COMMON[@]}" --textfile.name=once.prom >"$T/once.log" 2>&1
assert_eq "--once after recovery: exit code" 0 "$?"
assert_eq "--once after recovery: success" 1 "$(series_value "$D/once.prom" $SUCCESS)"
assert_no_tmp "$D" "--once runs"
