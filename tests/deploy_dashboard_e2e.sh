#!/bin/bash
# End to end, everything real except the ECS metadata endpoint: the pusher in
# loop mode reads a real Fargate capture whose counters advance by one tick
# per cycle (tests/fake_metadata.py --advance), pushes to a real Pushgateway,
# a real Prometheus scrapes it with deploy/prometheus/rules.yml loaded. Then:
#  - every query of every panel of deploy/grafana/ecs-tasks.json, and every
#    template variable query, returns data through Prometheus's HTTP API;
#  - the recording rules give the values worked out by hand: memory
#    utilisation from the capture's bytes and limit, CPU / network rates from
#    the raw counter samples Prometheus stored (each checked against the
#    fake's tick formula), with Prometheus's documented extrapolation.
. "$(dirname "$0")/lib.sh"
for t in prometheus prometheus-pushgateway python3 jq curl; do
  command -v "$t" >/dev/null || fail "$t not installed (tests/setup.sh installs it)"
done
DASH=$EMP_SRC/deploy/grafana/ecs-tasks.json
RULES=$EMP_SRC/deploy/prometheus/rules.yml
FX=ecs_exporter/fargate-awsvpc-cgroupv1
FAMILY=prom-ecs-exporter-sandbox-main-fargate
CLUSTER=prom-ecs-exporter-sandbox
TASK_ID=bae32def0ab64f06818e8862e58f8d6d

# Provisionable: a fixed uid, no numeric id, every panel on the $datasource
# variable, unique panel ids, every panel inside the 24-column grid.
jq -e '(.uid | length > 0) and (has("id") | not)
  and ([.panels[] | select(.type != "row") | .datasource.uid == "${datasource}" and (.targets | length > 0)] | all)
  and ([.panels[].id] | length == (unique | length))
  and ([.panels[].gridPos | .x + .w <= 24] | all)
  and ([.templating.list[] | select(.name == "datasource") | .query == "prometheus"] | any)' "$DASH" >/dev/null ||
  fail "ecs-tasks.json is not a provisionable dashboard"
ok "ecs-tasks.json: uid, no id, \$datasource on every panel, unique ids, grid fits"

start_pushgateway
PGW=$PEER_PORT
start_fake_metadata "$FX.task.json" "$FX.stats.json" --advance
META=$PEER_PORT
start_prometheus "127.0.0.1:$PGW" "$RULES"
PROM=http://127.0.0.1:$PEER_PORT
wait_ready "$PROM/-/ready" 20 || fail "prometheus not ready"
start_pusher "$T/pusher.log" --metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW" \
  --interval=1s --interval.jitter=0s --log.level=debug

# query EXPR [TIME]: the JSON result array of an instant query.
query() {
  curl -s -G "$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
    jq -ce 'if .status == "success" then .data.result else error(.error) end'
}
has_data() { [ "$(query "$1" | jq length)" -gt 0 ]; }

# The first scrape comes ~6 s after Prometheus starts; rate() needs 2 samples.
wait_for 40 has_data 'task:ee_cpu_utilisation:ratio_rate2m' ||
  { cat "$T/pusher.log" >&2; fail "no task:ee_cpu_utilisation:ratio_rate2m after 40 s"; }
# The 5m error rates and the 2m window need a few samples of every series.
wait_for 20 has_data "count_over_time(ee_container_cpu_usage_seconds_total{container_name=\"_task_\"}[2m]) >= 4" ||
  fail "too few samples"
ok "pusher -> Pushgateway -> Prometheus with rules.yml: recording rules produce data"

# ---------------------------------------------------------------- the dashboard
# Template variables: label_values(selector, label) must list our task.
sub() { sed -e "s/\\\$task_family/$FAMILY/g" -e "s/\\\$task_id/$TASK_ID/g" -e 's/\$container/.*/g' \
  -e 's/\$job/ecs/g' -e "s/\\\$cluster/$CLUSTER/g"; }
while IFS=$'\t' read -r name q; do
  sel=$(echo "$q" | sed -n 's/^label_values(\(.*\), *\([a-z_]*\))$/\1/p' | sub)
  label=$(echo "$q" | sed -n 's/^label_values(\(.*\), *\([a-z_]*\))$/\2/p')
  [ -n "$label" ] || fail "variable $name: cannot read query $q"
  values=$(curl -s -G "$PROM/api/v1/series" --data-urlencode "match[]=$sel" | jq -r --arg l "$label" '[.data[][$l]] | unique | join(",")')
  case $name in
    job) want=ecs ;;
    cluster) want=$CLUSTER ;;
    task_family) want=$FAMILY ;;
    task_id) want=$TASK_ID ;;
    container) want=ecs-exporter,prometheus ;;
    *) fail "unknown variable $name" ;;
  esac
  assert_eq "variable \$$name ($q)" "$want" "$values"
done < <(jq -r '.templating.list[] | select(.type == "query") | [.name, .query.query] | @tsv' "$DASH")

# Every target of every panel, with the variables set to our task (and "All").
panels=0
while IFS=$'\t' read -r title ref expr; do
  for mode in task all; do
    if [ $mode = task ]; then q=$(echo "$expr" | sub); else q=$(echo "$expr" | sed 's/\$[a-z_]*/.*/g'); fi
    r=$(query "$q") || fail "panel '$title' $ref: query failed: $q"
    n=$(echo "$r" | jq length)
    [ "$n" -gt 0 ] || fail "panel '$title' $ref returns no data ($mode): $q"
    bad=$(echo "$r" | jq -r --arg id "$TASK_ID" '[.[] | select(.metric.task_id != null and .metric.task_id != $id)] | length')
    [ "$bad" = 0 ] || fail "panel '$title' $ref: series of another task"
  done
  ok "panel '$title' $ref: $n series — $(echo "$r" | jq -r '[.[] | "\(.metric.container_name // .metric.sink // .metric.version // .metric.task_id)=\(.value[1] | tonumber | . * 1000 | round / 1000)"] | join(" ")')"
  panels=$((panels + 1))
done < <(jq -r '.panels[] | select(.type != "row") | .title as $t | .targets[] | [$t, .refId, .expr] | @tsv' "$DASH")
[ "$panels" -ge 20 ] || fail "only $panels panel queries found"

# ---------------------------------------------------------------- recording rules, by hand
T_SEL="task_id=\"$TASK_ID\""
# Memory from the capture (tests/fixtures/SOURCES.md): task row without cache =
# (127934464 - 85426176) + (84111360 - 42442752) = 84176896 B; task limit
# 512 MiB = 536870912 B; no container has its own memory limit, so each
# container is divided by the task's. Memory does not advance with the tick.
py_eq() { python3 -c "import sys; a, b = float(sys.argv[1]), eval(sys.argv[2]); sys.exit(0 if a == b else 1)" "$1" "$2"; }
v=$(query "task:ee_memory_utilisation:ratio{$T_SEL}" | jq -r '.[0].value[1]')
py_eq "$v" "84176896 / 536870912" || fail "task memory utilisation $v, want 84176896/536870912"
ok "task:ee_memory_utilisation:ratio = 84176896 / 536870912 = $v"
for c in "prometheus 127934464-85426176" "ecs-exporter 84111360-42442752"; do
  set -- $c
  v=$(query "container:ee_memory_utilisation:ratio{$T_SEL,container_name=\"$1\"}" | jq -r '.[0].value[1]')
  py_eq "$v" "($2) / 536870912" || fail "container $1 memory utilisation $v, want ($2)/536870912"
  ok "container:ee_memory_utilisation:ratio{$1} = ($2) / 536870912 = $v"
done

# Rates. The fake adds, per tick, (i+1) s of CPU to stats entry i (entry 0 is
# the stopped container: null; prometheus is 1, ecs-exporter 2) and 1000 B rx
# to every interface. From the capture: prometheus 932439492 ns, ecs-exporter
# 322633383 ns, task row 1.255072875 s (+5 s per tick); both containers see the
# task's eth1, the task row counts it once: 129046293 B (+1000 per tick).
#
# check_rate RECORDED RAW_SELECTOR BASE STEP DIVISOR: the latest recorded
# sample, recomputed from the raw samples in its 2m window.
check_rate() {
  local rec=$1 raw=$2 base=$3 step=$4 div=$5 last samples
  # A range selector gives the recorded sample with its own timestamp (an
  # instant query would stamp it with the query's time).
  last=$(query "$rec[10s]" | jq -ce '.[0].values[-1]') || fail "$rec: no data"
  samples=$(query "$raw[2m]" "$(echo "$last" | jq -r '.[0]')" | jq -c '.[0].values')
  python3 - "$last" "$samples" "$base" "$step" "$div" <<'PY' || fail "$rec does not match the hand computation"
import json, sys
(t_eval, recorded), samples = json.loads(sys.argv[1]), json.loads(sys.argv[2])
base, step, div = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
recorded = float(recorded)
pts = [(round(t * 1000), float(v)) for t, v in samples]
ticks = []
for _, v in pts:                      # every stored value is base + step * tick
    k = round((v - base) / step)
    assert k >= 0 and abs(base + step * k - v) <= 1e-9 * max(1, abs(v)), f"value {v} is not {base} + {step} * k"
    ticks.append(k)
assert ticks == sorted(ticks) and ticks[-1] > ticks[0], f"ticks do not advance: {ticks}"

def prometheus_rate(pts, t_eval_ms, range_s=120.0):
    # Prometheus 2.42 promql/functions.go extrapolatedRate(isCounter=True, isRate=True)
    range_start, range_end = t_eval_ms - range_s * 1000, t_eval_ms
    result = pts[-1][1] - pts[0][1]
    last = 0.0
    for _, v in pts:
        if v < last:
            result += last
        last = v
    to_start = (pts[0][0] - range_start) / 1000
    to_end = (range_end - pts[-1][0]) / 1000
    sampled = (pts[-1][0] - pts[0][0]) / 1000
    avg = sampled / (len(pts) - 1)
    if result > 0 and pts[0][1] >= 0:
        to_zero = sampled * (pts[0][1] / result)
        if to_zero < to_start:
            to_start = to_zero
    threshold = avg * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else avg / 2
    interval += to_end if to_end < threshold else avg / 2
    return result * (interval / sampled) / range_s

t_ms = round(t_eval * 1000)
# A scrape stamped just before the evaluation may land in the TSDB just after
# it: then the rule saw one sample fewer than we see now.
for n in (len(pts), len(pts) - 1):
    if n < 2:
        continue
    want = prometheus_rate(pts[:n], t_ms) / div
    if abs(want - recorded) <= 1e-12 * abs(want):
        print(f"{recorded} from {n} samples, ticks {ticks[0]}..{ticks[n - 1]} "
              f"(+{(ticks[n - 1] - ticks[0]) * step:g} over {(pts[n - 1][0] - pts[0][0]) / 1000:g} s)")
        sys.exit(0)
print(f"recorded {recorded} at {t_eval}, computed {prometheus_rate(pts, t_ms) / div} from {pts}", file=sys.stderr)
sys.exit(1)
PY
}
TASK_ROW="$T_SEL,container_name=\"_task_\""
r=$(check_rate "task:ee_cpu_utilisation:ratio_rate2m{$T_SEL}" "ee_container_cpu_usage_seconds_total{$TASK_ROW}" 1.255072875 5 0.25) || exit 1
ok "task:ee_cpu_utilisation:ratio_rate2m = rate / 0.25 vCPU = $r"
r=$(check_rate "container:ee_cpu_utilisation_of_task_limit:ratio_rate2m{$T_SEL,container_name=\"prometheus\"}" \
  "ee_container_cpu_usage_seconds_total{$T_SEL,container_name=\"prometheus\"}" 0.932439492 2 0.25) || exit 1
ok "container:ee_cpu_utilisation_of_task_limit:ratio_rate2m{prometheus} = rate / 0.25 vCPU = $r"
r=$(check_rate "container:ee_cpu_usage_vcpu:rate2m{$T_SEL,container_name=\"ecs-exporter\"}" \
  "ee_container_cpu_usage_seconds_total{$T_SEL,container_name=\"ecs-exporter\"}" 0.322633383 3 1) || exit 1
ok "container:ee_cpu_usage_vcpu:rate2m{ecs-exporter} = $r"
r=$(check_rate "task:ee_network_rx_bytes:rate2m{$T_SEL}" "ee_container_network_io_rx_bytes{$TASK_ROW}" 129046293 1000 1) || exit 1
ok "task:ee_network_rx_bytes:rate2m (eth1 counted once, +1000 B per tick) = $r"

# The alerts load and are quiet except the CPU one, which is pending: the fake
# task burns 5 vCPU against a 0.25 vCPU limit (for: 10m has not elapsed).
state=$(curl -s "$PROM/api/v1/alerts" | jq -r '[.data.alerts[] | "\(.labels.alertname)=\(.state)"] | unique | join(",")')
assert_eq "alerts after the run" "EcsTaskCpuNearLimit=pending" "$state"
grep -q 'level=error' "$T/pusher.log" && fail "the pusher logged errors: $(grep 'level=error' "$T/pusher.log" | head -3)"
ok "the pusher logged no errors"
