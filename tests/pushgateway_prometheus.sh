#!/bin/bash
# End to end: pusher → real Pushgateway → real Prometheus scraping it with
# honor_labels: true. The series keep the grouping labels, and the raw samples
# of ee_container_cpu_usage_seconds_total rise as the replayed capture's
# counters advance (the fake endpoint adds one tick per /task/stats read:
# +2 s of CPU per tick for "prometheus", the stats map's entry 1).
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_pushgateway; PGW=$PEER_PORT
start_prometheus 127.0.0.1:$PGW; PROM=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json --advance
start_pusher "$T/pusher.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --interval=1s --interval.jitter=0s

SEL="ee_container_cpu_usage_seconds_total{container_name=\"prometheus\",task_id=\"$TASK_ID\"}"
raw() { curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$SEL[1m]"; }
distinct_samples() { raw | jq '[.data.result[0].values[]?[1]] | unique | length'; }
three_values() { [ "$(distinct_samples)" -ge 3 ]; }
wait_for 30 three_values || { raw; cat "$T/pusher.log"; fail "Prometheus did not get 3 distinct samples"; }

result=$(raw)
assert_eq "one series" 1 "$(jq '.data.result | length' <<<"$result")"
assert_eq "labels (honor_labels keeps job and the grouping key; the empty instance is dropped)" \
  "{\"__name__\":\"ee_container_cpu_usage_seconds_total\",\"container_id\":\"$TASK_ID-1819985369\",\"container_name\":\"prometheus\",\"job\":\"ecs\",\"task_family\":\"prom-ecs-exporter-sandbox-main-fargate\",\"task_id\":\"$TASK_ID\",\"task_revision\":\"9\"}" \
  "$(jq -c '.data.result[0].metric' <<<"$result")"
values=$(jq -r '.data.result[0].values[][1]' <<<"$result")
# Every sample is the capture's 0.932439492 s plus a whole number of ticks of 2 s, never decreasing.
awk 'BEGIN { prev = -1 }
     { ticks = ($1 - 0.932439492) / 2
       if (ticks < -1e-6 || (ticks - int(ticks + 0.5) > 1e-6) || (int(ticks + 0.5) - ticks > 1e-6)) { print "not base + k*2: " $1; exit 1 }
       if ($1 + 0 < prev) { print "decreased: " prev " -> " $1; exit 1 }
       prev = $1 + 0 }' <<<"$values" || fail "raw samples: $(tr '\n' ' ' <<<"$values")"
ok "raw samples rise by 2 s of CPU per tick: $(tr '\n' ' ' <<<"$values" | cut -c1-120)"
first=$(head -1 <<<"$values"); last=$(tail -1 <<<"$values")
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b > a) }' || fail "no increase ($first → $last)"
ok "increase over the window: $first → $last"
success=$(curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=ee_ecs_metrics_exporter_success{task_id=\"$TASK_ID\",job=\"ecs\"}" | jq -r '.data.result[0].value[1]')
assert_eq "exporter success as seen by Prometheus" 1 "$success"
