#!/bin/bash
# How far one Pushgateway goes against remote write on this machine (issue 15).
# Simulates fleets of sidecars with our real binary: P pusher processes, each
# with its own task identity (the bundled Fargate capture with its task id
# replaced), in loop mode at BENCH_INTERVAL (default 1s) — with the usual 15 s
# interval, P processes are 15×P sidecars ("compressed in time"). For each P in
# BENCH_LEVELS and each path, it runs BENCH_SECONDS and reports:
#   (a) Pushgateway scraped by Prometheus every 15 s: push latency p50/p99
#       (the pushers' own per-push timing), the scrape duration of the
#       Pushgateway against its 15 s interval, the Pushgateway's RSS;
#   (b) remote write into VictoriaMetrics and (c) into Prometheus: write
#       latency p50/p99, the receiver's RSS, failed deliveries.
# Loopback only, bounded in count and time; stops everything it started.
#   EMP_BIN=build/src/ecs-metrics-pusher bash bench/remote_write_scale.sh
set -uo pipefail
source "$(dirname "$0")/../tests/lib.sh"
LEVELS=${BENCH_LEVELS:-25 50 100 200}
SECONDS_PER=${BENCH_SECONDS:-40}
INTERVAL=${BENCH_INTERVAL:-1s}
FIX=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
MAX=$(echo $LEVELS | tr ' ' '\n' | sort -n | tail -1)
mkdir -p "$T/tasks"
for i in $(seq "$MAX"); do
  id=$(printf '%032x' "$i")
  sed "s/$TASK_ID/$id/g" "$FIX.task.json" >"$T/tasks/$i.task.json"
  sed "s/$TASK_ID/$id/g" "$FIX.stats.json" >"$T/tasks/$i.stats.json"
done
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
pct() { sort -n | awk -v p="$1" '{a[NR] = $1} END { if (NR == 0) { print "-"; exit } i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.1f", a[i] * 1000 }'; }
PIDS=()
start_fleet() { # N LOGDIR FLAGS...
  local n=$1 dir=$2; shift 2
  mkdir -p "$dir"; PIDS=()
  for i in $(seq "$n"); do
    "$EMP_BIN" --metadata.task-file="$T/tasks/$i.task.json" --metadata.stats-file="$T/tasks/$i.stats.json" \
      --interval="$INTERVAL" --log.level=debug "$@" >"$dir/$i.log" 2>&1 &
    PIDS+=($!)
  done
}
stop_fleet() { kill -TERM "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null; }

echo "| pushers (≙ sidecars at 15 s) | path | p50 ms | p99 ms | failed | peer RSS MiB | Pushgateway scrape s (of 15) |"
echo "|---|---|---|---|---|---|---|"
for n in $LEVELS; do
  # (a) Pushgateway + Prometheus scraping it every 15 s.
  start_pushgateway; PGW=$PEER_PORT; PGW_PID=$PEER_PID
  d=$(mktemp -d "$T/prom.XXXX")
  printf 'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$PGW" >"$d/p.yml"
  prometheus --config.file="$d/p.yml" --storage.tsdb.path="$d/data" --web.listen-address=127.0.0.1:0 >"$d/log" 2>&1 &
  PROM_PID=$!; _PIDS="$_PIDS $PROM_PID"; PROM=$(_port_from_log "$d/log" $PROM_PID 20)
  start_fleet "$n" "$T/pgw-$n" --pushgateway.url="http://127.0.0.1:$PGW"
  sleep "$SECONDS_PER"
  scrape=$(curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=max_over_time(scrape_duration_seconds{job="pushgateway"}[5m])' | jq -r '.data.result[0].value[1] // "-"')
  rss=$(( $(rss_kb "$PGW_PID") / 1024 ))
  stop_fleet
  lat=$(cat "$T/pgw-$n"/*.log | grep -o 'msg="pushed".*seconds=[0-9.]*' | sed 's/.*seconds=//')
  failed=$(cat "$T/pgw-$n"/*.log | grep -c 'msg="delivery failed"')
  printf '| %s (%s) | Pushgateway | %s | %s | %s | %s | %s |\n' "$n" "$((n * 15))" "$(echo "$lat" | pct 50)" "$(echo "$lat" | pct 99)" "$failed" "$rss" "$scrape"
  stop_peer "$PROM_PID" 10; stop_peer "$PGW_PID" 10

  # (b) remote write into VictoriaMetrics, (c) into Prometheus.
  for peer in victoriametrics prometheus; do
    if [ $peer = victoriametrics ]; then
      start_victoria_metrics; URL=http://127.0.0.1:$PEER_PORT/api/v1/write
    else
      PROM_FLAGS=--web.enable-remote-write-receiver start_prometheus ""; URL=http://127.0.0.1:$PEER_PORT/api/v1/write
    fi
    PEER=$PEER_PID
    start_fleet "$n" "$T/$peer-$n" --remote-write.url="$URL"
    sleep "$SECONDS_PER"
    rss=$(( $(rss_kb "$PEER") / 1024 ))
    stop_fleet
    lat=$(cat "$T/$peer-$n"/*.log | grep -o 'msg="remote write sent".*seconds=[0-9.]*' | sed 's/.*seconds=//')
    failed=$(cat "$T/$peer-$n"/*.log | grep -c 'msg="delivery failed"')
    printf '| %s (%s) | remote write → %s | %s | %s | %s | %s | — |\n' "$n" "$((n * 15))" "$peer" "$(echo "$lat" | pct 50)" "$(echo "$lat" | pct 99)" "$failed" "$rss"
    stop_peer "$PEER" 10
  done
done
