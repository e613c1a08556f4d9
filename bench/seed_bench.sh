#!/bin/bash
# The original Python exporter (knziiy/ecs-metrics-exporter, kept unchanged
# in ../shared/seed for side-by-side figures only; nothing of it is copied
# here) against the same fake metadata endpoint and capture as
# bench/process_bench.sh: CPU per scrape (each scrape fetches the metadata
# and renders the metrics, its equivalent of our cycle) and VmRSS.
#
#   bash bench/seed_bench.sh SEED_DIR OUT.json
#
# It runs on Debian's Python with Debian's packages of its dependencies.
# Its code binds 0.0.0.0; our rule is 127.0.0.1 only, so it is started
# through a two-line launcher that hands uvicorn.run host 127.0.0.1 and
# port 0 (the port is read back with ss). Knobs: BENCH_SEED_SCRAPES (300).
set -uo pipefail
SEED=${1:?usage: seed_bench.sh SEED_DIR OUT.json}
OUT=${2:?usage: seed_bench.sh SEED_DIR OUT.json}
source "$(dirname "$0")/../tests/lib.sh"
SCRAPES=${BENCH_SEED_SCRAPES:-300}
CAPTURE=${BENCH_CAPTURE:-ecs_exporter/fargate-awsvpc-cgroupv1}
PY=/usr/bin/python3
CLK_TCK=$(getconf CLK_TCK)

EMP_EXTRA_PACKAGES="python3-fastapi python3-uvicorn python3-prometheus-client python3-requests python3-dateutil" \
  bash "$EMP_SRC/tests/setup.sh" || fail "could not install the exporter's dependencies"
"$PY" -c 'import fastapi, uvicorn, prometheus_client, requests, dateutil' 2>/dev/null ||
  fail "the exporter's dependencies do not import with $PY"

start_fake_metadata "$CAPTURE.task.json" "$CAPTURE.stats.json" --advance
META_PORT=$PEER_PORT
# It fails on a stopped container's null stats (TypeError, HTTP 500), so
# those containers are removed from both bodies: the same task otherwise.
stopped=$(python3 -c 'import json, sys; print(json.dumps([k for k, v in json.load(open(sys.argv[1])).items() if v is None]))' \
  "$FIXTURES/$CAPTURE.stats.json")
meta_control "$META_PORT" "{\"remove\": $stopped}"
d=$(mktemp -d "$T/seed.XXXX")
ECS_CONTAINER_METADATA_URI_V4=$META_URL PYTHONPATH=$SEED "$PY" -c '
import runpy, sys, uvicorn
run = uvicorn.run
uvicorn.run = lambda app, **kw: run(app, **dict(kw, host="127.0.0.1", port=0))
runpy.run_path(sys.argv[1], run_name="__main__")' "$SEED/scripts/ecs_metrics_exporter.py" >"$d/log" 2>&1 &
PID=$!; _PIDS="$_PIDS $PID"
PORT=$(_port_from_ss "$PID" 30) || { cat "$d/log" >&2; fail "the exporter did not start"; }
URL=http://127.0.0.1:$PORT/metrics
curl -sf "$URL" -o "$d/first.prom" || { cat "$d/log" >&2; fail "no /metrics"; }
grep -q '^ee_' "$d/first.prom" || fail "no ee_ series in its /metrics"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
urls() { local i; for i in $(seq "$1"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$URL"; done; }
urls $(( SCRAPES / 10 )) | curl -sf -K - || fail "warm-up scrapes failed"
t0=$(cpu_ticks "$PID"); w0=$(date +%s%N)
urls "$SCRAPES" | curl -sf -K - || fail "scrapes failed"
t1=$(cpu_ticks "$PID"); w1=$(date +%s%N)
python3 - "$OUT" <<PY
import json, sys
json.dump({"scrapes": $SCRAPES,
           "cpu_us_per_scrape": ($t1 - $t0) / $CLK_TCK * 1e6 / $SCRAPES,
           "wall_ms_per_scrape": ($w1 - $w0) / 1e6 / $SCRAPES,
           "rss_kb": $(awk '$1 == "VmRSS:" {print $2}' "/proc/$PID/status"),
           "rss_anon_kb": $(awk '$1 == "RssAnon:" {print $2}' "/proc/$PID/status"),
           "removed_stopped_containers": len($stopped), "capture": "$CAPTURE",
           "commit": "$(cat "$SEED/COMMIT" 2>/dev/null | head -1)"}, open(sys.argv[1], "w"), indent=1)
PY
cat "$OUT"
