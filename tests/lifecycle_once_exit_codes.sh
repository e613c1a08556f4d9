#!/bin/bash
# --once against a real Pushgateway and the fake metadata endpoint: each exit
# code (0 ok, 3 metadata down, 4 every sink failed, 5 some sinks failed), one
# metadata read per run, one log line per failure, none on success.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_pushgateway; PGW=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
pgw_num() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" |
  jq -r --arg m "$1" ".data[] | .[\$m]? // empty | .metrics[] | select(.labels | $2) | .value | tonumber" | head -1; }
control() { curl -s "http://127.0.0.1:$META/_control" | jq ".$1"; }
once() { # LOG flags... -> RC
  local log=$1; shift
  "$EMP_BIN" --once --metadata.url="$META_URL" "$@" >"$T/out" 2>"$log"; RC=$?
}
ID_LABELS="task_family=\"prom-ecs-exporter-sandbox-main-fargate\",task_revision=\"9\",task_id=\"$TASK_ID\""

# 0: both sinks deliver.
mkdir -p "$T/tf"
once "$T/ok.log" --pushgateway.url="http://127.0.0.1:$PGW" --textfile.directory="$T/tf"
assert_eq "exit code, all delivered" 0 "$RC"
assert_eq "one /task/stats read per --once run" 1 "$(control stats_requests)"
assert_eq "textfile success" 1 "$(text_value "ee_ecs_metrics_exporter_success{$ID_LABELS}" <"$T/tf/ecs_$TASK_ID.prom")"
assert_eq "pushgateway success" 1 "$(pgw_num ee_ecs_metrics_exporter_success ".task_id==\"$TASK_ID\"")"
d=$(text_value "ee_ecs_metrics_exporter_cycle_duration_seconds{$ID_LABELS}" <"$T/tf/ecs_$TASK_ID.prom")
python3 -c "import sys; v=float('$d'); sys.exit(0 if 0 < v < 5 else 1)" || fail "cycle_duration '$d' in a --once run"
ok "cycle_duration_seconds in a --once run is $d (not 0)"
assert_eq "log lines on success (only the start-up line)" 1 "$(wc -l <"$T/ok.log")"
grep -q 'msg="starting".* mode=once' "$T/ok.log" || fail "start-up line: $(cat "$T/ok.log")"

# 3: metadata down for longer than the start-up retry.
meta_control $META '{"mode": "status:500"}'
t0=$(_now_ms)
once "$T/meta.log" --textfile.directory="$T/tf" --textfile.name=fixed.prom --startup.retry-timeout=300ms
ms=$(( $(_now_ms) - t0 ))
assert_eq "exit code, metadata down" 3 "$RC"
[ "$ms" -ge 300 ] && [ "$ms" -lt 3000 ] || fail "retry window: ${ms}ms"
ok "retried the metadata for ${ms} ms (--startup.retry-timeout=300ms)"
grep -q 'level=warn msg="metadata not available yet; retrying" for=300ms err=".*status 500' "$T/meta.log" ||
  grep -q 'level=warn msg="metadata not available yet; retrying" for=300ms err=".*500' "$T/meta.log" ||
  { cat "$T/meta.log"; fail "no retry line naming the 500"; }
assert_eq "retry announced once" 1 "$(grep -c 'retrying' "$T/meta.log")"
# success 0 still delivered (the file name is fixed, so no identity is needed)
assert_eq "success 0 written" 0 "$(text_value 'ee_ecs_metrics_exporter_success' <"$T/tf/fixed.prom")"
assert_eq "metadata_errors_total" 1 "$(text_value 'ee_ecs_metrics_exporter_metadata_errors_total' <"$T/tf/fixed.prom")"
meta_control $META '{"mode": "ok"}'

# 4: the only sink fails (its directory does not exist).
once "$T/all.log" --textfile.directory="$T/missing"
assert_eq "exit code, the only sink failed" 4 "$RC"
assert_eq "error lines" 1 "$(grep -c 'level=error' "$T/all.log")"
grep -q 'level=error msg="delivery failed" sink=textfile err=".*missing.*No such file or directory"' "$T/all.log" ||
  { cat "$T/all.log"; fail "no delivery line naming the cause"; }
ok "one line names the textfile failure"

# 5: textfile fails, Pushgateway works.
curl -s -X DELETE "http://127.0.0.1:$PGW/metrics/job/ecs/task_family/prom-ecs-exporter-sandbox-main-fargate/task_revision/9/task_id/$TASK_ID" >/dev/null
once "$T/some.log" --textfile.directory="$T/missing" --pushgateway.url="http://127.0.0.1:$PGW"
assert_eq "exit code, some sinks failed" 5 "$RC"
assert_eq "pushgateway still got success 1" 1 "$(pgw_num ee_ecs_metrics_exporter_success ".task_id==\"$TASK_ID\"")"
assert_eq "error lines" 1 "$(grep -c 'level=error' "$T/some.log")"

# 4 again: the Pushgateway is down and it is the only sink.
# (the push retry budget of --once is 4/5 of --interval; keep it short)
once "$T/pgwdown.log" --pushgateway.url="http://127.0.0.1:1" --pushgateway.timeout=300ms --interval=500ms
assert_eq "exit code, Pushgateway unreachable" 4 "$RC"
grep -q 'level=error msg="delivery failed" sink=pushgateway' "$T/pgwdown.log" || { cat "$T/pgwdown.log"; fail "no push failure line"; }
assert_eq "error lines" 1 "$(grep -c 'level=error' "$T/pgwdown.log")"
echo "all --once exit code checks passed"
