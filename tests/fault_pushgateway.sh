#!/bin/bash
# Fault injection on the Pushgateway sink, against a real Pushgateway (issue 7).
# The pusher runs in loop mode with both sinks, so the textfile shows the
# exporter's own counters while the Pushgateway is failing. Faults: the
# Pushgateway is down and comes back (same port), answers 400 (another group
# holds one of our metric names with another TYPE), answers 401 (basic auth,
# wrong password), answers slower than the timeout (the process is SIGSTOPped:
# the kernel still accepts the connection, nothing answers), and its TLS
# certificate is not trusted. For every fault:
#  - the process keeps running, a SIGHUP during the fault is ignored;
#  - each failed cycle logs one "delivery failed" sink=pushgateway line naming the cause;
#  - the textfile still lands every cycle (one sink's failure does not stop the other),
#    with success 1 and push_errors_total{sink="pushgateway"} counting the failures;
#  - after the repair the next push lands, carrying the same counter.
# SIGTERM during each fault exits 0 within the shutdown timeout; --once exits
# 5 (textfile ok, Pushgateway failed) and 4 (Pushgateway the only sink).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
command -v openssl >/dev/null || skip "openssl missing"
command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) missing"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_fake_metadata $FIX.task.json $FIX.stats.json --advance
D=$T/textfile; mkdir -p "$D"; F=$D/ecs_$TASK_ID.prom
PUSH_ERRORS='ee_ecs_metrics_exporter_push_errors_total{sink="pushgateway"'
TEXT_ERRORS='ee_ecs_metrics_exporter_push_errors_total{sink="textfile"'
SUCCESS=ee_ecs_metrics_exporter_success

# TLS material and an auth config for the 401 and untrusted-certificate cases.
TLS=$T/tls; mkdir -p "$TLS"
( cd "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 ) >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; fail openssl; }
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$TLS/server.crt" "$TLS/server.key" >"$TLS/tls.yml"
printf 'basic_auth_users:\n  tester: %s\n' "'$(htpasswd -nbBC 10 tester right-pw-3c1 | cut -d: -f2)'" >"$TLS/auth.yml"
printf 'wrong-pw-9d2\n' >"$TLS/wrong"

start_pushgateway --web.enable-admin-api; PGW_PID=$PEER_PID PGW=$PEER_PORT
COMMON=(--delete-on-exit=false --metadata.url="$META_URL" --textfile.directory="$D" --interval=500ms --interval.jitter=0s
        --pushgateway.timeout=200ms --pushgateway.connect-timeout=200ms --shutdown-timeout=3s)

restart_pgw() { # [flags...]: a new Pushgateway on the same port
  stop_peer "$PGW_PID"
  local d; d=$(mktemp -d "$T/pgw.XXXX"); : >"$d/log"
  prometheus-pushgateway --web.listen-address=127.0.0.1:$PGW --persistence.file= --web.enable-admin-api "$@" \
    >"$d/log" 2>&1 &
  PGW_PID=$!; _PIDS="$_PIDS $PGW_PID"
  _port_from_log "$d/log" $PGW_PID 10 >/dev/null || { cat "$d/log" >&2; fail "pushgateway did not restart"; }
}
pgw_errors() { pgw_value "$PGW" ee_ecs_metrics_exporter_push_errors_total '.sink=="pushgateway"'; }
pgw_success_is() { [ "$(pgw_value "$PGW" $SUCCESS 'true')" = "$1" ]; }
pgw_errors_at_least() { local v; v=$(pgw_errors); [ -n "$v" ] && [ "${v%.*}" -ge "$1" ]; }

start_pusher "$T/pusher.log" "${COMMON[@]}" --pushgateway.url="http://127.0.0.1:$PGW"
P=$PUSHER_PID LOG=$T/pusher.log
wait_for 10 pgw_success_is 1 || { cat "$LOG"; fail "first push"; }
ok "first push landed"

# pgw_case NAME BREAK REPAIR CAUSE_ERE
pgw_case() {
  local name=$1 break_cmd=$2 repair_cmd=$3 cause=$4
  local before; before=$(series_value "$F" "$PUSH_ERRORS")
  local lines0; lines0=$(count_lines "$LOG" "msg=\"delivery failed\" sink=pushgateway err=\".*($cause)")
  eval "$break_cmd"
  wait_for 15 series_at_least "$F" "$PUSH_ERRORS" $((before + 2)) || { tail -5 "$LOG"; fail "$name: no failures counted"; }
  local lines; lines=$(count_lines "$LOG" "msg=\"delivery failed\" sink=pushgateway err=\".*($cause)")
  [ $((lines - lines0)) -ge 2 ] || { tail -5 "$LOG"; fail "$name: error lines do not name /$cause/"; }
  ok "$name: 'delivery failed' sink=pushgateway naming /$cause/ each cycle"
  assert_eq "$name: textfile still delivered, success" 1 "$(series_value "$F" $SUCCESS)"
  assert_eq "$name: textfile sink errors" 0 "$(series_value "$F" "$TEXT_ERRORS")"
  assert_whole_file "$F" "$name"
  assert_no_tmp "$D" "$name"
  kill -HUP "$P"; sleep 0.1
  assert_alive "$P" "$name (after SIGHUP)"
  eval "$repair_cmd"
  local failed; failed=$(count_lines "$LOG" "msg=\"delivery failed\" sink=pushgateway")
  wait_for 15 pgw_errors_at_least "$failed" || { tail -5 "$LOG"; fail "$name: did not recover"; }
  ok "$name: recovered; the Pushgateway shows push_errors_total{sink=pushgateway} = $(pgw_errors) (>= $failed lines logged)"
  assert_eq "$name: success at the Pushgateway" 1 "$(pgw_value "$PGW" $SUCCESS 'true')"
}

pgw_case down 'stop_peer "$PGW_PID"' 'restart_pgw' 'Connection refused|Couldn.t connect|Failed to connect'

# 400: another group holds ee_container_memory_usage_byte as a counter.
# The Pushgateway refuses the clash while our group holds the name as a gauge,
# so wipe everything (admin API) and push the clash before our next push.
clash() {
  local i
  for i in $(seq 20); do
    curl -sf -X PUT "http://127.0.0.1:$PGW/api/v1/admin/wipe" || fail "wipe"
    printf '# TYPE ee_container_memory_usage_byte counter\nee_container_memory_usage_byte 1\n' |
      curl -sf --data-binary @- "http://127.0.0.1:$PGW/metrics/job/clash" && return 0
  done
  fail "could not push the clash group"
}
pgw_case http400 'clash' 'curl -sf -X DELETE "http://127.0.0.1:$PGW/metrics/job/clash"' 'HTTP 400'

pgw_case http401 'restart_pgw --web.config.file="$TLS/auth.yml"' 'restart_pgw' 'HTTP 401'

pgw_case slow 'kill -STOP "$PGW_PID"' 'kill -CONT "$PGW_PID"' '[Tt]imed? ?out'

kill -TERM "$P"; wait_exit "$P" 5 "SIGTERM"
assert_eq "SIGTERM: exit code" 0 "$EXIT_CODE"
logged=$(count_lines "$LOG" 'msg="delivery failed" sink=pushgateway')
assert_eq "every error line is a Pushgateway delivery failure" "$logged" "$(count_lines "$LOG" 'level=error')"
assert_eq "final textfile counts every failure" "$logged" "$(series_value "$F" "$PUSH_ERRORS")"

# The TLS certificate is not trusted (no --pushgateway.ca-file): refused, the
# textfile still lands; --once says "some sinks failed" (5).
restart_pgw --web.config.file="$TLS/tls.yml"
rm -f "$F"  # a new process: its counters start again at 0
# 2 s cycles: a TLS handshake on a loaded 2-core machine can take longer than a
# 500 ms cycle allows. A 10 s shutdown budget: under ASan on a loaded machine
# the final push's TLS attempt overran 3 s (exit 6); this case is about the
# refusal, the shutdown deadline has its own tests (lifecycle_signals).
start_pusher "$T/tls.log" "${COMMON[@]}" --interval=2s --shutdown-timeout=10s --pushgateway.url="https://127.0.0.1:$PGW"
wait_for 15 series_at_least "$F" "$PUSH_ERRORS" 2 || { cat "$T/tls.log"; fail "untrusted TLS: no failures counted"; }
# Under load the first attempts may time out before the handshake fails on
# the certificate: wait for two lines that name it.
cert_lines() { [ "$(count_lines "$T/tls.log" 'msg="delivery failed" sink=pushgateway err=".*(SSL certificate|self.signed|certificate)')" -ge 2 ]; }
wait_for 30 cert_lines || { tail -3 "$T/tls.log"; fail "untrusted TLS: cause not named"; }
ok "untrusted TLS: refused each cycle with a certificate error"
assert_eq "untrusted TLS: textfile success" 1 "$(series_value "$F" $SUCCESS)"
[ "$(curl -sk "https://127.0.0.1:$PGW/api/v1/metrics" | jq '.data | length')" = 0 ] || fail "untrusted TLS: something landed"
ok "untrusted TLS: nothing was pushed"
kill -TERM "$PUSHER_PID"; wait_exit "$PUSHER_PID" 15 "untrusted TLS SIGTERM"
[ "$EXIT_CODE" = 0 ] || tail -5 "$T/tls.log"
assert_eq "untrusted TLS: SIGTERM exit code" 0 "$EXIT_CODE"
"$EMP_BIN" --once "${COMMON[@]}" --pushgateway.url="https://127.0.0.1:$PGW" >"$T/once.log" 2>&1
assert_eq "untrusted TLS: --once exit code (some sinks failed)" 5 "$?"
"$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="https://127.0.0.1:$PGW" >"$T/once.log" 2>&1
assert_eq "untrusted TLS: --once, Pushgateway only (all sinks failed)" 4 "$?"

# SIGTERM during each fault: exit 0 within the shutdown timeout (3 s).
restart_pgw
for fault in down slow http401; do
  start_pusher "$T/sig-$fault.log" "${COMMON[@]}" --pushgateway.url="http://127.0.0.1:$PGW"
  sleep 1.2  # a few good cycles
  case $fault in
    down) stop_peer "$PGW_PID" ;;
    slow) kill -STOP "$PGW_PID" ;;
    http401) restart_pgw --web.config.file="$TLS/auth.yml" ;;
  esac
  sleep 1.2
  assert_clean_stop "$PUSHER_PID" "$F" "$D" "SIGTERM during Pushgateway $fault"
  case $fault in
    slow) kill -CONT "$PGW_PID" ;;
    *) restart_pgw ;;
  esac
done
