#!/bin/bash
# A second real parser of our text format: VictoriaMetrics (Debian package
# victoria-metrics) imports the exposition of the real Fargate capture through
# /api/v1/import/prometheus, and a query returns the values worked out by hand.
. "$(dirname "$0")/lib.sh"
command -v victoria-metrics >/dev/null || fail "victoria-metrics not installed"
start_victoria_metrics
VM=http://127.0.0.1:$PEER_PORT
wait_ready "$VM/health" 30 || fail "victoria-metrics not ready"

FG=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
"$EMP_BIN" --once --metadata.task-file="$FG.task.json" --metadata.stats-file="$FG.stats.json" --textfile.path=- \
  >"$T/out.prom" 2>"$T/err" || fail "replay: $(cat "$T/err")"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/out.prom" \
  "$VM/api/v1/import/prometheus?extra_label=job=emp")
assert_eq "import status" 204 "$code"
curl -sf "$VM/internal/force_flush" >/dev/null
query() {
  curl -s -G "$VM/api/v1/query" --data-urlencode "query=$1" --data-urlencode nocache=1 | jq -r '.data.result[0].value[1] // empty'
}
v=""
for _ in $(seq 100); do v=$(query 'ee_container_cpu_usage_seconds_total{container_name="prometheus",job="emp"}'); [ -n "$v" ] && break; sleep 0.1; done
# 932439492 ns.
assert_eq "prometheus cpu seconds" 0.932439492 "$v"
# Task memory: 127934464 + 84111360.
assert_eq "task memory usage" 212045824 "$(query 'ee_container_memory_usage_byte{container_name="_task_",job="emp"}')"
# Task CPU utilisation from the limit: 1.255072875 cpu-seconds over 0.25 vCPU as a ratio.
assert_eq "cpu seconds per vCPU of limit" 5.0202915 "$(query 'ee_container_cpu_usage_seconds_total{container_name="_task_",job="emp"} / on(task_id) ee_task_cpu_limit{job="emp"}')"
n=$(grep -vc '^#' "$T/out.prom")
assert_eq "series imported" "$n" "$(curl -s -G "$VM/api/v1/export" --data-urlencode 'match[]={job="emp"}' | wc -l)"
