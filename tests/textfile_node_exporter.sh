#!/bin/bash
# The textfile sink against a real node_exporter (Debian prometheus-node-exporter):
#  1. a Fargate capture lands with the values worked out by hand, scrape error 0;
#  2. two tasks write into one directory: both visible, no collision, no error;
#  3. a reader polling the file while one pusher rewrites it 1000 times never sees a
#     partial file, and node_exporter never reports a scrape error meanwhile.
. "$(dirname "$0")/lib.sh"

TF=$T/textfile
mkdir -p "$TF"
start_node_exporter "$TF"
NE=http://127.0.0.1:$PEER_PORT
wait_ready "$NE/metrics" 10 || fail "node_exporter not ready"

FG=ecs_exporter/fargate-awsvpc-cgroupv1
EC2=ecs_exporter/ec2-bridge-cgroupv2
"$EMP_BIN" --once --metadata.task-file="$FIXTURES/$FG.task.json" --metadata.stats-file="$FIXTURES/$FG.stats.json" \
  --textfile.directory="$TF" 2>"$T/err1" || fail "fargate replay exit $?: $(cat "$T/err1")"
[ -f "$TF/ecs_bae32def0ab64f06818e8862e58f8d6d.prom" ] || fail "file not named after the task id: $(ls "$TF")"
ok "file is ecs_<task_id>.prom"

curl -s "$NE/metrics" >"$T/scrape1"
assert_eq "node_textfile_scrape_error" 0 "$(text_value node_textfile_scrape_error <"$T/scrape1")"
L='container_name="prometheus",container_id="bae32def0ab64f06818e8862e58f8d6d-1819985369",task_family="prom-ecs-exporter-sandbox-main-fargate",task_id="bae32def0ab64f06818e8862e58f8d6d",task_revision="9"'
TASK='container_name="_task_",container_id="_task_",task_family="prom-ecs-exporter-sandbox-main-fargate",task_id="bae32def0ab64f06818e8862e58f8d6d",task_revision="9"'
# node_exporter re-sorts labels alphabetically.
sorted() { echo "$1" | tr , '\n' | sort | paste -sd, -; }
# 932439492 ns of CPU.
assert_eq "prometheus cpu seconds" 0.932439492 "$(text_value "ee_container_cpu_usage_seconds_total{$(sorted "$L")}" <"$T/scrape1")"
# usage - cache = 127934464 - 85426176.
assert_eq "prometheus memory without cache" 4.2508288e+07 "$(text_value "ee_container_memory_usage_without_cache_byte{$(sorted "$L")}" <"$T/scrape1")"
# awsvpc: eth1 counted once, the larger of 129045374 and 129046293.
assert_eq "task rx bytes" 1.29046293e+08 "$(text_value "ee_container_network_io_rx_bytes{$(sorted "$TASK")}" <"$T/scrape1")"
assert_eq "task memory limit" 5.36870912e+08 "$(text_value "ee_task_memory_limit_byte{$(sorted "$TASK")}" <"$T/scrape1")"

# 2. A second task (EC2 bridge) in the same directory.
"$EMP_BIN" --once --metadata.task-file="$FIXTURES/$EC2.task.json" --metadata.stats-file="$FIXTURES/$EC2.stats.json" \
  --textfile.directory="$TF" 2>"$T/err2" || fail "ec2 replay exit $?: $(cat "$T/err2")"
curl -s "$NE/metrics" >"$T/scrape2"
assert_eq "scrape error with two tasks" 0 "$(text_value node_textfile_scrape_error <"$T/scrape2")"
n=$(grep -c '^ee_ecs_metrics_exporter_success{' "$T/scrape2")
assert_eq "success series, one per task" 2 "$n"
grep -q 'ee_container_cpu_usage_seconds_total{container_id="01cf1f320800",container_name="ecs-exporter",task_family="prom-ecs-exporter-sandbox-main-ec2",task_id="506f22fab0414cde856201584703fed9",task_revision="13"} 0.331125' "$T/scrape2" \
  || fail "EC2 task's series missing: $(grep ecs-exporter "$T/scrape2" | head -3)"
ok "both tasks' series visible"

# 3. 1000 rewrites by one pusher in loop mode (as a sidecar runs; 1000 --once
# processes cost CI ten times the CPU), under a polling reader and node_exporter
# scrapes.
rm -f "$TF"/*.prom
start_fake_metadata "$FG.task.json" "$FG.stats.json" --advance
META_PORT=$PEER_PORT
stats_requests() { curl -sf "http://127.0.0.1:$META_PORT/_control" | jq -r .stats_requests; }
start_pusher "$T/loop3.log" --metadata.url="$META_URL" --textfile.directory="$TF" --interval=5ms --interval.jitter=0
# A cycle is written once the next one has fetched: wait for the third fetch.
until [ "$(stats_requests)" -ge 3 ]; do
  _alive "$PUSHER_PID" || fail "the pusher died: $(tail -3 "$T/loop3.log")"; sleep 0.05
done
FILE=$TF/ecs_bae32def0ab64f06818e8862e58f8d6d.prom
lines=$(wc -l <"$FILE")
python3 - "$FILE" "$lines" "$T/reader.done" >"$T/reader.out" 2>&1 <<'PY' &
import os, re, sys, time
path, lines, done = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$')
reads = 0
while not os.path.exists(done):
    with open(path, 'rb') as f:
        data = f.read().decode()
    reads += 1
    time.sleep(0.0005)  # leave the CPU to the writer on a 2-core machine
    ls = data.split('\n')
    if not data.endswith('\n') or len(ls) - 1 != lines:
        print(f"PARTIAL read {reads}: {len(data)} bytes, {len(ls) - 1} lines"); sys.exit(1)
    for l in ls[:-1]:
        if not l.startswith('#') and not sample.match(l):
            print(f"BAD LINE read {reads}: {l!r}"); sys.exit(1)
print(f"reads={reads}")
PY
READER=$!
want=$(( $(stats_requests) + 1000 ))
scrapes=0
# Cycles, not seconds, end the wait: a loaded machine only makes it slower.
while [ "$(stats_requests)" -lt "$want" ]; do
  _alive "$PUSHER_PID" || fail "the pusher died: $(tail -3 "$T/loop3.log")"
  e=$(curl -s "$NE/metrics" | text_value node_textfile_scrape_error)
  [ "$e" = 0 ] || fail "node_exporter scrape error after $(stats_requests) cycles"
  scrapes=$((scrapes + 1))
  sleep 0.2
done
# The last completed cycle's file, seen by node_exporter: the replay advanced
# one tick per cycle, and prometheus is the capture's second stats entry, so
# its CPU grows by 2 s a tick from 0.932439492 s: > 2000 s after 1000 cycles.
v=$(curl -s "$NE/metrics" | text_value "ee_container_cpu_usage_seconds_total{$(sorted "$L")}")
awk -v v="$v" 'BEGIN { exit !(v >= 2000.932439492) }' || fail "prometheus cpu after 1000 cycles: $v (want >= 2000.93 s)"
ok "node_exporter serves the advancing counters (prometheus cpu ${v} s)"
touch "$T/reader.done"
wait $READER || fail "reader saw a torn file: $(cat "$T/reader.out")"
grep -q 'level=error' "$T/loop3.log" && fail "errors while rewriting: $(grep level=error "$T/loop3.log" | head -2)"
ok "1000 rewrites, reader never saw a partial file ($(cat "$T/reader.out")), $scrapes scrapes clean"
left=$(ls -A "$TF" | grep -v '^ecs_bae32def0ab64f06818e8862e58f8d6d.prom$' || true)
assert_eq "temp files left behind" "" "$left"
# SIGTERM: the task's file goes with the sidecar (no stale data).
stop_peer "$PUSHER_PID" 20
assert_eq "files left after SIGTERM" "" "$(ls -A "$TF")"
