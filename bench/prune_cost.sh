#!/bin/bash
# What one `ecs-metrics-pusher prune` pass costs the Pushgateway (issue 12),
# at 150 and 1,500 groups: a real Pushgateway on loopback is filled with N
# groups, each the body a pusher sends for the bundled Fargate capture (29
# series), then timed:
#   keep pass    nothing is stale (--prune.older-than=1h): the steady state,
#                one GET /api/v1/metrics; run 3 times
#   remove pass  every group is stale: the GET plus N DELETEs
# For each: wall time of the janitor process, its peak RSS, and the
# Pushgateway's CPU time (utime+stime from /proc/PID/stat, 10 ms ticks) and
# RSS (VmRSS) before and after.
#
#   EMP_BIN=build/src/ecs-metrics-pusher bash bench/prune_cost.sh [N...]
#
# Prints a markdown table (docs/stale-data.md quotes it).
set -uo pipefail
source "$(dirname "$0")/../tests/lib.sh"
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(150 1500)
CLK_TCK=$(getconf CLK_TCK)
FIX=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1

# One pusher's body: the textfile rendering of the capture. Its task_id,
# task_family and task_revision labels are overwritten by the grouping key,
# so the Pushgateway stores exactly what the Pushgateway sink would push.
"$EMP_BIN" --once --metadata.task-file="$FIX.task.json" --metadata.stats-file="$FIX.stats.json" \
  --textfile.path="$T/body.prom" 2>"$T/body.log" || { cat "$T/body.log"; fail "cannot render a body"; }

cpu_ms() { awk -v t="$CLK_TCK" '{ print ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# fill PORT N: PUTs the body to N groups over one kept-alive connection.
fill() {
  /usr/bin/python3 - "$1" "$2" "$T/body.prom" <<'PY'
import http.client, sys
port, n, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], 'rb').read()
c = http.client.HTTPConnection('127.0.0.1', port)
for i in range(n):
    c.request('PUT', f'/metrics/job/ecs/task_family/bench/task_revision/1/task_id/{i:032x}', body,
              {'Content-Type': 'text/plain; version=0.0.4'})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit(f'push {i}: HTTP {r.status}')
PY
}

# timed_prune LABEL FLAGS...: one --once pass; sets WALL_MS and MAXRSS_KB.
timed_prune() {
  local out
  out=$(/usr/bin/python3 - "$EMP_BIN" "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run([sys.argv[1], 'prune', '--once'] + sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open('/dev/null', 'w'))
wall = (time.monotonic() - t) * 1000
print(r.returncode, f'{wall:.0f}', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
  read -r RC WALL_MS MAXRSS_KB <<<"$out"
  [ "$RC" = 0 ] || fail "prune exited $RC"
}

echo "| groups | body of GET /api/v1/metrics | pass | janitor wall | janitor peak RSS | Pushgateway CPU | Pushgateway RSS before → after |"
echo "|---|---|---|---|---|---|---|"
for n in "${SIZES[@]}"; do
  start_pushgateway; PID=$PEER_PID; PORT=$PEER_PORT; URL=http://127.0.0.1:$PORT
  fill "$PORT" "$n" || fail "fill $n"
  groups=$(curl -s "$URL/api/v1/metrics" | jq '[.data[] | select(.labels.job=="ecs")] | length')
  [ "$groups" = "$n" ] || fail "expected $n groups, found $groups"
  bytes=$(curl -s "$URL/api/v1/metrics" | wc -c)
  for run in 1 2 3; do
    c0=$(cpu_ms "$PID"); r0=$(rss_kb "$PID")
    timed_prune --pushgateway.url="$URL" --prune.older-than=1h
    c1=$(cpu_ms "$PID"); r1=$(rss_kb "$PID")
    echo "| $n | $((bytes / 1024)) KiB | keep (nothing stale) #$run | ${WALL_MS} ms | $((MAXRSS_KB / 1024)) MiB | $(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') ms | $((r0 / 1024)) → $((r1 / 1024)) MiB |"
  done
  sleep 1.1  # every group is now older than 1 s on the Pushgateway's clock
  c0=$(cpu_ms "$PID"); r0=$(rss_kb "$PID")
  timed_prune --pushgateway.url="$URL" --prune.older-than=1s
  c1=$(cpu_ms "$PID"); r1=$(rss_kb "$PID")
  left=$(curl -s "$URL/api/v1/metrics" | jq '[.data[] | select(.labels.job=="ecs")] | length')
  [ "$left" = 0 ] || fail "$left groups left after the remove pass"
  echo "| $n | $((bytes / 1024)) KiB | remove all $n | ${WALL_MS} ms | $((MAXRSS_KB / 1024)) MiB | $(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') ms | $((r0 / 1024)) → $((r1 / 1024)) MiB |"
  stop_peer "$PID"
done
