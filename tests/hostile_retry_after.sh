#!/bin/bash
# Issue 13 item 1: a Pushgateway answering 503 (or 429) with a far-future
# Retry-After — an HTTP date in year 9999, 2^63-1 seconds, a huge number, a
# negative one — never makes the pusher sleep past its cycle: cycles keep
# their schedule, each logs one "delivery failed" line, SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
stats_requests() { curl -s "http://127.0.0.1:$META/_control" | jq .stats_requests; }
requests_at_least() { [ "$(stats_requests)" -ge "$1" ]; }
failures_at_least() { [ "$(grep -c 'msg="delivery failed" sink=pushgateway' "$1")" -ge "$2" ]; }

i=0
for spec in "503|Fri, 31 Dec 9999 23:59:59 GMT" "503|9223372036854775807" "429|99999999999999999999999" \
            "503|-5" "429|Thu, 01 Jan 1970 00:00:00 GMT" "503|3600"; do
  i=$((i + 1)); status=${spec%%|*} value=${spec#*|}
  d=$T/peer$i; mkdir -p "$d"
  python3 "$EMP_SRC/tests/hostile_peer.py" --port-file "$d/port" --requests-file "$d/requests" \
    --status "$status" --retry-after "$value" &
  _PIDS="$_PIDS $!"
  wait_for 10 test -s "$d/port" || fail "hostile peer did not start"
  # A 3 s shutdown budget: with 1 s, the final delete's retries against the 503
  # overran it once under ASan at load 8 on 2 cores (exit 6). Any Retry-After
  # obeyed here would still overrun 3 s by far.
  start_pusher "$d/log" --metadata.url="$META_URL" --interval=300ms --interval.jitter=0 \
    --pushgateway.url="http://127.0.0.1:$(cat "$d/port")" --pushgateway.timeout=1s --shutdown-timeout=3s
  P=$PUSHER_PID
  n=$(stats_requests)
  # Three more cycles: the schedule holds whatever the header said.
  wait_for 30 requests_at_least $((n + 3)) || { cat "$d/log"; fail "$status Retry-After '$value': cycles stopped"; }
  wait_for 30 failures_at_least "$d/log" 2 || { cat "$d/log"; fail "$status Retry-After '$value': no failure lines"; }
  _alive $P || fail "$status Retry-After '$value': the process died"
  kill -TERM $P; wait $P; rc=$?
  assert_eq "$status Retry-After '$value': exit code after SIGTERM (0: within the shutdown budget)" 0 "$rc"
  cycles=$(grep -c 'msg="delivery failed" sink=pushgateway' "$d/log")
  # One line per cycle: as many lines as cycles that pushed (the final one included).
  [ "$cycles" -le $(( $(stats_requests) - n + 2 )) ] || fail "more failure lines ($cycles) than cycles"
  grep 'msg="delivery failed"' "$d/log" | head -1 | grep -q "HTTP $status" || fail "the failure line does not name HTTP $status"
  ok "$status Retry-After '$value': $cycles cycles, one failure line each, requests $(wc -l <"$d/requests")"
done
echo "all Retry-After checks passed"
