#!/bin/bash
# The scrape endpoint's cost (docs/scrape-endpoint.md): CPU and RSS per
# scrape of ours, the metadata reads during N scrapes, and what fetching on
# demand would cost instead (one cycle per scrape, measured here as the CPU
# of a cycle at a fast interval with nothing scraping). Side by side with
# the original Python exporter (bench/seed_bench.sh) when its copy is
# present; skipped when absent.
#
#   bash bench/scrape_bench.sh [OUT.json]     (EMP_BIN: the binary; SEED_DIR: the original, default /work/shared/seed)
#
# Scrapes go as Prometheus sends them: one kept-alive connection, one GET
# after the other (curl -K). Knobs: BENCH_SCRAPES (5000).
set -uo pipefail
OUT=${1:-/dev/stdout}
source "$(dirname "$0")/../tests/lib.sh"
SCRAPES=${BENCH_SCRAPES:-5000}
CAPTURE=${BENCH_CAPTURE:-ecs_exporter/fargate-awsvpc-cgroupv1}
SEED_DIR=${SEED_DIR:-/work/shared/seed}
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
reads() { curl -s "http://127.0.0.1:$META/_control" | jq .stats_requests; }

start_fake_metadata "$CAPTURE.task.json" "$CAPTURE.stats.json" --advance; META=$PEER_PORT

# 1. Ours, sampling on the loop's interval (15 s, the default).
start_pusher "$T/ours.log" --metadata.url="$META_URL" --web.listen-address=127.0.0.1:0
PID=$PUSHER_PID
has_port() { grep -q 'msg="serving metrics for scraping"' "$T/ours.log"; }
wait_for 10 has_port || { cat "$T/ours.log"; fail "ours did not start"; }
PORT=$(sed -n 's/.* port=\([0-9]*\).*/\1/p' "$T/ours.log" | head -1)
URL=http://127.0.0.1:$PORT/metrics
wait_ready "$URL" 30 || fail "ours never served"
urls() { local i; for i in $(seq "$1"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$2"; done; }
urls 200 "$URL" | curl -sf -K - || fail "warm-up scrapes failed"
r0=$(reads); t0=$(cpu_ticks "$PID"); w0=$(date +%s%N)
urls "$SCRAPES" "$URL" | curl -sf -K - || fail "scrapes failed"
t1=$(cpu_ticks "$PID"); w1=$(date +%s%N); r1=$(reads)
ours_rss=$(rss_kb "$PID")
# gzip, as Prometheus asks for it
tg0=$(cpu_ticks "$PID")
urls "$SCRAPES" "$URL" | curl -sf -K - -H 'Accept-Encoding: gzip' || fail "gzip scrapes failed"
tg1=$(cpu_ticks "$PID")
stop_peer "$PID"

# 2. Fetch on demand, measured as its main cost: one whole cycle (two
# metadata reads, parse, render, gzip) per scrape. A pusher cycling every
# 100 ms with nothing scraping gives the CPU of one cycle.
start_pusher "$T/cycle.log" --metadata.url="$META_URL" --web.listen-address=127.0.0.1:0 --interval=100ms \
  --metadata.timeout=90ms --interval.jitter=0s
PID=$PUSHER_PID
wait_for 10 has_port || fail "cycle run did not start"
sleep_until() { [ "$(reads)" -ge "$1" ]; }
c0=$(reads); wait_for 10 sleep_until $((c0 + 5)) || fail "no cycles"
c0=$(reads); tc0=$(cpu_ticks "$PID")
wait_for 60 sleep_until $((c0 + 300)) || fail "cycles too slow"
c1=$(reads); tc1=$(cpu_ticks "$PID")
stop_peer "$PID"

python3 - "$T/ours.json" <<PY
import json, sys
json.dump({"scrapes": $SCRAPES, "capture": "$CAPTURE",
  "cpu_us_per_scrape": ($t1 - $t0) / $CLK_TCK * 1e6 / $SCRAPES,
  "cpu_us_per_scrape_gzip": ($tg1 - $tg0) / $CLK_TCK * 1e6 / $SCRAPES,
  "wall_us_per_scrape": ($w1 - $w0) / 1e3 / $SCRAPES,
  "metadata_stats_reads_during_scrapes": $r1 - $r0,
  "rss_kb": $ours_rss,
  "fetch_on_demand_cpu_us_per_scrape": ($tc1 - $tc0) / $CLK_TCK * 1e6 / ($c1 - $c0)}, open(sys.argv[1], "w"), indent=1)
PY

# 3. The original, when present.
if [ -f "$SEED_DIR/scripts/ecs_metrics_exporter.py" ]; then
  BENCH_CAPTURE=$CAPTURE BENCH_SEED_SCRAPES=${BENCH_SEED_SCRAPES:-300} \
    bash "$EMP_SRC/bench/seed_bench.sh" "$SEED_DIR" "$T/seed.json" >"$T/seed.log" 2>&1 ||
    { tail -5 "$T/seed.log" >&2; echo '{"skipped": "seed_bench.sh failed"}' >"$T/seed.json"; }
else
  echo '{"skipped": "no copy of the original exporter"}' >"$T/seed.json"
fi
python3 -c '
import json, sys
print(json.dumps({"ours": json.load(open(sys.argv[1])), "original": json.load(open(sys.argv[2]))}, indent=1))' \
  "$T/ours.json" "$T/seed.json" >"$OUT"
