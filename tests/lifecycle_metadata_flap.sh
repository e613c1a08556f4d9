#!/bin/bash
# The metadata endpoint fails and comes back while the loop runs: success
# flips 1 → 0 → 1 on the Pushgateway and in the textfile under the same task
# identity, the error counter persists, one log line per failed cycle and none
# per good one. Also: the endpoint down at start, up 0.6 s later.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
ID_LABELS="task_family=\"prom-ecs-exporter-sandbox-main-fargate\",task_revision=\"9\",task_id=\"$TASK_ID\""
start_pushgateway; PGW=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
pgw_num() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" |
  jq -r --arg m "$1" ".data[] | .[\$m]? // empty | .metrics[] | select(.labels | $2) | .value | tonumber" | head -1; }
both_success() { # VALUE: the Pushgateway group and the textfile both show it
  [ "$(pgw_num ee_ecs_metrics_exporter_success ".task_id==\"$TASK_ID\"")" = "$1" ] &&
  [ "$(text_value "ee_ecs_metrics_exporter_success{$ID_LABELS}" <"$T/tf/ecs_$TASK_ID.prom")" = "$1" ]
}
file_errors() { text_value "ee_ecs_metrics_exporter_metadata_errors_total{$ID_LABELS}" <"$T/tf/ecs_$TASK_ID.prom"; }

mkdir -p "$T/tf"
start_pusher "$T/loop.log" --metadata.url="$META_URL" --metadata.timeout=150ms --interval=200ms --interval.jitter=0 \
  --pushgateway.url="http://127.0.0.1:$PGW" --textfile.directory="$T/tf"
wait_for 10 both_success 1 || { cat "$T/loop.log"; fail "no success 1"; }
ok "success 1"
meta_control $META '{"mode": "status:503"}'
wait_for 10 both_success 0 || { cat "$T/loop.log"; fail "no success 0 while the endpoint fails"; }
ok "success 0 while the endpoint answers 503, under task_id $TASK_ID"
sleep 0.5
meta_control $META '{"mode": "ok"}'
wait_for 10 both_success 1 || { cat "$T/loop.log"; fail "success did not come back"; }
ok "success 1 again"
errors=$(file_errors)
failed_lines=$(grep -c 'level=error msg="metadata unavailable" err=".*503' "$T/loop.log")
[ "$errors" -ge 2 ] || fail "metadata_errors_total $errors after a 0.5 s outage at 200 ms"
assert_eq "one error line per failed cycle" "$errors" "$failed_lines"
assert_eq "pushgateway error counter" "$errors" "$(pgw_num ee_ecs_metrics_exporter_metadata_errors_total ".task_id==\"$TASK_ID\"")"
sleep 0.5
assert_eq "the counter persists after recovery" "$errors" "$(file_errors)"
assert_eq "other error/warn lines" 0 "$(grep 'level=error\|level=warn' "$T/loop.log" | grep -vc 'msg="metadata unavailable"')"
assert_eq "info lines besides start-up (none per good cycle)" 0 "$(grep 'level=info' "$T/loop.log" | grep -vc 'msg="starting"')"
stop_peer $PUSHER_PID 5

# Down at start, up 0.6 s later: the start-up retry finds it without a restart.
meta_control $META '{"mode": "status:500"}'
rm -f "$T/tf"/*
start_pusher "$T/start.log" --metadata.url="$META_URL" --metadata.timeout=150ms --interval=200ms --interval.jitter=0 \
  --textfile.directory="$T/tf" --startup.retry-timeout=5s
sleep 0.6
meta_control $META '{"mode": "ok"}'
wait_for 10 test -s "$T/tf/ecs_$TASK_ID.prom" || { cat "$T/start.log"; fail "no file after the endpoint came up"; }
assert_eq "first file reports success" 1 "$(text_value "ee_ecs_metrics_exporter_success{$ID_LABELS}" <"$T/tf/ecs_$TASK_ID.prom")"
assert_eq "start-up tries are not cycle errors" 0 "$(file_errors)"
assert_eq "one warning while waiting" 1 "$(grep -c 'level=warn msg="metadata not available yet; retrying"' "$T/start.log")"
grep -q 'level=info msg="metadata available" attempts=[0-9]* after=0\.[5-9]' "$T/start.log" || { cat "$T/start.log"; fail "no 'metadata available' line"; }
ok "metadata found after $(sed -n 's/.*msg="metadata available" attempts=\([0-9]*\).*/\1/p' "$T/start.log") tries"
echo "all metadata flap checks passed"
