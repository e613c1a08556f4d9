#!/bin/bash
# Pushgateway sink against a real Pushgateway: a real Fargate capture lands as
# one group with the values worked out by hand from the JSON; gzip on and off;
# PUT replaces the group (a removed container's series vanish); a failed
# metadata read keeps the last container series and reports success 0; one
# kept-alive connection across cycles; --delete-on-exit deletes the group.
. "$(dirname "$0")/lib.sh"
# These cases check the loop's grouping key through --once runs; --once alone
# groups by task family (tests/stale_data.sh covers that).
export ECS_METRICS_PUSHER_PUSHGATEWAY_GROUPING_LABELS=task_family,task_revision,task_id

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
PROM_ID=$TASK_ID-1819985369       # "prometheus", index 1 in the stats map
EXPORTER_ID=$TASK_ID-4159844948   # "ecs-exporter", index 2

start_pushgateway; PGW=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT

# pgw_num METRIC 'jq filter on .labels' -> value as a plain number
pgw_num() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" |
  jq -r --arg m "$1" ".data[] | .[\$m]? // empty | .metrics[] | select(.labels | $2) | .value | tonumber" | head -1; }
group_count() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq '.data | length'; }
# For wait_for: conditions evaluated on every try.
pushes_at_least() { [ "$(grep -c 'msg="pushed"' "$T/loop.log")" -ge "$1" ]; }
series_gone() { [ -z "$(pgw_num "$1" "$2")" ]; }
value_is() { [ "$(pgw_num "$1" "$2")" = "$3" ]; }

# 1. One push of the capture, gzip on (the default).
"$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" --log.level=debug \
  >"$T/once1.log" 2>&1 || { cat "$T/once1.log"; fail "--once push exited $?"; }
assert_eq "group labels" \
  "{\"job\":\"ecs\",\"task_family\":\"prom-ecs-exporter-sandbox-main-fargate\",\"task_id\":\"$TASK_ID\",\"task_revision\":\"9\"}" \
  "$(curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq -c '.data[0].labels')"
assert_eq "last_push_successful" true "$(curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq '.data[0].last_push_successful')"
# total_usage 932439492 ns / 1e9
assert_eq "prometheus cpu seconds" 0.932439492 "$(pgw_num ee_container_cpu_usage_seconds_total '.container_name=="prometheus"')"
# memory_stats.usage of ecs-exporter
assert_eq "ecs-exporter memory" 84111360 "$(pgw_num ee_container_memory_usage_byte '.container_name=="ecs-exporter"')"
# 127934464 + 84111360; the stopped "nonessential" container has null stats
assert_eq "task memory" 212045824 "$(pgw_num ee_container_memory_usage_byte '.container_name=="_task_"')"
# awsvpc: both containers see the task's eth1; the task row takes it once (the larger), not the sum 258091667
assert_eq "task network rx" 129046293 "$(pgw_num ee_container_network_io_rx_bytes '.container_name=="_task_"')"
# 932439492 + 322633383 ns
assert_eq "task cpu seconds" 1.255072875 "$(pgw_num ee_container_cpu_usage_seconds_total '.container_name=="_task_"')"
# Limits.Memory 512 MiB, Limits.CPU 0.25
assert_eq "task memory limit" 536870912 "$(pgw_num ee_task_memory_limit_byte 'true')"
assert_eq "task cpu limit" 0.25 "$(pgw_num ee_task_cpu_limit 'true')"
# Exporter series carry no labels of their own: the grouping key adds the identity.
assert_eq "success carries the grouping key" 1 \
  "$(pgw_num ee_ecs_metrics_exporter_success ".task_id==\"$TASK_ID\" and .task_revision==\"9\" and .job==\"ecs\"")"
assert_eq "container series carry task_id from the key" "$PROM_ID" \
  "$(curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq -r ".data[0].ee_container_memory_usage_byte.metrics[] | select(.labels.task_id==\"$TASK_ID\" and .labels.container_name==\"prometheus\") | .labels.container_id")"
line=$(grep 'msg="pushed"' "$T/once1.log") || fail "no debug 'pushed' line"
body=$(sed -n 's/.* body_bytes=\([0-9]*\).*/\1/p' <<<"$line"); sent=$(sed -n 's/.* sent_bytes=\([0-9]*\).*/\1/p' <<<"$line")
[ "$sent" -lt $((body / 3)) ] || fail "gzip: sent $sent bytes for a $body byte body"
ok "gzip: $body byte body sent as $sent bytes ($(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line") s)"
grep -q 'method=PUT' <<<"$line" || fail "not a PUT: $line"; ok "PUT by default"

# 2. gzip off, counters advanced one tick: prometheus cpu += 1 tick * 2e9 ns.
meta_control $META '{"tick": 1}'
"$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW/" --pushgateway.gzip=false \
  --log.level=debug >"$T/once2.log" 2>&1 || { cat "$T/once2.log"; fail "--once push without gzip failed"; }
assert_eq "prometheus cpu seconds, tick 1, gzip off" 2.932439492 \
  "$(pgw_num ee_container_cpu_usage_seconds_total '.container_name=="prometheus"')"
line=$(grep 'msg="pushed"' "$T/once2.log")
body=$(sed -n 's/.* body_bytes=\([0-9]*\).*/\1/p' <<<"$line"); sent=$(sed -n 's/.* sent_bytes=\([0-9]*\).*/\1/p' <<<"$line")
assert_eq "gzip off: bytes sent = body" "$body" "$sent"
assert_eq "still one group (trailing / in the URL)" 1 "$(group_count)"

# 3. Loop mode: keep-alive, replace semantics, metadata failure, delete on exit.
meta_control $META '{"tick": 0}'
start_pusher "$T/loop.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --interval=500ms --interval.jitter=0s --log.level=debug --delete-on-exit
wait_for 10 pushes_at_least 3 || { cat "$T/loop.log"; fail "loop did not push 3 times"; }
assert_eq "later pushes reuse the connection (new_connections of push 2 and 3)" "0 0" \
  "$(grep 'msg="pushed"' "$T/loop.log" | sed -n '2,3s/.* new_connections=\([0-9]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"

meta_control $META "{\"remove\": [\"$EXPORTER_ID\"]}"
wait_for 10 series_gone ee_container_memory_usage_byte '.container_name=="ecs-exporter"' ||
  fail "the removed container's series stayed"
ok "PUT: series of a container that went away are gone"
assert_eq "the other container stays" 127934464 "$(pgw_num ee_container_memory_usage_byte '.container_name=="prometheus"')"

meta_control $META '{"mode": "status:500"}'
wait_for 10 value_is ee_ecs_metrics_exporter_success 'true' 0 || fail "success did not turn 0"
ok "metadata failure: success 0 pushed"
assert_eq "metadata failure: last container series kept (POST)" 127934464 \
  "$(pgw_num ee_container_memory_usage_byte '.container_name=="prometheus"')"
grep -q 'msg="pushed" method=POST' "$T/loop.log" || fail "no POST during the metadata failure"
meta_control $META '{"mode": "ok"}'
wait_for 10 value_is ee_ecs_metrics_exporter_success 'true' 1 || fail "success did not return to 1"
ok "metadata back: success 1"

kill -TERM $PUSHER_PID
wait $PUSHER_PID; rc=$?
assert_eq "pusher exit code after SIGTERM" 0 $rc
assert_eq "--delete-on-exit: group deleted" 0 "$(group_count)"
! grep -q 'level=error' "$T/once1.log" "$T/once2.log" || fail "errors logged"
ok "no error lines in the --once logs"
