#!/bin/bash
# Grouping keys against a real Pushgateway: values with '/', spaces,
# non-ASCII, '%', dots and empty strings land as the exact label values (sent
# as @base64); bad keys (invalid UTF-8, reserved or colliding names) are
# refused at start-up, before any byte is sent, and the Pushgateway stays
# healthy; DELETE of such a group works (--delete-on-exit).
. "$(dirname "$0")/lib.sh"
# These cases check the loop's grouping key through --once runs; --once alone
# groups by task family (tests/stale_data.sh covers that).
export ECS_METRICS_PUSHER_PUSHGATEWAY_GROUPING_LABELS=task_family,task_revision,task_id

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
FAMILY='web app/v2 ☃'   # a task family the test gives the capture, with '/', space, non-ASCII
jq --arg f "$FAMILY" '.Family = $f' "$FIXTURES/$FIX.task.json" >"$T/odd.task.json"

start_pushgateway; PGW=$PEER_PORT
start_fake_metadata "$T/odd.task.json" $FIX.stats.json; META=$PEER_PORT
api() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics"; }
group_count() { api | jq '.data | length'; }
metrics_status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PGW/metrics"; }

# 1. Odd values land exactly.
"$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW/" \
  --pushgateway.job='ecs tasks/prod' \
  --pushgateway.grouping-label='path=/var/tmp' --pushgateway.grouping-label='spaced=a b' \
  --pushgateway.grouping-label='accent=été' --pushgateway.grouping-label='empty=' \
  --pushgateway.grouping-label='pct=a%2Fb' --pushgateway.grouping-label='dot=.' --pushgateway.grouping-label='dots=..' \
  --log.level=debug >"$T/odd.log" 2>&1 || { cat "$T/odd.log"; fail "push with odd values failed"; }
labels=$(api | jq -c '.data[0].labels')
assert_eq "job" 'ecs tasks/prod' "$(jq -r .job <<<"$labels")"
assert_eq "task_family" "$FAMILY" "$(jq -r .task_family <<<"$labels")"
assert_eq "path" /var/tmp "$(jq -r .path <<<"$labels")"
assert_eq "spaced" 'a b' "$(jq -r .spaced <<<"$labels")"
assert_eq "accent" été "$(jq -r .accent <<<"$labels")"
assert_eq "empty (present, empty)" '""' "$(jq -c .empty <<<"$labels")"
assert_eq "pct (not decoded)" 'a%2Fb' "$(jq -r .pct <<<"$labels")"
assert_eq "dot" . "$(jq -r .dot <<<"$labels")"
assert_eq "dots" .. "$(jq -r .dots <<<"$labels")"
assert_eq "task_id" $TASK_ID "$(jq -r .task_id <<<"$labels")"
assert_eq "one group" 1 "$(group_count)"
assert_eq "series carry the odd family" "$FAMILY" \
  "$(api | jq -r '.data[0].ee_ecs_metrics_exporter_success.metrics[0].labels.task_family')"
grep -q 'url=.*/metrics/job@base64/ZWNzIHRhc2tzL3Byb2Q/task_family@base64/' "$T/odd.log" || fail "no @base64 in the URL"
ok "values outside [A-Za-z0-9._~-] are sent as @base64"
assert_eq "GET /metrics" 200 "$(metrics_status)"

# 2. Bad keys are refused before sending: exit 2, one clear line, nothing pushed.
refused() { # WHAT EXPECTED_TEXT [env...] -- [flags...]
  local what=$1 want=$2; shift 2
  local envs=() ; while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  local rc=0
  env "${envs[@]}" "$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" "$@" \
    >"$T/refused.log" 2>&1 || rc=$?
  [ $rc = 2 ] || { cat "$T/refused.log"; fail "$what: exit $rc, expected 2"; }
  grep -qF -- "$want" "$T/refused.log" || { cat "$T/refused.log"; fail "$what: no '$want' in the error"; }
  [ "$(wc -l <"$T/refused.log")" = 1 ] || { cat "$T/refused.log"; fail "$what: more than one line"; }
  ok "$what refused: $(cat "$T/refused.log")"
}
meta_requests() { curl -s "http://127.0.0.1:$META/_control" | jq .task_requests; }
before=$(meta_requests)
refused "invalid UTF-8 value (environment)" 'is not valid UTF-8 ("\xfb\xff")' \
  "ECS_METRICS_PUSHER_PUSHGATEWAY_GROUPING_LABEL=k2=$(printf '\xfb\xff')" --
refused "invalid UTF-8 value (flag)" 'is not valid UTF-8' -- --pushgateway.grouping-label="k=ok$(printf '\xc3')"
refused "invalid UTF-8 job" 'the job' -- --pushgateway.job="$(printf 'j\xed\xa0\x80')"
refused "reserved label name" '"__x" is not a valid label name' -- --pushgateway.grouping-label=__x=1
refused "bad label name" '"0bad" is not a valid label name' -- --pushgateway.grouping-label=0bad=1
refused "job as a grouping label" 'only be set as the job' -- --pushgateway.grouping-label=job=other
refused "label twice" '"task_id" appears twice' -- --pushgateway.grouping-label=task_id=x
refused "a body label as grouping label" '"container_name" is a label of the pushed series' -- \
  --pushgateway.grouping-label=container_name=x
refused "credentials in the URL" 'user name or password in the URL' -- --pushgateway.url="http://u:hunter2secret@127.0.0.1:$PGW"
grep -q hunter2secret "$T/refused.log" && fail "the URL's password was printed"
assert_eq "no metadata read by refused runs" "$before" "$(meta_requests)"
assert_eq "still one group" 1 "$(group_count)"
assert_eq "GET /metrics after the refusals" 200 "$(metrics_status)"

# 3. A task whose identity is unknown is never pushed (no /task yet): clear error.
meta_control $META '{"mode": "status:503"}'
rc=0; "$EMP_BIN" --once --startup.retry-timeout=0s --metadata.url="$META_URL" \
  --pushgateway.url="http://127.0.0.1:$PGW" >"$T/unknown.log" 2>&1 || rc=$?
[ $rc != 0 ] || fail "--once with no metadata exited 0"
grep -q 'sink=pushgateway err="task identity not known yet' "$T/unknown.log" || { cat "$T/unknown.log"; fail "no clear error"; }
assert_eq "groups after a push without identity" 1 "$(group_count)"
ok "no push without the task identity (exit $rc)"
meta_control $META '{"mode": "ok"}'

# 4. DELETE of a group whose key needs @base64 (--delete-on-exit).
start_pusher "$T/loop.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --pushgateway.job='ecs tasks/prod' --pushgateway.grouping-label='empty=' --interval=1s --interval.jitter=0s --delete-on-exit
two_groups() { [ "$(group_count)" = 2 ]; }
wait_for 10 two_groups || { cat "$T/loop.log"; fail "loop did not push"; }
kill -TERM $PUSHER_PID; wait $PUSHER_PID
assert_eq "group with @base64 key deleted on exit; the other stays" 1 "$(group_count)"
assert_eq "GET /metrics at the end" 200 "$(metrics_status)"
