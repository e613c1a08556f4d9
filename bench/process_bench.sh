#!/bin/bash
# Whole-process figures (issue 6), with the fake metadata endpoint and a real
# Pushgateway on loopback, measured from /proc and getrusage, per PID: the
# endpoint is a separate Python process and never counted.
#
#   EMP_BIN=build-bench/src/ecs-metrics-pusher bash bench/process_bench.sh OUT.json
#
# Knobs (environment): BENCH_CYCLES (10000), BENCH_ONCE_RUNS (25),
# BENCH_INTERVAL (5ms), BENCH_CAPTURE (ecs_exporter/fargate-awsvpc-cgroupv1).
# Writes one JSON object to OUT.json; bench/run.sh prints it as a table.
set -uo pipefail
OUT=${1:?usage: process_bench.sh OUT.json}
source "$(dirname "$0")/../tests/lib.sh"

CYCLES=${BENCH_CYCLES:-10000}
ONCE_RUNS=${BENCH_ONCE_RUNS:-25}
INTERVAL=${BENCH_INTERVAL:-5ms}
CAPTURE=${BENCH_CAPTURE:-ecs_exporter/fargate-awsvpc-cgroupv1}
CLK_TCK=$(getconf CLK_TCK)
# bench/libcurl_floor: libcurl's own memory and per-cycle CPU, with no pusher.
FLOOR_BIN=${EMP_LIBCURL_FLOOR:-$(dirname "$EMP_BIN")/../bench/libcurl_floor}
EATMYDATA=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/libeatmydata.so

start_fake_metadata "$CAPTURE.task.json" "$CAPTURE.stats.json" --advance
META_PID=$PEER_PID META_PORT=$PEER_PORT
start_pushgateway
PGW_PID=$PEER_PID PGW_PORT=$PEER_PORT
PGW_URL=http://127.0.0.1:$PGW_PORT
# The same over HTTPS with certificate verification: a CA made here, a
# server certificate for 127.0.0.1, and as CA file the system bundle plus
# that CA, so that the whole bundle is parsed and held as in production.
TLS=$T/tls; mkdir -p "$TLS"
(
  cd "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=emp-bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
  cat /etc/ssl/certs/ca-certificates.crt ca.crt >bundle.crt
  printf 'tls_server_config:\n  cert_file: %s/server.crt\n  key_file: %s/server.key\n' "$TLS" "$TLS" >web.yml
) >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; fail "openssl"; }
start_pushgateway --web.config.file="$TLS/web.yml"
PGWS_URL=https://127.0.0.1:$PEER_PORT

# Deliver to the Pushgateway when the sink works in this build; until then
# (issue 3 in progress) the textfile sink stands in, and the table says so.
SINK=pushgateway
SINK_FLAGS=(--pushgateway.url="$PGW_URL")
# The probe pushes under its own job: a --once push groups by task_family
# (docs/stale-data.md), and the loops' per-task groups would then repeat its
# series (HTTP 400 "collected before with the same name and label values").
if ! "$EMP_BIN" --once --metadata.url="$META_URL" "${SINK_FLAGS[@]}" --pushgateway.job=bench_probe >"$T/probe.log" 2>&1; then
  echo "process_bench: Pushgateway sink unusable in this build ($(tail -1 "$T/probe.log")); measuring with the textfile sink" >&2
  SINK=textfile
  mkdir -p "$T/textfile"
  SINK_FLAGS=(--textfile.directory="$T/textfile")
  "$EMP_BIN" --once --metadata.url="$META_URL" "${SINK_FLAGS[@]}" >"$T/probe.log" 2>&1 ||
    { cat "$T/probe.log" >&2; fail "the pusher cannot complete one cycle"; }
fi

requests() { curl -sf "http://127.0.0.1:$META_PORT/_control" | jq -r .stats_requests; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of that PID only
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# --- loop mode: CPU per cycle and RSS ------------------------------------
# loop_run NAME CYCLES FLAGS...: runs the pusher in loop mode for CYCLES
# cycles (counted as /task/stats requests at the endpoint); CPU per cycle is
# taken over the last 90% of them, after warm-up. Appends one JSON object.
LOOPS=()
loop_run() {
  local name=$1 cycles=$2; shift 2
  loop_measure "$name" "$cycles" "$EMP_BIN" --metadata.url="$META_URL" "$@" \
    --interval="$INTERVAL" --interval.jitter=0 --log.level=error
}
# loop_measure NAME CYCLES COMMAND...: the same for any command that fetches
# the endpoint's /task/stats once per cycle (the pusher, or the libcurl floor).
loop_measure() {
  local name=$1 cycles=$2; shift 2
  local base c0 c1 t0 t1 w0 w1 rss_warm want end
  base=$(requests)
  "$@" >"$T/loop-$name.log" 2>&1 &
  PUSHER_PID=$!; _PIDS="$_PIDS $PUSHER_PID"
  wait_cycles() {
    want=$(( base + $1 )); end=$(( $(date +%s) + 600 ))
    while [ "$(requests)" -lt "$want" ]; do
      _alive "$PUSHER_PID" || { cat "$T/loop-$name.log" >&2; fail "the pusher died"; }
      [ "$(date +%s)" -lt "$end" ] || fail "fewer than $1 cycles in 10 minutes"
      sleep 0.05
    done
  }
  wait_cycles $(( cycles / 10 ))
  c0=$(requests); t0=$(cpu_ticks "$PUSHER_PID"); w0=$(date +%s%N)
  rss_warm=$(status_kb "$PUSHER_PID" VmRSS)
  wait_cycles "$cycles"
  c1=$(requests); t1=$(cpu_ticks "$PUSHER_PID"); w1=$(date +%s%N)
  LOOPS+=("$(python3 -c "import json, sys; print(json.dumps({
    'name': '$name', 'cycles': $c1 - $base, 'measured_cycles': $c1 - $c0,
    'cpu_us_per_cycle': ($t1 - $t0) / $CLK_TCK * 1e6 / ($c1 - $c0),
    'cycles_per_s': ($c1 - $c0) / (($w1 - $w0) / 1e9),
    'rss_kb_after_warmup': $rss_warm, 'rss_kb': $(status_kb "$PUSHER_PID" VmRSS),
    'hwm_kb': $(status_kb "$PUSHER_PID" VmHWM), 'rss_anon_kb': $(status_kb "$PUSHER_PID" RssAnon),
    'rss_file_kb': $(status_kb "$PUSHER_PID" RssFile),
    'errors_logged': $(grep -c 'level=error' "$T/loop-$name.log"),
    'first_error': sys.argv[1]}))" "$(grep -m1 'level=error' "$T/loop-$name.log" | cut -c1-300)")")
  stop_peer "$PUSHER_PID" 5
}
loop_run "$SINK" "$CYCLES" "${SINK_FLAGS[@]}"
# Where the per-cycle CPU goes: the same loop without gzip, and with the
# textfile sink (no push at all), over fewer cycles.
if [ "$SINK" = pushgateway ]; then
  loop_run pushgateway-https $(( CYCLES / 5 )) --pushgateway.url="$PGWS_URL" --pushgateway.ca-file="$TLS/bundle.crt"
  loop_run pushgateway-no-gzip $(( CYCLES / 5 )) "${SINK_FLAGS[@]}" --pushgateway.gzip=false
  # The floor under that: the same three exchanges (the pusher's own body,
  # not compressed) by a program that does nothing else, on the same peers.
  if [ -x "$FLOOR_BIN" ] && [[ $INTERVAL =~ ^[0-9]+ms$ ]]; then
    "$EMP_BIN" --once --metadata.url="$META_URL" --textfile.path=- >"$T/floor-body.prom" 2>/dev/null
    loop_measure libcurl-exchanges-floor $(( CYCLES / 5 )) "$FLOOR_BIN" --exchanges "$META_URL" \
      "$PGW_URL/metrics/job/bench_floor" "$T/floor-body.prom" "${INTERVAL%ms}"
  fi
  mkdir -p "$T/textfile"
  loop_run textfile $(( CYCLES / 5 )) --textfile.directory="$T/textfile"
  # What the textfile sink's fsync of the file and of its directory cost:
  # the same loop with fsync made a no-op by Debian's libeatmydata (an
  # LD_PRELOAD library, so only for a dynamically linked binary), on the same
  # file system ($T).
  if [ -f "$EATMYDATA" ] && LC_ALL=C readelf -lW "$EMP_BIN" | grep -q INTERP; then
    LD_PRELOAD=$EATMYDATA loop_run textfile-no-fsync $(( CYCLES / 5 )) --textfile.directory="$T/textfile"
  fi
fi

# --- --once: exec → exit after the first successful delivery --------------
# Each run is timed by Python around fork/exec/wait4, which also gives the
# child's own CPU time and peak RSS (getrusage, as /usr/bin/time -v reads it).
# The same three exchanges done by curl(1) give the loopback + endpoint baseline.
"$EMP_BIN" --once --metadata.url="$META_URL" --textfile.path=- >"$T/body.prom" 2>/dev/null || true
once_json=$(python3 - "$ONCE_RUNS" "$EMP_BIN" "$META_URL" "$PGW_URL" "$T/body.prom" "${SINK_FLAGS[@]}" <<'PY'
import json, os, statistics, subprocess, sys, time
runs, binary, meta, pgw, body, sink_flags = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]

def timed(argv):
    start = time.perf_counter_ns()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter_ns() - start) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed with {status}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_maxrss

pusher = [binary, "--once", "--metadata.url=" + meta, "--log.level=warn"] + sink_flags
curl = ["curl", "-sf", "-o", "/dev/null", meta + "/task", "-o", "/dev/null", meta + "/task/stats",
        "--next", "-sf", "-o", "/dev/null", "-X", "PUT", "--data-binary", "@" + body,
        pgw + "/metrics/job/bench_baseline"]
timed(pusher); timed(curl)  # warm the page cache
p = [timed(pusher) for _ in range(runs)]
c = [timed(curl) for _ in range(runs)]
med = lambda xs, i: statistics.median(x[i] for x in xs)
print(json.dumps({"once_runs": runs,
                  "once_wall_ms_median": med(p, 0), "once_wall_ms_min": min(x[0] for x in p),
                  "once_wall_ms_max": max(x[0] for x in p),
                  "once_cpu_ms_median": med(p, 1), "once_maxrss_kb_median": med(p, 2),
                  "curl_baseline_wall_ms_median": med(c, 0)}))
PY
) || fail "--once timing failed"

# The RSS any program has once it links Debian's libcurl and initialises it.
floor_json='{}'
if [ -x "$FLOOR_BIN" ]; then
  floor_json=$("$FLOOR_BIN" | awk 'BEGIN{printf "{"} {printf "%s\"libcurl_floor_%s_kb\": %s", (NR > 1 ? ", " : ""), $1, $2} END{print "}"}')
fi

size=$(stat -c %s "$EMP_BIN")
linkage=dynamic; LC_ALL=C readelf -lW "$EMP_BIN" | grep -q INTERP || linkage=static
strip -o "$T/stripped" "$EMP_BIN" && stripped=$(stat -c %s "$T/stripped")

python3 - "$OUT" <<PY
import json, sys
d = {"label": "${EMP_BENCH_LABEL:-debian}", "linkage": "$linkage", "sink": "$SINK", "capture": "$CAPTURE", "interval": "$INTERVAL",
     "binary_bytes": $size, "binary_stripped_bytes": $stripped,
     "loops": [json.loads(l) for l in r'''$(printf '%s\n' "${LOOPS[@]}")'''.splitlines()]}
d.update(json.loads('''$once_json'''))
d.update(json.loads('''$floor_json'''))
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
[ -s "$OUT" ] || fail "no results written"
cat "$OUT"
