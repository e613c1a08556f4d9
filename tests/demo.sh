#!/bin/bash
# The quick-start demo, on a fresh Debian 12 machine, no AWS needed: installs
# only the build dependencies and the Pushgateway (tests/setup.sh demo), builds
# only the binary, starts a Pushgateway on 127.0.0.1 with a port the kernel
# picks, replays a real Fargate capture (tests/fixtures/ecs_exporter) through
# the pusher once, prints what landed, and stops the Pushgateway again.
#   bash tests/demo.sh [TASK_JSON STATS_JSON]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash tests/setup.sh demo
BUILD=build-demo
[ -f $BUILD/build.ninja ] || meson setup $BUILD --buildtype=release -Dtests=false --wrap-mode=nodownload >/dev/null
ninja -C $BUILD src/ecs-metrics-pusher >/dev/null

TASK=${1:-tests/fixtures/ecs_exporter/fargate-awsvpc-cgroupv1.task.json}
STATS=${2:-tests/fixtures/ecs_exporter/fargate-awsvpc-cgroupv1.stats.json}
EMP_BIN=$PWD/$BUILD/src/ecs-metrics-pusher
. tests/lib.sh
set +u
start_pushgateway
PGW=http://127.0.0.1:$PEER_PORT
wait_ready "$PGW/-/ready" 10 || fail "pushgateway not ready"

echo "== pushing $TASK + $STATS to the Pushgateway at $PGW" >&2
"$EMP_BIN" --once --metadata.task-file="$TASK" --metadata.stats-file="$STATS" --pushgateway.url="$PGW"
echo "== what landed (GET $PGW/metrics, ee_* series):" >&2
curl -s "$PGW/metrics" | grep -E '^(# (HELP|TYPE) )?ee_'
echo "== grouping key:" >&2
curl -s "$PGW/api/v1/metrics" | jq -c '.data[].labels'
echo "== done in $(( $(date +%s) - start )) s; the Pushgateway is stopped on exit" >&2
