#!/bin/bash
# `ecs-metrics-pusher prune` against a real Pushgateway and an EC2-style shared
# textfile directory: after SIGKILLed pushers, one `prune --once` removes
# exactly their groups and files; another job's group, the live tasks' groups
# and every file that is not ours stay; --dry-run removes nothing; groups whose
# keys need @base64 or that only ever failed are removed by their exact key;
# sum(ee_task_cpu_limit) afterwards is the live fleet's; loop mode and the
# janitor's own metrics; the scheduled-task definition's environment works.
. "$(dirname "$0")/lib.sh"

FIX=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
# The capture's task has Limits.CPU 0.25 (jq .Limits.CPU): every task below
# is that task under another id.
assert_eq "fixture task CPU limit" 0.25 "$(jq .Limits.CPU "$FIX.task.json")"
DEAD="dead0000000000000000000000000001 dead0000000000000000000000000002 dead0000000000000000000000000003"
LIVE="11fe0000000000000000000000000001 11fe0000000000000000000000000002"

start_pushgateway; PGW=$PEER_PORT
B=http://127.0.0.1:$PGW
TF=$T/tf; mkdir -p "$TF"
api() { curl -s "$B/api/v1/metrics"; }
# group_ids: the task_id of every job="ecs" group, sorted, space-separated.
group_ids() { api | jq -r '[.data[] | select(.labels.job=="ecs") | .labels.task_id // ("{" + (.labels|to_entries|map(.key+"="+.value)|join(",")) + "}")] | sort | join(" ")'; }
groups_are() { [ "$(group_ids)" = "$1" ]; }  # for wait_for: evaluated on each try
cpu_sum() { api | jq '[.data[] | .ee_task_cpu_limit.metrics[]?.value | tonumber] | add // 0'; }
# Regular files only: a FIFO among them would block cat (as it blocks a careless janitor).
textfile_cpu_sum() { find "$TF" -maxdepth 1 -type f -name 'ecs_*.prom' -exec cat {} + | awk '/^ee_task_cpu_limit\{/ { s += $NF } END { print s + 0 }'; }
prune() { "$EMP_BIN" prune --pushgateway.url="$B" --textfile.directory="$TF" "$@"; }

declare -A PID_OF
for id in $DEAD $LIVE; do
  jq --arg arn "arn:aws:ecs:us-east-1:829490980523:task/prom-ecs-exporter-sandbox/$id" '.TaskARN = $arn' \
    "$FIX.task.json" >"$T/$id.task.json"
  start_pusher "$T/$id.log" --metadata.task-file="$T/$id.task.json" --metadata.stats-file="$FIX.stats.json" \
    --interval=200ms --pushgateway.url="$B" --textfile.directory="$TF"
  PID_OF[$id]=$PUSHER_PID
done
all_ids=$(echo $DEAD $LIVE | tr ' ' '\n' | sort | tr '\n' ' '); all_ids=${all_ids% }
wait_for 20 groups_are "$all_ids" || fail "the 5 pushers did not all push: $(group_ids)"
for id in $DEAD $LIVE; do wait_for 10 test -f "$TF/ecs_$id.prom" || fail "no textfile for $id"; done
assert_eq "sum(ee_task_cpu_limit) with 5 tasks (5 × 0.25)" 1.25 "$(cpu_sum)"
assert_eq "textfiles: sum of ee_task_cpu_limit with 5 tasks" 1.25 "$(textfile_cpu_sum)"

# Groups made by hand: another job (old, never ours), a key whose value needs
# @base64 and an empty value, and a group that only ever saw a failed push
# (the Pushgateway keeps it with push_time_seconds 0).
printf 'other_metric 1\n' | curl -sf -X PUT --data-binary @- "$B/metrics/job/other/task_id/x" || fail "push other job"
printf 'hand_metric 1\n' | curl -sf -X PUT --data-binary @- \
  "$B/metrics/job/ecs/path@base64/$(printf /var/x | base64 | tr '+/' '-_' | tr -d =)/instance@base64/=" || fail "push base64 group"
code=$(printf '# TYPE ee_task_cpu_limit counter\nee_task_cpu_limit 9\n' |
  curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$B/metrics/job/ecs/task_id/failedonly")
assert_eq "a push with a conflicting type is refused" 400 "$code"
assert_eq "the refused push left a group with push_time_seconds 0" 0 \
  "$(api | jq -r '.data[] | select(.labels.task_id=="failedonly") | .push_time_seconds.metrics[0].value')"

# Files in the shared directory that are not ours, all older than any threshold.
printf 'node_custom_metric 1\n' >"$TF/node_custom.prom"
printf 'not_ours 1\n' >"$TF/ecs_0123456789abcdef.prom"          # our name, not our content
cp "$TF/ecs_dead0000000000000000000000000001.prom" "$T/outside.prom"
ln -s "$T/outside.prom" "$TF/ecs_5e11000000000000000000000000000a.prom"  # a link to a file of ours
mkfifo "$TF/ecs_f1f0000000000000000000000000000a.prom"
# A temporary file of ours left by a kill in mid-write.
cp "$TF/ecs_dead0000000000000000000000000001.prom" "$TF/.ecs_dead0000000000000000000000000001.prom.4242.tmp"
touch -h -d '1 hour ago' "$TF/node_custom.prom" "$TF/ecs_0123456789abcdef.prom" "$T/outside.prom" \
  "$TF/ecs_5e11000000000000000000000000000a.prom" "$TF/ecs_f1f0000000000000000000000000000a.prom" \
  "$TF/.ecs_dead0000000000000000000000000001.prom.4242.tmp"
foreign_state() { (cd "$TF" && stat -c '%n %F %i %Y %s' node_custom.prom ecs_0123456789abcdef.prom \
  ecs_5e11000000000000000000000000000a.prom ecs_f1f0000000000000000000000000000a.prom; stat -L -c '%i %Y %s' \
  ecs_5e11000000000000000000000000000a.prom; md5sum node_custom.prom ecs_0123456789abcdef.prom "$T/outside.prom"); }
foreign_before=$(foreign_state)

# SIGKILL three pushers: nothing of theirs is cleaned up.
for id in $DEAD; do kill -KILL "${PID_OF[$id]}"; wait "${PID_OF[$id]}" 2>/dev/null; done
ok "SIGKILLed the pushers of $(echo $DEAD | wc -w) tasks"

# (c) --dry-run, repeated until the killed tasks' groups are older than 2 s:
# it logs what it would remove and removes nothing.
would_remove() {
  prune --once --dry-run --prune.older-than=2s >"$T/dry.log" 2>&1 || return 1
  [ "$(grep -c 'msg="would remove stale group (dry run)"' "$T/dry.log")" = 5 ] &&
    [ "$(grep -c 'msg="would remove stale textfile (dry run)"' "$T/dry.log")" = 4 ]
}
wait_for 30 would_remove || { cat "$T/dry.log"; fail "dry run never saw the 5 stale groups and 4 stale files"; }
for id in $DEAD; do
  grep -q "msg=\"would remove stale group (dry run)\" group=\"{.*task_id=\\\\\"$id\\\\\".*why=\"last successful push" "$T/dry.log" ||
    fail "dry run does not name $id: $(cat "$T/dry.log")"
  grep -q "msg=\"would remove stale textfile (dry run)\" file=ecs_$id.prom" "$T/dry.log" || fail "dry run does not name ecs_$id.prom"
done
grep 'would remove' "$T/dry.log" | grep -q 'task_id=\\"11fe' && fail "dry run would remove a live task's group"
assert_eq "after --dry-run: every group still there" "$(echo "$all_ids failedonly {instance=,job=ecs,path=/var/x}" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$(group_ids)"
for id in $DEAD; do [ -f "$TF/ecs_$id.prom" ] || fail "--dry-run removed ecs_$id.prom"; done
assert_eq "--dry-run pushed no metrics of its own" 0 "$(api | jq '[.data[] | select(.labels.job=="ecs-prune")] | length')"
ok "--dry-run: logged 5 groups and 4 files it would remove, removed nothing"

# (a) One pass removes exactly the killed tasks' groups and the stale hand-made ones.
prune --once --prune.older-than=2s >"$T/prune.log" 2>&1; rc=$?
assert_eq "prune --once exit code" 0 "$rc"
assert_eq "groups of job ecs left: the live tasks'" "$(echo $LIVE | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$(group_ids)"
assert_eq "one 'removed stale group' line per removal" 5 "$(grep -c 'level=info msg="removed stale group"' "$T/prune.log")"
for id in $DEAD; do grep -q "msg=\"removed stale group\" group=\"{.*task_id=\\\\\"$id\\\\\"" "$T/prune.log" || fail "no removal line for $id"; done
# (d) the @base64 key and the failed-only group were removed by their exact key.
grep -q 'msg="removed stale group" group="{instance=\\"\\",job=\\"ecs\\",path=\\"/var/x\\"}"' "$T/prune.log" || fail "no removal line for the @base64 group: $(cat "$T/prune.log")"
grep -q 'msg="removed stale group" group="{job=\\"ecs\\",task_id=\\"failedonly\\"}" why="never pushed successfully' "$T/prune.log" || fail "no removal line for the failed-only group"
ok "(d) groups keyed with @base64 values (/var/x, empty instance) and a failed-only group: removed by their exact key"
# (b) another job's group and the fresh groups are untouched.
assert_eq "another job's group stays" 1 "$(api | jq '[.data[] | select(.labels.job=="other" and .labels.task_id=="x")] | length')"
assert_eq "(f) sum(ee_task_cpu_limit) over the Pushgateway's groups = the live fleet's (2 × 0.25)" 0.5 "$(cpu_sum)"
curl -sf "$B/metrics" >/dev/null || fail "the Pushgateway's /metrics fails after prune"

# (e) The shared textfile directory: the killed tasks' files and our stale
# temporary file are gone; the live tasks' files and every foreign entry stay.
for id in $DEAD; do [ ! -e "$TF/ecs_$id.prom" ] || fail "ecs_$id.prom of a killed task is still there"; done
[ ! -e "$TF/.ecs_dead0000000000000000000000000001.prom.4242.tmp" ] || fail "the stale temporary file is still there"
for id in $LIVE; do [ -f "$TF/ecs_$id.prom" ] || fail "the live task's ecs_$id.prom was removed"; done
assert_eq "foreign files, the link, its target and the FIFO: untouched" "$foreign_before" "$(foreign_state)"
assert_eq "textfiles: sum of ee_task_cpu_limit = the live fleet's" 0.5 "$(textfile_cpu_sum)"
assert_eq "textfiles left alone, each with a line" 3 "$(grep -c 'level=warn msg="left a textfile alone"' "$T/prune.log")"
grep -q 'msg="left a textfile alone" file=ecs_5e11000000000000000000000000000a.prom why="not a regular file' "$T/prune.log" || fail "no line for the link"
grep -q 'msg="left a textfile alone" file=ecs_f1f0000000000000000000000000000a.prom why="not a regular file' "$T/prune.log" || fail "no line for the FIFO"
grep -q 'msg="left a textfile alone" file=ecs_0123456789abcdef.prom why="holds no ee_ecs_metrics_exporter_\* series' "$T/prune.log" || fail "no line for the foreign file"
grep -q node_custom "$T/prune.log" && fail "a file not named like ours was even looked at"
ok "(e) killed tasks' textfiles removed; node_exporter's file, a link, a FIFO, a file with our name but not our series untouched"

# The janitor's own metrics, under job ecs-prune.
own() { api | jq -r --arg m "$1" --arg s "$2" '.data[] | select(.labels.job=="ecs-prune") | .[$m].metrics[] | select(($s == "") or .labels.sink == $s) | .value'; }
assert_eq "ee_prune_last_run_success" 1 "$(own ee_prune_last_run_success '')"
assert_eq "ee_prune_groups_removed_total{sink=pushgateway}" 5 "$(own ee_prune_groups_removed_total pushgateway)"
assert_eq "ee_prune_groups_removed_total{sink=textfile}" 4 "$(own ee_prune_groups_removed_total textfile)"
assert_eq "ee_prune_groups_kept{sink=pushgateway}" 2 "$(own ee_prune_groups_kept pushgateway)"
assert_eq "ee_prune_groups_skipped{sink=textfile}" 3 "$(own ee_prune_groups_skipped textfile)"

# The live pushers were not disturbed: their groups keep being updated.
push_time_of() { api | jq -r --arg id "$1" '.data[] | select(.labels.task_id==$id) | .push_time_seconds.metrics[0].value'; }
pushed_since() { [ "$(push_time_of "$1")" != "$2" ]; }
t0=$(push_time_of 11fe0000000000000000000000000001)
wait_for 10 pushed_since 11fe0000000000000000000000000001 "$t0" ||
  fail "the live pusher stopped pushing"
ok "live pushers keep pushing after the prune"

# A second pass finds nothing more to remove.
prune --once --prune.older-than=2s >"$T/prune2.log" 2>&1 || fail "second pass failed"
assert_eq "second pass removes nothing" 0 "$(grep -c 'msg="removed stale' "$T/prune2.log")"

# Loop mode: a pusher killed while the janitor runs is removed on a later pass;
# SIGTERM ends the janitor with 0.
"$EMP_BIN" prune --pushgateway.url="$B" --textfile.directory="$TF" --prune.older-than=2s --interval=300ms \
  >"$T/loop.log" 2>&1 &
J=$!; _PIDS="$_PIDS $J"
victim=11fe0000000000000000000000000002
kill -KILL "${PID_OF[$victim]}"; wait "${PID_OF[$victim]}" 2>/dev/null
wait_for 30 groups_are 11fe0000000000000000000000000001 || { cat "$T/loop.log"; fail "loop mode did not remove the killed task's group"; }
wait_for 10 test ! -e "$TF/ecs_$victim.prom" || fail "loop mode did not remove the killed task's textfile"
kill -TERM $J; wait $J; rc=$?
assert_eq "janitor loop exit code after SIGTERM" 0 "$rc"
assert_eq "sum(ee_task_cpu_limit) with one live task" 0.25 "$(cpu_sum)"
ok "loop mode: a task killed later is removed by a later pass"

# Bad configuration ends at once with 2 and one line.
"$EMP_BIN" prune --pushgateway.url="$B" >"$T/bad.log" 2>&1; rc=$?
assert_eq "prune without --prune.older-than: exit code" 2 "$rc"
grep -q -- '--prune.older-than: required' "$T/bad.log" || fail "no line naming --prune.older-than"
"$EMP_BIN" prune --prune.older-than=1m >"$T/bad.log" 2>&1; rc=$?
assert_eq "prune with nothing to prune: exit code" 2 "$rc"
# An unreachable Pushgateway: --once fails with 7 and removes nothing.
"$EMP_BIN" prune --once --prune.older-than=2s --pushgateway.url=http://127.0.0.1:1 --interval=1s >"$T/down.log" 2>&1; rc=$?
assert_eq "prune --once with the Pushgateway down: exit code" 7 "$rc"
grep -q "cannot read the Pushgateway's groups; removing nothing" "$T/down.log" || fail "no line for the unreachable Pushgateway"

# The scheduled-task definition: its command and environment, given to the
# real binary (only the URL redirected), run a pass that works.
D=$EMP_SRC/container/ecs/prune-scheduled.json
jq -e '.containerDefinitions[0].command[0] == "prune" and (.containerDefinitions[0].command | index("--once"))' "$D" >/dev/null ||
  fail "prune-scheduled.json: the command is not prune --once"
accepted=$("$EMP_BIN" prune --help | grep -o 'ECS_METRICS_PUSHER_[A-Z0-9_]*' | sort -u)
for n in $(jq -r '.containerDefinitions[0] | (.environment[].name, .secrets[]?.name)' "$D"); do
  echo "$accepted" | grep -qx "$n" || fail "prune-scheduled.json: $n is not in prune --help"
done
args=$(jq -r '.containerDefinitions[0].command | join(" ")' "$D")
# shellcheck disable=SC2046,SC2086
env -i PATH="$PATH" $(jq -r '.containerDefinitions[0].environment[] | "\(.name)=\(.value)"' "$D") \
  ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD=not-a-real-secret \
  "$EMP_BIN" $args --pushgateway.url="$B" >"$T/td.log" 2>&1 || fail "prune-scheduled.json environment: exit $? $(cat "$T/td.log")"
grep -q not-a-real-secret "$T/td.log" && fail "the password appears in the log"
grep -q '"msg":"pushgateway pass"' "$T/td.log" || fail "no pass in JSON logs: $(cat "$T/td.log")"
ok "prune-scheduled.json: command prune --once, every variable in prune --help, its environment runs a pass"
