#!/bin/bash
# Remote-write sink against real receivers: Prometheus
# (--web.enable-remote-write-receiver) and VictoriaMetrics (/api/v1/write),
# each an independent decoder of our protobuf + snappy. A real Fargate capture
# lands with the values worked out by hand from the JSON, our labels and our
# timestamps; staleness markers end the series at shutdown; a receiver down
# for several cycles loses no sample once back; a 4xx is not retried and is
# counted.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
PROM_FLAGS=--web.enable-remote-write-receiver start_prometheus ""; PROM=$PEER_PORT
start_victoria_metrics; VM=$PEER_PORT; VM_PID=$PEER_PID; VM_DIR=$PEER_DIR
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT

# prom QUERY -> the first result's value ("" when none)
prom() { curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
# vm_export SELECTOR -> one JSON line per series: {"metric":…,"values":[…],"timestamps":[…]}
vm_export() { curl -s "http://127.0.0.1:$VM/api/v1/export" --data-urlencode "match[]=$1"; }
vm_flush() { curl -s "http://127.0.0.1:$VM/internal/force_flush" >/dev/null; }
stats_requests() { curl -sf "http://127.0.0.1:$META/_control" | jq -r .stats_requests; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# 1. One cycle of the capture into Prometheus, values by hand.
t0=$(now_ms)
"$EMP_BIN" --once --metadata.url="$META_URL" --remote-write.url="http://127.0.0.1:$PROM/api/v1/write" \
  --remote-write.label=env=test --log.level=debug 2>"$T/once.log" || { cat "$T/once.log"; fail "--once to Prometheus failed"; }
t1=$(now_ms)
grep -q 'msg="remote write sent" status=204' "$T/once.log" || fail "no 204 from Prometheus"
has_value() { [ -n "$(prom "$1")" ]; }
wait_for 10 has_value 'ee_task_cpu_limit' || fail "nothing arrived in Prometheus"
# Limits.CPU 0.25, Limits.Memory 512 MiB
assert_eq "Prometheus: task cpu limit" 0.25 "$(prom 'ee_task_cpu_limit{job="ecs",env="test",task_id="'$TASK_ID'",task_revision="9"}')"
assert_eq "Prometheus: task memory limit" 536870912 "$(prom 'ee_task_memory_limit_byte')"
# total_usage 932439492 ns / 1e9
assert_eq "Prometheus: prometheus cpu seconds" 0.932439492 \
  "$(prom 'ee_container_cpu_usage_seconds_total{container_name="prometheus",task_id="'$TASK_ID'"}')"
# 127934464 + 84111360 (the stopped container has null stats)
assert_eq "Prometheus: task memory" 212045824 "$(prom 'ee_container_memory_usage_byte{container_name="_task_"}')"
# awsvpc: the task's eth1 once, not summed over containers
assert_eq "Prometheus: task network rx" 129046293 "$(prom 'ee_container_network_io_rx_bytes{container_name="_task_"}')"
# Exporter series carry the task identity themselves (no grouping key here).
assert_eq "Prometheus: success with the task identity" 1 \
  "$(prom 'ee_ecs_metrics_exporter_success{job="ecs",task_family="prom-ecs-exporter-sandbox-main-fargate",task_revision="9",task_id="'$TASK_ID'"}')"
# The sample carries the cycle's wall-clock time, in milliseconds.
ts=$(prom 'timestamp(ee_task_cpu_limit)' | awk '{printf "%.0f", $1 * 1000}')
[ "$ts" -ge "$t0" ] && [ "$ts" -le "$t1" ] || fail "sample timestamp $ts not within the run [$t0, $t1]"
ok "Prometheus: sample timestamp $ts ms is the cycle's time"

# 2. The same into VictoriaMetrics, with its own decoder.
"$EMP_BIN" --once --metadata.url="$META_URL" --remote-write.url="http://127.0.0.1:$VM/api/v1/write" \
  --remote-write.job=ecs-vm 2>"$T/once-vm.log" || { cat "$T/once-vm.log"; fail "--once to VictoriaMetrics failed"; }
vm_has() { vm_flush; [ -n "$(vm_export "$1")" ]; }
wait_for 20 vm_has 'ee_task_cpu_limit{job="ecs-vm"}' || fail "nothing arrived in VictoriaMetrics"
assert_eq "VictoriaMetrics: task cpu limit" 0.25 "$(vm_export 'ee_task_cpu_limit{job="ecs-vm"}' | jq -r '.values[0]')"
assert_eq "VictoriaMetrics: ecs-exporter memory" 84111360 \
  "$(vm_export 'ee_container_memory_usage_byte{job="ecs-vm",container_name="ecs-exporter"}' | jq -r '.values[0]')"
assert_eq "VictoriaMetrics: labels of a container series" \
  '{"__name__":"ee_container_cpu_usage_seconds_total","container_id":"'$TASK_ID'-1819985369","container_name":"prometheus","job":"ecs-vm","task_family":"prom-ecs-exporter-sandbox-main-fargate","task_id":"'$TASK_ID'","task_revision":"9"}' \
  "$(vm_export 'ee_container_cpu_usage_seconds_total{job="ecs-vm",container_name="prometheus"}' | jq -cS .metric)"

# 3. Loop mode into Prometheus: SIGTERM sends staleness markers, so the
# series end at once (an instant query right after finds nothing).
start_pusher "$T/loop.log" --metadata.url="$META_URL" --remote-write.url="http://127.0.0.1:$PROM/api/v1/write" \
  --remote-write.job=ecs-loop --interval=1s --interval.jitter=0 --log.level=debug
sent_at_least() { [ "$(grep -c 'msg="remote write sent"' "$1")" -ge "$2" ]; }
wait_for 30 sent_at_least "$T/loop.log" 2 || { cat "$T/loop.log"; fail "loop: fewer than 2 writes"; }
wait_for 10 has_value 'ee_task_cpu_limit{job="ecs-loop"}' || fail "loop: series not in Prometheus"
ok "loop: series present while the task runs"
kill -TERM "$PUSHER_PID"; wait "$PUSHER_PID"; rc=$?
assert_eq "loop: exit code after SIGTERM" 0 "$rc"
grep -q 'msg="remote-write: staleness markers sent"' "$T/loop.log" || { cat "$T/loop.log"; fail "no staleness markers sent"; }
assert_eq "loop: series ended by the staleness marker" "" "$(prom 'ee_task_cpu_limit{job="ecs-loop"}')"
assert_eq "loop: container series ended too" "" "$(prom 'ee_container_memory_usage_byte{job="ecs-loop"}')"

# 4. VictoriaMetrics down for several cycles, then back on the same port and
# data: every cycle's sample arrives, oldest first, none twice.
r0=$(stats_requests)
start_pusher "$T/outage.log" --metadata.url="$META_URL" --remote-write.url="http://127.0.0.1:$VM/api/v1/write" \
  --remote-write.job=ecs-outage --interval=1s --interval.jitter=0 --delete-on-exit=false --log.level=debug \
  --remote-write.timeout=1s
OUT_PID=$PUSHER_PID
wait_for 30 sent_at_least "$T/outage.log" 2 || { cat "$T/outage.log"; fail "outage: fewer than 2 writes"; }
stop_peer "$VM_PID" 10
failed_at_least() { [ "$(grep -c 'msg="delivery failed"' "$T/outage.log")" -ge "$1" ]; }
wait_for 60 failed_at_least 4 || { cat "$T/outage.log"; fail "outage: the pusher did not notice the receiver was down"; }
ok "outage: 4 cycles failed while the receiver is down"
victoria-metrics -httpListenAddr=127.0.0.1:$VM -storageDataPath="$VM_DIR/data" -retentionPeriod=1d \
  -search.latencyOffset=0s >"$VM_DIR/log2" 2>&1 &
VM_PID=$!; _PIDS="$_PIDS $VM_PID"
wait_ready "http://127.0.0.1:$VM/health" 20 || { cat "$VM_DIR/log2"; fail "VictoriaMetrics did not come back"; }
drained() { grep -q 'msg="remote write sent".*pending_cycles=0' <(sed -n "$(grep -n 'msg="delivery failed"' "$T/outage.log" | tail -1 | cut -d: -f1),\$p" "$T/outage.log"); }
wait_for 60 drained || { cat "$T/outage.log"; fail "outage: the buffer was not sent after the receiver came back"; }
kill -TERM "$OUT_PID"; wait "$OUT_PID"
r1=$(stats_requests)
cycles=$((r1 - r0))
vm_count() { vm_flush; vm_export 'ee_task_cpu_limit{job="ecs-outage"}' | jq '.timestamps | length'; }
count_is() { [ "$(vm_count)" = "$1" ]; }
wait_for 20 count_is "$cycles" || true
assert_eq "outage: one sample per cycle, none missing ($cycles cycles)" "$cycles" "$(vm_count)"
assert_eq "outage: timestamps strictly increasing, none twice" true \
  "$(vm_export 'ee_task_cpu_limit{job="ecs-outage"}' | jq '[.timestamps | range(1; length) as $i | .[$i] > .[$i-1]] | all')"
grep -q 'pending_cycles=[1-9]' "$T/outage.log" || fail "outage: the backlog was never more than one cycle"
ok "outage: the backlog went out oldest first ($(grep -o 'pending_cycles=[0-9]*' "$T/outage.log" | sort -t= -k2 -n | tail -1))"

# 5. A 4xx is final: Prometheus without its receiver answers 404 with an
# explanation. One attempt, one log line with it, and the samples counted.
start_prometheus ""; PLAIN=$PEER_PORT
mkdir -p "$T/tf"
start_pusher "$T/reject.log" --metadata.url="$META_URL" --remote-write.url="http://127.0.0.1:$PLAIN/api/v1/write" \
  --textfile.directory="$T/tf" --interval=1s --interval.jitter=0 --log.level=debug
rejected() { awk '/^ee_ecs_metrics_exporter_remote_write_rejected_samples_total/ {print $2}' "$T/tf/ecs_$TASK_ID.prom" 2>/dev/null; }
rejected_positive() { [ -n "$(rejected)" ] && [ "$(rejected)" != 0 ]; }
wait_for 30 rejected_positive || { cat "$T/reject.log"; fail "rejected samples not counted"; }
n_rejected=$(rejected)
kill -TERM "$PUSHER_PID"; wait "$PUSHER_PID"
grep -q 'refused the cycle.*remote write receiver needs to be enabled' "$T/reject.log" ||
  { cat "$T/reject.log"; fail "the receiver's explanation is not in the log"; }
ok "4xx: the receiver's explanation is logged"
assert_eq "4xx: never retried" 0 "$(grep -c 'request failed, retrying' "$T/reject.log")"
# Each refused cycle's samples are counted: a multiple of one cycle's count.
ok "4xx: $n_rejected samples counted as rejected"
