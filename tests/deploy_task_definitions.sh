#!/bin/bash
# container/ecs/*.json: valid JSON with the fields ECS requires, the pusher set
# up as a well-behaved sidecar, every ECS_METRICS_PUSHER_* name one the binary
# accepts (from its --help), and the definitions' environment, given to the
# real binary, configures a run that works.
. "$(dirname "$0")/lib.sh"
D=$EMP_SRC/container/ecs
help=$("$EMP_BIN" --help) || fail "--help failed"
accepted=$(echo "$help" | grep -o 'ECS_METRICS_PUSHER_[A-Z0-9_]*' | sort -u)
[ "$(echo "$accepted" | wc -l)" -ge 20 ] || fail "too few env names in --help: $accepted"

# validate FILE: prints the ECS_METRICS_PUSHER_* names the file uses, one a line.
validate() {
  python3 - "$1" <<'PY'
import json, re, sys

path = sys.argv[1]
try:
    td = json.load(open(path))
except ValueError as e:
    sys.exit(f"{path}: invalid JSON: {e}")
errors = []
def need(cond, msg):
    if not cond:
        errors.append(msg)

need(isinstance(td.get("family"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,255}", td["family"]), "family: 1-255 letters, digits, - or _")
compat = td.get("requiresCompatibilities", [])
need(set(compat) <= {"EC2", "FARGATE", "EXTERNAL"} and compat, "requiresCompatibilities")
need(td.get("networkMode", "bridge") in ("awsvpc", "bridge", "host", "none"), "networkMode")
cds = td.get("containerDefinitions")
need(isinstance(cds, list) and cds, "containerDefinitions must be a non-empty list")
cds = cds or []
names = [c.get("name") for c in cds]
need(len(set(names)) == len(names), "container names must be unique")
task_cpu, task_mem = td.get("cpu"), td.get("memory")
need(task_cpu is None or isinstance(task_cpu, str), "task cpu is a string")
need(task_mem is None or isinstance(task_mem, str), "task memory is a string")

if "FARGATE" in compat:
    need(td.get("networkMode") == "awsvpc", "Fargate needs networkMode awsvpc")
    # The CPU/memory pairs Fargate accepts (MiB).
    combos = {256: range(512, 2049, 512), 512: range(1024, 4097, 1024), 1024: range(2048, 8193, 1024),
              2048: range(4096, 16385, 1024), 4096: range(8192, 30721, 1024),
              8192: range(16384, 61441, 4096), 16384: range(32768, 122881, 8192)}
    try:
        cpu, mem = int(task_cpu), int(task_mem)
        need(cpu in combos and (mem in combos[cpu] or (cpu == 256 and mem == 512)), f"Fargate does not offer cpu {cpu} with memory {mem}")
    except (TypeError, ValueError):
        errors.append("Fargate needs task-level cpu and memory")
    need(td.get("runtimePlatform", {}).get("cpuArchitecture", "X86_64") in ("X86_64", "ARM64"), "runtimePlatform.cpuArchitecture")
    for c in cds:
        need("hostPort" not in str(c.get("portMappings", "")) or all(p.get("hostPort", p["containerPort"]) == p["containerPort"] for p in c.get("portMappings", [])),
             f"{c.get('name')}: awsvpc needs hostPort == containerPort")

uses_exec_role = False
for c in cds:
    n = c.get("name", "?")
    need(isinstance(c.get("name"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,255}", c["name"]), f"container name {n!r}")
    need(isinstance(c.get("image"), str) and c["image"], f"{n}: image")
    if "EC2" in compat and task_mem is None:
        need("memory" in c or "memoryReservation" in c, f"{n}: EC2 needs memory or memoryReservation without task memory")
    for k in ("cpu", "memory", "memoryReservation", "stopTimeout"):
        need(k not in c or isinstance(c[k], int), f"{n}: {k} must be an integer")
    if "memory" in c and "memoryReservation" in c:
        need(c["memoryReservation"] <= c["memory"], f"{n}: memoryReservation above memory")
    for e in c.get("environment", []):
        need(set(e) == {"name", "value"} and isinstance(e["value"], str), f"{n}: environment entries are {{name, value}} strings: {e}")
    for s in c.get("secrets", []):
        need(set(s) == {"name", "valueFrom"}, f"{n}: secrets entries are {{name, valueFrom}}: {s}")
        uses_exec_role = True
    for d in c.get("dependsOn", []):
        need(d.get("containerName") in names and d.get("containerName") != n, f"{n}: dependsOn unknown container {d}")
        need(d.get("condition") in ("START", "COMPLETE", "SUCCESS", "HEALTHY"), f"{n}: dependsOn condition {d}")
    lc = c.get("logConfiguration")
    if lc and lc.get("logDriver") == "awslogs":
        uses_exec_role = True
        for k in ("awslogs-group", "awslogs-region", "awslogs-stream-prefix"):
            need(k in lc.get("options", {}), f"{n}: awslogs needs option {k}")
    for m in c.get("mountPoints", []):
        need(m.get("sourceVolume") in [v.get("name") for v in td.get("volumes", [])], f"{n}: mountPoints names an unknown volume {m}")
if uses_exec_role:
    need(str(td.get("executionRoleArn", "")).startswith("arn:aws:iam::"), "awslogs and secrets need executionRoleArn")
need(any(c.get("essential", True) for c in cds), "at least one container must be essential")

# The pusher as a sidecar: never takes the task down, small, logs to awslogs,
# starts after the app, deletes what it published, and gets time to do so.
p = next((c for c in cds if "ecs-metrics-pusher" in c.get("image", "")), None)
need(p is not None, "no ecs-metrics-pusher container")
if p:
    env = {e["name"]: e["value"] for e in p.get("environment", [])}
    need(p.get("essential") is False, "the pusher must be essential: false (a metrics sidecar must never stop the task)")
    need(p.get("cpu", 0) <= 64 and p.get("memory", 10**9) <= 128, "the pusher should be small (cpu <= 64 units, memory <= 128 MiB)")
    need(p.get("logConfiguration", {}).get("logDriver") == "awslogs", "the pusher logs to awslogs")
    need(any(d.get("containerName") != p["name"] for d in p.get("dependsOn", [])), "the pusher needs dependsOn on the app")
    need(env.get("ECS_METRICS_PUSHER_DELETE_ON_EXIT") == "true", "ECS_METRICS_PUSHER_DELETE_ON_EXIT must be true")
    m = re.fullmatch(r"(\d+)s", env.get("ECS_METRICS_PUSHER_SHUTDOWN_TIMEOUT", "10s"))
    need(m is not None, "ECS_METRICS_PUSHER_SHUTDOWN_TIMEOUT in whole seconds")
    if m:
        need(p.get("stopTimeout", 30 if "FARGATE" in compat else 30) >= int(m.group(1)) + 5,
             "stopTimeout must leave the shutdown timeout plus 5 s before SIGKILL")
    need(p.get("stopTimeout", 0) <= 120, "stopTimeout at most 120 s")
    need(p.get("user", "65532") not in ("root", "0", "0:0"), "the pusher does not run as root")
    need("ECS_CONTAINER_METADATA_URI_V4" not in env, "ECS sets ECS_CONTAINER_METADATA_URI_V4 itself")
    has_sink = "ECS_METRICS_PUSHER_PUSHGATEWAY_URL" in env or "ECS_METRICS_PUSHER_TEXTFILE_DIRECTORY" in env
    need(has_sink, "the pusher needs a sink (Pushgateway URL or textfile directory)")
    if "ECS_METRICS_PUSHER_TEXTFILE_DIRECTORY" in env:
        need(any(mp.get("containerPath") == env["ECS_METRICS_PUSHER_TEXTFILE_DIRECTORY"] and mp.get("readOnly") is False
                 for mp in p.get("mountPoints", [])), "the textfile directory must be a writable mount")
    for name in env:
        need(not re.search(r"PASSWORD$|TOKEN$", name), f"{name}: secrets belong in 'secrets', not 'environment'")
    for name in list(env) + [s["name"] for s in p.get("secrets", [])]:
        if name.startswith("ECS_METRICS_PUSHER_"):
            print(name)
if errors:
    sys.exit(f"{path}:\n  " + "\n  ".join(errors))
PY
}

# env_args FILE: NAME=VALUE words of the pusher's environment (values have no spaces here).
env_args() {
  jq -r '.containerDefinitions[] | select(.image | contains("ecs-metrics-pusher")) | .environment[] | "\(.name)=\(.value)"' "$1"
}

for def in fargate-sidecar ec2-textfile; do
  f=$D/$def.json
  names=$(validate "$f") || fail "$def: $names"
  ok "$def.json: valid JSON, ECS-required fields, sidecar settings"
  for n in $names; do
    echo "$accepted" | grep -qx "$n" || fail "$def.json: $n is not an environment variable the program accepts (not in --help)"
  done
  ok "$def.json: all $(echo "$names" | wc -w) ECS_METRICS_PUSHER_* names appear in --help"
done

# The checks catch what they are for: a misspelt variable, a sidecar that
# could stop the task, a secret in plain environment, a Fargate size that
# does not exist.
P='.containerDefinitions[1]'
for bad in "$P.environment += [{\"name\": \"ECS_METRICS_PUSHER_PUSHGATEWAY_ULR\", \"value\": \"x\"}]" \
           "$P.essential = true" \
           "$P.environment += [{\"name\": \"ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD\", \"value\": \"x\"}]" \
           ".memory = \"3072\" | .cpu = \"256\"" \
           "$P.stopTimeout = 5"; do
  jq "$bad" "$D/fargate-sidecar.json" >"$T/bad.json"
  names=$(validate "$T/bad.json" 2>&1) && {
    unknown=$(for n in $names; do echo "$accepted" | grep -qx "$n" || echo "$n"; done)
    [ -n "$unknown" ] || fail "the checks accept a broken definition: $bad"
  }
done
ok "a misspelt variable, an essential sidecar, a secret in environment, a Fargate size that does not exist, a short stopTimeout: all rejected"

# The definitions' environment, given to the real binary: it must configure a
# run that works. Only the destination is redirected (a flag wins over the
# environment) and the metadata is a bundled Fargate capture.
fx=$FIXTURES/ecs_exporter/fargate-awsvpc-cgroupv1
replay=(--once --delete-on-exit=false --metadata.task-file="$fx.task.json" --metadata.stats-file="$fx.stats.json")

mkdir -p "$T/tf"
# shellcheck disable=SC2046
env -i PATH="$PATH" $(env_args "$D/ec2-textfile.json") "$EMP_BIN" "${replay[@]}" --textfile.directory="$T/tf" 2>"$T/ec2.err" ||
  fail "ec2-textfile environment: exit $? $(cat "$T/ec2.err")"
prom=$T/tf/ecs_bae32def0ab64f06818e8862e58f8d6d.prom
[ -f "$prom" ] || fail "ec2-textfile environment: no $prom ($(ls "$T/tf"))"
assert_eq "ec2-textfile environment: task CPU limit in the textfile" 0.25 \
  "$(grep '^ee_task_cpu_limit{' "$prom" | awk '{ print $NF }')"

start_pushgateway
PGW=$PEER_PORT
# shellcheck disable=SC2046
env -i PATH="$PATH" $(env_args "$D/fargate-sidecar.json") ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD=not-a-real-secret \
  "$EMP_BIN" "${replay[@]}" --pushgateway.url="http://127.0.0.1:$PGW" 2>"$T/fargate.err" ||
  fail "fargate-sidecar environment: exit $? $(cat "$T/fargate.err")"
grep -q not-a-real-secret "$T/fargate.err" && fail "the password appears in the log"
v=$(pgw_value "$PGW" ee_task_cpu_limit '.job=="ecs" and .task_id=="bae32def0ab64f06818e8862e58f8d6d"')
assert_eq "fargate-sidecar environment: pushed to job ecs, task CPU limit" 0.25 "$v"
