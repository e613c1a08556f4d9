#!/bin/bash
# What the remote-write sink costs per cycle next to the Pushgateway sink,
# side by side in one run (issue 15): the same binary, the same real Fargate
# capture (counters advancing), the loop at BENCH_INTERVAL against a real
# Pushgateway, a real Prometheus (remote-write receiver) and a real
# VictoriaMetrics on loopback. CPU is utime+stime of the pusher's PID only,
# over BENCH_CYCLES cycles after 10% warm-up; memory is VmRSS/VmHWM at the end.
#   EMP_BIN=build/src/ecs-metrics-pusher bash bench/remote_write_cost.sh
set -uo pipefail
source "$(dirname "$0")/../tests/lib.sh"
CYCLES=${BENCH_CYCLES:-2000}
INTERVAL=${BENCH_INTERVAL:-5ms}
CLK_TCK=$(getconf CLK_TCK)
start_fake_metadata ecs_exporter/fargate-awsvpc-cgroupv1.task.json ecs_exporter/fargate-awsvpc-cgroupv1.stats.json --advance
META=$PEER_PORT
start_pushgateway; PGW=$PEER_PORT
PROM_FLAGS=--web.enable-remote-write-receiver start_prometheus ""; PROM=$PEER_PORT
start_victoria_metrics; VM=$PEER_PORT
requests() { curl -sf "http://127.0.0.1:$META/_control" | jq -r .stats_requests; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
run() { # NAME FLAGS...
  local name=$1; shift
  local base c0 t0 c1 t1
  base=$(requests)
  start_pusher "$T/$name.log" --metadata.url="$META_URL" "$@" --interval="$INTERVAL" --interval.jitter=0 --log.level=error
  while [ "$(requests)" -lt $((base + CYCLES / 10)) ]; do sleep 0.05; done
  c0=$(requests); t0=$(awk '{print $14 + $15}' "/proc/$PUSHER_PID/stat")
  while [ "$(requests)" -lt $((base + CYCLES)) ]; do sleep 0.05; done
  c1=$(requests); t1=$(awk '{print $14 + $15}' "/proc/$PUSHER_PID/stat")
  printf '| %s | %.0f | %s | %s | %s |\n' "$name" "$(awk -v a="$t0" -v b="$t1" -v k="$CLK_TCK" -v n="$((c1 - c0))" 'BEGIN { print (b - a) / k * 1e6 / n }')" \
    "$(status_kb "$PUSHER_PID" VmRSS)" "$(status_kb "$PUSHER_PID" VmHWM)" "$(grep -c 'level=error' "$T/$name.log")"
  stop_peer "$PUSHER_PID" 10
}
echo "| sink | CPU µs/cycle | VmRSS KiB | VmHWM KiB | errors logged |"
echo "|---|---|---|---|---|"
run pushgateway --pushgateway.url="http://127.0.0.1:$PGW"
run remote-write-prometheus --remote-write.url="http://127.0.0.1:$PROM/api/v1/write"
run remote-write-victoriametrics --remote-write.url="http://127.0.0.1:$VM/api/v1/write"
run pushgateway-again --pushgateway.url="http://127.0.0.1:$PGW"
