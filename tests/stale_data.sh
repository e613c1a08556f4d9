#!/bin/bash
# No stale data (issue 12), against a real Pushgateway, Prometheus and node_exporter:
#  1. three rolling deployments of 5 tasks, each pusher configured like the
#     README's minimal sidecar (only the two environment variables; the interval
#     is shortened to 1 s to keep the test short), old tasks stopped by SIGTERM as
#     ECS stops them: the Pushgateway holds exactly the 5 live groups and
#     sum(ee_task_cpu_limit) in Prometheus is the live fleet's, 5 × 0.25 = 1.25;
#  2. repeated --once runs of one scheduled task family leave one group, the
#     latest run's, whose task id is a label on the series;
#  3. the task identity changes under a running pusher: the old group goes, the
#     new one starts from clean counters, one log line;
#  4. textfiles of stopped tasks in an EC2-style shared directory are removed,
#     and node_exporter serves only the live tasks.
# The task bodies are the Fargate capture of tests/fixtures/ecs_exporter with the
# TaskARN's last segment replaced (one synthetic task id per simulated task).
. "$(dirname "$0")/lib.sh"

FIX=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
ARN_ID=bae32def0ab64f06818e8862e58f8d6d   # the capture's task id; Limits.CPU 0.25
task_variant() { # ID -> path of a task body whose TaskARN ends in ID
  local out=$T/task-$1.json
  [ -f "$out" ] || sed "s/$ARN_ID/$1/g" "$FIX.task.json" >"$out"
  echo "$out"
}

start_pushgateway; PGW=$PEER_PORT; PGW_PID=$PEER_PID
groups() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq -r '.data[] | .labels.task_id // .labels.task_family' | sort | tr '\n' ' '; }
group_count() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq '.data | length'; }
cpu_sum() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" |
  jq '[.data[] | .ee_task_cpu_limit? // empty | .metrics[] | .value | tonumber] | add // 0'; }

# --- 1. Rolling deployments -------------------------------------------------
declare -A PUSHER META
start_task() { # ID: a fake endpoint and a pusher with the minimal configuration
  start_fake_metadata "$(task_variant "$1")" "$FIX.stats.json"
  META[$1]=$PEER_PID
  ECS_CONTAINER_METADATA_URI_V4=$META_URL ECS_METRICS_PUSHER_PUSHGATEWAY_URL=http://127.0.0.1:$PGW \
    ECS_METRICS_PUSHER_INTERVAL=1s start_pusher "$T/pusher-$1.log"
  PUSHER[$1]=$PUSHER_PID
}
stop_task() { # ID: SIGTERM as ECS sends it, and wait for the exit
  kill -TERM "${PUSHER[$1]}"; local rc=0; wait "${PUSHER[$1]}" || rc=$?
  [ "$rc" = 0 ] || { cat "$T/pusher-$1.log"; fail "pusher of $1 exited $rc on SIGTERM"; }
  stop_peer "${META[$1]}"
}
has_groups() { [ "$(group_count)" = "$1" ]; }
live=()
for gen in 1 2 3; do
  new=()
  for i in 1 2 3 4 5; do id=gen${gen}task$i; start_task $id; new+=($id); done
  want=$(( ${#live[@]} + 5 ))
  wait_for 30 has_groups $want || fail "generation $gen: expected $want groups, have: $(groups)"
  for id in "${live[@]}"; do stop_task $id; done
  live=("${new[@]}")
  wait_for 10 has_groups 5 || fail "after deployment $gen: expected the 5 live groups, have: $(groups)"
  assert_eq "deployment $gen: groups are the live tasks" "$(printf '%s\n' "${live[@]}" | sort | tr '\n' ' ')" "$(groups)"
  assert_eq "deployment $gen: sum(ee_task_cpu_limit) in the Pushgateway" 1.25 "$(cpu_sum)"
done

# The same in Prometheus: it scrapes the Pushgateway; a deleted group's series
# end at the next scrape (staleness), so the sum is the live fleet's.
start_prometheus "127.0.0.1:$PGW"; PROM=$PEER_PORT
q() { curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "none"'; }
stop_task ${live[0]}; stop_task ${live[1]}
live=("${live[@]:2}")
wait_for 10 has_groups 3 || fail "expected 3 groups after stopping two, have: $(groups)"
prom_sum_is() { [ "$(q 'sum(ee_task_cpu_limit)')" = "$1" ]; }
wait_for 30 prom_sum_is 0.75 || fail "Prometheus: sum(ee_task_cpu_limit) = $(q 'sum(ee_task_cpu_limit)'), expected 0.75 (3 live tasks)"
ok "Prometheus: sum(ee_task_cpu_limit) = 0.75 for 3 live tasks after 3 deployments and 2 stops"
for id in "${live[@]}"; do stop_task $id; done
wait_for 10 has_groups 0 || fail "groups left after every task stopped: $(groups)"
ok "every task stopped: no group left"

# --- 2. Scheduled task: repeated --once runs ---------------------------------
for run in 1 2 3; do
  "$EMP_BIN" --once --metadata.task-file="$(task_variant run$run)" --metadata.stats-file="$FIX.stats.json" \
    --pushgateway.url="http://127.0.0.1:$PGW" 2>"$T/once-$run.log" || { cat "$T/once-$run.log"; fail "--once run $run failed"; }
done
assert_eq "three --once runs leave one group" 1 "$(group_count)"
assert_eq "the group is keyed by the task family" prom-ecs-exporter-sandbox-main-fargate \
  "$(curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq -r '.data[0].labels.task_family')"
assert_eq "the latest run's task id is on its series (success of run3)" 1 \
  "$(pgw_value $PGW ee_ecs_metrics_exporter_success '.task_id=="run3"')"
assert_eq "container series carry the run's task id (memory.usage of ecs-exporter)" 84111360 \
  "$(printf '%.0f' "$(pgw_value $PGW ee_container_memory_usage_byte '.task_id=="run3" and .container_name=="ecs-exporter"')")"
grep -q 'grouping key has no task_id' "$T"/once-*.log && fail "--once warned about its own default grouping key"
ok "no warning about the --once default grouping key"
curl -s -X DELETE "http://127.0.0.1:$PGW/metrics/job/ecs/task_family/prom-ecs-exporter-sandbox-main-fargate" >/dev/null

# A grouping label this launch type leaves empty (service_name of a standalone
# Fargate task): one warning naming it and what the task has instead.
"$EMP_BIN" --once --metadata.task-file="$(task_variant run4)" --metadata.stats-file="$FIX.stats.json" \
  --pushgateway.url="http://127.0.0.1:$PGW" --pushgateway.grouping-labels=service_name,task_id 2>"$T/empty.log" ||
  { cat "$T/empty.log"; fail "--once with service_name failed"; }
assert_eq "one warning about the empty service_name" 1 "$(grep -c 'level=warn.*label=service_name' "$T/empty.log")"
grep -q 'task_has=".*task_family=prom-ecs-exporter-sandbox-main-fargate' "$T/empty.log" || fail "the warning does not say what the task has"
ok "the warning names the label and what the task has instead"
curl -s -X DELETE "http://127.0.0.1:$PGW/metrics/job/ecs/service_name@base64/=/task_id/run4" >/dev/null

# --- 3. Identity change under a running pusher -------------------------------
start_fake_metadata "$(task_variant before)" "$FIX.stats.json" --advance; M=$PEER_PORT; MPID=$PEER_PID
start_pusher "$T/change.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --interval=500ms --interval.jitter=0s
has_group_for() { [ "$(groups)" = "$1 " ]; }
wait_for 10 has_group_for before || fail "no group for the first task: $(groups)"
meta_control $M "{\"task\": \"$(task_variant after)\"}"
wait_for 10 has_group_for after || fail "after the identity change the groups are: $(groups)"
ok "identity change: the old group is gone, the new task's group is there"
assert_eq "one log line for the change" 1 "$(grep -c 'task identity changed' "$T/change.log")"
grep 'task identity changed' "$T/change.log" | grep -q 'old_task_id=before task_id=after' || fail "the log line does not name both tasks"
# Clean counters: the task row's CPU is the new task's alone. With --advance each
# stats read adds tick × 1e9 × (i+1) ns to container i; the old task's retained
# values would otherwise be summed in. Compare the task row with the sum of the
# container rows of the same push.
# Both from one read of the Pushgateway: the values move with every push.
read -r task_cpu sum_cpu < <(curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq -r '[.data[] | .ee_container_cpu_usage_seconds_total? // empty | .metrics[]] |
  ([.[] | select(.labels.container_name == "_task_") | .value | tonumber] | add | tostring) + " " +
  ([.[] | select(.labels.container_name != "_task_") | .value | tonumber] | add | tostring)')
python3 -c "import sys; a,b=float('$task_cpu'),float('$sum_cpu'); sys.exit(0 if abs(a-b) < 1e-6 else 1)" ||
  fail "task row CPU $task_cpu is not the sum of the new task's containers $sum_cpu"
ok "the new task's CPU row is its own containers' sum ($task_cpu s)"
stop_peer $PUSHER_PID; stop_peer $MPID
wait_for 10 has_groups 0 || fail "group left after SIGTERM: $(groups)"

# --- 4. Textfiles in an EC2-style shared directory --------------------------
SHARED=$T/textfile; mkdir -p "$SHARED"
start_node_exporter "$SHARED"; NE=$PEER_PORT
tf_pids=()
for i in 1 2 3; do
  start_fake_metadata "$(task_variant ec2task$i)" "$FIX.stats.json"
  start_pusher "$T/tf-$i.log" --metadata.url="$META_URL" --textfile.directory="$SHARED" --interval=500ms --interval.jitter=0s
  tf_pids+=($PUSHER_PID)
done
has_files() { [ "$(ls "$SHARED" | grep -c '\.prom$')" = "$1" ]; }
wait_for 10 has_files 3 || fail "expected 3 textfiles, have: $(ls "$SHARED")"
kill -TERM "${tf_pids[0]}" "${tf_pids[1]}"; wait "${tf_pids[0]}" "${tf_pids[1]}" || fail "textfile pushers did not exit 0"
assert_eq "after 2 of 3 tasks stopped, the shared directory holds" "ecs_ec2task3.prom" "$(ls "$SHARED")"
ne_tasks=$(curl -s "http://127.0.0.1:$NE/metrics" | grep '^ee_ecs_metrics_exporter_success{' | grep -o 'task_id="[^"]*"' | sort -u | tr '\n' ' ')
assert_eq "node_exporter serves only the live task" 'task_id="ec2task3" ' "$ne_tasks"
