#!/bin/bash
# Retries and failures against a real Pushgateway:
#  - down at start, up 3 s later on the same port: the first cycle's retries
#    land it, without a restart of the pusher;
#  - down for good: every cycle gives up before the next one is due (no
#    pile-up: cycles stay on their schedule);
#  - a 400 (another group holds ee_container_memory_usage_byte with another
#    TYPE) is not retried, is logged once per cycle, and the loop goes on;
#  - proxies come from the standard environment variables, NO_PROXY included.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
start_fake_metadata $FIX.task.json $FIX.stats.json

# A free port: let a Pushgateway take one, then stop it.
start_pushgateway; PORT=$PEER_PORT; stop_peer $PEER_PID
api() { curl -s "http://127.0.0.1:$1/api/v1/metrics"; }
pgw_num() { api "$1" | jq -r --arg m "$2" ".data[] | .[\$m]? // empty | .metrics[] | select(.labels | $3) | .value | tonumber" | head -1; }

# 1. Down at start, up 3 s later.
start_pusher "$T/late.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PORT" \
  --interval=10s --interval.jitter=0s --log.level=debug
sleep 3
prometheus-pushgateway --web.listen-address=127.0.0.1:$PORT --persistence.file= >"$T/pgw-late.log" 2>&1 &
LATE=$!; _PIDS="$_PIDS $LATE"
wait_ready "http://127.0.0.1:$PORT/-/ready" 10 || { cat "$T/pgw-late.log"; fail "Pushgateway did not come up on :$PORT"; }
pushed() { grep -q 'msg="pushed"' "$1"; }
wait_for 10 pushed "$T/late.log" || { cat "$T/late.log"; fail "never landed after the Pushgateway came up"; }
attempts=$(sed -n 's/.*msg="pushed".* attempts=\([0-9]*\).*/\1/p' "$T/late.log" | head -1)
[ "$attempts" -ge 3 ] || fail "landed after only $attempts attempts"
ok "down at start, up 3 s later: landed in the first cycle after $attempts attempts, same process"
assert_eq "no failed cycle" 0 "$(grep -c 'msg="delivery failed"' "$T/late.log")"
assert_eq "the value" 84111360 "$(pgw_num $PORT ee_container_memory_usage_byte '.container_name=="ecs-exporter"')"
grep -q 'Couldn.t connect to server' "$T/late.log" || fail "no retry log with the cause"
ok "each retry logged at debug with its cause"
stop_peer $PUSHER_PID

# 2. The same Pushgateway gone for good: every 2 s cycle gives up in time.
stop_peer $LATE
start_pusher "$T/down.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PORT" \
  --interval=2s --interval.jitter=0s
sleep 7.2
kill -KILL $PUSHER_PID; wait $PUSHER_PID 2>/dev/null  # not a shutdown test: no final cycle
fails=$(grep -c 'msg="delivery failed"' "$T/down.log")
[ "$fails" -ge 3 ] && [ "$fails" -le 4 ] || { cat "$T/down.log"; fail "$fails failed cycles in 7 s at a 2 s interval"; }
grep -q 'gave up after [0-9]* attempts: the next cycle is due' "$T/down.log" || { cat "$T/down.log"; fail "no give-up cause"; }
ok "Pushgateway down: $fails cycles in 7 s, each gave up before the next was due"

# 3. A 400 that no retry can fix: logged once per cycle, loop goes on.
start_pushgateway; PGW=$PEER_PORT
printf '# TYPE ee_container_memory_usage_byte counter\nee_container_memory_usage_byte{x="1"} 1\n' |
  curl -sf -X PUT --data-binary @- "http://127.0.0.1:$PGW/metrics/job/other" || fail "could not plant the conflict"
start_pusher "$T/400.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --interval=1s --interval.jitter=0s --log.level=debug
failed3() { [ "$(grep -c 'msg="delivery failed"' "$T/400.log")" -ge 3 ]; }
wait_for 10 failed3 || { cat "$T/400.log"; fail "no 3 failed cycles"; }
line=$(grep -m1 'msg="delivery failed"' "$T/400.log")
grep -q 'err="PUT http://127.0.0.1:[0-9]*/metrics/job/ecs/.*: HTTP 400: pushed metrics are invalid or inconsistent with existing metrics' <<<"$line" ||
  fail "unclear 400 error: $line"
ok "400 logged with the Pushgateway's text: ${line#*err=}"
msg=$(sed -n 's/.*: HTTP 400: \(.*\)"$/\1/p' <<<"$line")
msg=${msg//\\\"/\"}  # logfmt escapes quotes; measure the text itself
[ "${#msg}" -le 520 ] || fail "the Pushgateway's text is not truncated (${#msg} bytes)"
ok "the Pushgateway's text is cut to ${#msg} bytes"
assert_eq "400 is not retried" 0 "$(grep -c retrying "$T/400.log")"
curl -sf -X DELETE "http://127.0.0.1:$PGW/metrics/job/other" >/dev/null
landed() { [ -n "$(pgw_num $PGW ee_ecs_metrics_exporter_success 'true')" ]; }
wait_for 10 landed || { cat "$T/400.log"; fail "the loop did not recover once the conflict was gone"; }
errors=$(pgw_num $PGW ee_ecs_metrics_exporter_push_errors_total '.sink=="pushgateway"')
[ "$errors" -ge 3 ] || fail "push_errors_total{sink=pushgateway} = $errors"
ok "the loop went on and landed once the conflict was gone; push_errors_total = $errors"
stop_peer $PUSHER_PID

# 4. Proxies from the environment: a dead HTTP_PROXY is used; NO_PROXY bypasses it.
rc=0; env -u http_proxy HTTP_PROXY=http://127.0.0.1:1 NO_PROXY= no_proxy= "$EMP_BIN" --once --interval=1s --metadata.url="$META_URL" \
  --pushgateway.url="http://127.0.0.1:$PGW" --pushgateway.grouping-label=via=proxy >"$T/proxy.log" 2>&1 || rc=$?
assert_eq "HTTP_PROXY (dead) is used: exit code" 4 $rc
grep -q 'port 1 ' "$T/proxy.log" || { cat "$T/proxy.log"; fail "the proxy was not tried"; }
ok "HTTP_PROXY honoured: $(grep -o 'err="[^"]*' "$T/proxy.log" | head -1)"
rc=0; env -u http_proxy HTTP_PROXY=http://127.0.0.1:1 NO_PROXY=127.0.0.1 "$EMP_BIN" --once --metadata.url="$META_URL" \
  --pushgateway.url="http://127.0.0.1:$PGW" --pushgateway.grouping-label=via=noproxy >"$T/noproxy.log" 2>&1 || rc=$?
assert_eq "NO_PROXY bypasses it: exit code" 0 $rc
