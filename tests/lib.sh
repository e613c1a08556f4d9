# tests/lib.sh — shared harness for the script tests. Source it from bash.
#
# Real peers (Debian packages) are started on 127.0.0.1:0, their kernel-chosen
# port is read back, and they are stopped by PID when the test exits. Only the
# ECS metadata endpoint is faked (tests/fake_metadata.py, real captured bodies).
#
# Every start_* function sets PEER_PID, PEER_PORT and PEER_DIR, and registers
# the PID so that the EXIT trap stops it. Do not call start_* inside $(...).
#
# Environment: EMP_BIN (the binary), EMP_SRC (the source tree); meson sets both.

set -u
EMP_SRC=${EMP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
EMP_BIN=${EMP_BIN:-$EMP_SRC/build/src/ecs-metrics-pusher}
FIXTURES=$EMP_SRC/tests/fixtures
T=$(mktemp -d "${TMPDIR:-/tmp}/emp-test.XXXXXX")
_PIDS=""
_CHECKS=0

_cleanup() {
  local p
  for p in $_PIDS; do stop_peer "$p" 2 >/dev/null 2>&1; done
  if [ "${KEEP_TMP:-}" = "" ]; then rm -rf "$T"; else echo "kept $T" >&2; fi
}
trap _cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { _CHECKS=$((_CHECKS + 1)); echo "ok $_CHECKS - $*"; }
skip() { echo "SKIP: $*"; exit 77; }  # meson treats 77 as skipped

_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
_alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$st" ] && [ "$st" != Z ]; }

# Port from a Go peer's log line: msg="Listening on" address=127.0.0.1:PORT
_port_from_log() { # LOGFILE PID TIMEOUT_S
  local i p
  for i in $(seq $(( $3 * 100 ))); do
    p=$(sed -n 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    _alive "$2" || return 1
    sleep 0.01
  done; return 1
}
_port_from_ss() { # PID TIMEOUT_S  (VictoriaMetrics logs ":0" verbatim)
  local i p
  for i in $(seq $(( $2 * 100 ))); do
    p=$(ss -Hltnp 2>/dev/null | sed -n "s/.*127\.0\.0\.1:\([0-9]*\) .*pid=$1,.*/\1/p" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    _alive "$1" || return 1
    sleep 0.01
  done; return 1
}

wait_ready() { # URL TIMEOUT_S [curl args...] -> 0 when URL answers 200
  local url=$1 t=$2; shift 2
  local end=$(( $(_now_ms) + t * 1000 ))
  while [ "$(_now_ms)" -lt "$end" ]; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = 200 ] && return 0
    sleep 0.02
  done; return 1
}

# wait_for TIMEOUT_S COMMAND...: retries COMMAND until it succeeds.
wait_for() {
  local t=$1; shift
  local end=$(( $(_now_ms) + t * 1000 ))
  while [ "$(_now_ms)" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

stop_peer() { # PID [TIMEOUT_S]: SIGTERM, wait, SIGKILL if needed
  local pid=$1 t=${2:-10} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq $(( t * 100 ))); do _alive "$pid" || break; sleep 0.01; done
  if _alive "$pid"; then kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null || true
  return 0
}

start_pushgateway() { # [extra flags...]
  local d; d=$(mktemp -d "$T/pgw.XXXX")
  prometheus-pushgateway --web.listen-address=127.0.0.1:0 --persistence.file= "$@" >"$d/log" 2>&1 &
  PEER_PID=$!; PEER_DIR=$d; _PIDS="$_PIDS $PEER_PID"
  PEER_PORT=$(_port_from_log "$d/log" $PEER_PID 10) || { cat "$d/log" >&2; fail "pushgateway did not start"; }
}

start_node_exporter() { # TEXTFILE_DIR [extra flags...]
  local tf=$1; shift; local d; d=$(mktemp -d "$T/ne.XXXX")
  prometheus-node-exporter --web.listen-address=127.0.0.1:0 \
    --collector.disable-defaults --collector.textfile --collector.textfile.directory="$tf" \
    "$@" >"$d/log" 2>&1 &
  PEER_PID=$!; PEER_DIR=$d; _PIDS="$_PIDS $PEER_PID"
  PEER_PORT=$(_port_from_log "$d/log" $PEER_PID 10) || { cat "$d/log" >&2; fail "node_exporter did not start"; }
}

# make_test_pki DIR: a test CA (ca.crt/ca.key), a server certificate for
# 127.0.0.1 and localhost (server.crt/server.key) and a client certificate
# (client.crt/client.key), all from that CA. Fails the test on error.
make_test_pki() {
  local dir=$1; mkdir -p "$dir"
  ( cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=emp-test-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=emp-client
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext
  ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; fail "openssl: test certificates"; }
}

# start_prometheus SCRAPE_TARGET(host:port or "") [RULE_FILE...]
# PROM_FLAGS: extra flags (e.g. --web.enable-remote-write-receiver).
start_prometheus() {
  local tgt=$1; shift; local d; d=$(mktemp -d "$T/prom.XXXX")
  { printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    if [ $# -gt 0 ]; then printf 'rule_files:\n'; for r in "$@"; do printf '  - "%s"\n' "$r"; done; fi
    if [ -n "$tgt" ]; then
      printf 'scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n'
      printf '    static_configs:\n      - targets: ["%s"]\n' "$tgt"
    fi; } >"$d/prometheus.yml"
  prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
    --web.listen-address=127.0.0.1:0 --web.enable-lifecycle ${PROM_FLAGS:-} >"$d/log" 2>&1 &
  PEER_PID=$!; PEER_DIR=$d; _PIDS="$_PIDS $PEER_PID"
  PEER_PORT=$(_port_from_log "$d/log" $PEER_PID 20) || { cat "$d/log" >&2; fail "prometheus did not start"; }
}

start_victoria_metrics() { # [extra flags...]
  local d; d=$(mktemp -d "$T/vm.XXXX")
  victoria-metrics -httpListenAddr=127.0.0.1:0 -storageDataPath="$d/data" -retentionPeriod=1d \
    -search.latencyOffset=0s "$@" >"$d/log" 2>&1 &
  PEER_PID=$!; PEER_DIR=$d; _PIDS="$_PIDS $PEER_PID"
  PEER_PORT=$(_port_from_ss $PEER_PID 20) || { cat "$d/log" >&2; fail "victoria-metrics did not start"; }
}

# start_fake_metadata TASK_JSON STATS_JSON [--advance] [--port N]
# Paths may be relative to tests/fixtures. Sets META_URL too.
start_fake_metadata() {
  local task=$1 stats=$2; shift 2
  [ -f "$task" ] || task=$FIXTURES/$task
  [ -f "$stats" ] || stats=$FIXTURES/$stats
  local d; d=$(mktemp -d "$T/meta.XXXX")
  python3 "$EMP_SRC/tests/fake_metadata.py" --task "$task" --stats "$stats" --port-file "$d/port" "$@" >"$d/log" 2>&1 &
  PEER_PID=$!; PEER_DIR=$d; _PIDS="$_PIDS $PEER_PID"
  local i
  for i in $(seq 500); do [ -s "$d/port" ] && break; _alive $PEER_PID || break; sleep 0.01; done
  [ -s "$d/port" ] || { cat "$d/log" >&2; fail "fake metadata endpoint did not start"; }
  PEER_PORT=$(cat "$d/port")
  META_URL=http://127.0.0.1:$PEER_PORT/v4/fake
}

# meta_control PORT JSON: change the fake endpoint's behaviour.
meta_control() {
  curl -sf -X POST --data-binary "$2" "http://127.0.0.1:$1/_control" >/dev/null || fail "meta_control $2"
}

# start_pusher LOGFILE [flags...]: the binary in the background (loop mode);
# sets PUSHER_PID. The EXIT trap stops it.
start_pusher() {
  local log=$1; shift
  "$EMP_BIN" "$@" >"$log" 2>&1 &
  PUSHER_PID=$!; _PIDS="$_PIDS $PUSHER_PID"
}

# Value of one series from a Pushgateway's /api/v1/metrics:
#   pgw_value PORT METRIC 'jq filter on .labels'   e.g. '.container_name=="app"'
pgw_value() {
  curl -s "http://127.0.0.1:$1/api/v1/metrics" |
    jq -r --arg m "$2" ".data[] | .[\$m]? // empty | .metrics[] | select(.labels | $3) | .value" | head -1
}

# Value of a series in a Prometheus text exposition (file or URL output on stdin):
#   text_value 'name{labels}' < file      exact series text match up to the space
text_value() { awk -v s="$1" 'index($0, s" ") == 1 { print substr($0, length(s) + 2); exit }'; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; ok "$1 = $2"; }
