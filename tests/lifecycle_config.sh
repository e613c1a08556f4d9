#!/bin/bash
# The configuration surface as a process: every invalid case exits 2 with one
# line naming the flag and touches no network peer; env vs flag precedence;
# the ECS default (only two variables set); --help and --version.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
start_pushgateway; PGW=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
requests() { curl -s "http://127.0.0.1:$META/_control" | jq '.task_requests + .stats_requests'; }
groups() { curl -s "http://127.0.0.1:$PGW/api/v1/metrics" | jq '.data | length'; }
# Everything the binary sees comes from here: no inherited ECS_* variables.
run() { env -i PATH="$PATH" "$@"; }

GOOD=(--metadata.url="$META_URL" --pushgateway.url="http://127.0.0.1:$PGW")
# bad_config 'expected text' [VAR=value...] -- flags...
bad_config() {
  local want=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  run "${envs[@]}" "$EMP_BIN" "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ "$rc" = 2 ] || fail "exit $rc, not 2, for: ${envs[*]} $* ($(cat "$T/err"))"
  [ "$(wc -l <"$T/err")" = 1 ] || fail "not one line for $*: $(cat "$T/err")"
  grep -qF -- "$want" "$T/err" || fail "message for $* lacks '$want': $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "stdout not empty for $*"
  ok "exit 2: $(cat "$T/err")"
}

echo hunter2 >"$T/pw"; chmod 000 "$T/pw"
bad_config "--interval: '-5s' is not a duration" -- "${GOOD[@]}" --interval=-5s
bad_config "ECS_METRICS_PUSHER_INTERVAL (--interval): '-1m' is not a duration" ECS_METRICS_PUSHER_INTERVAL=-1m -- "${GOOD[@]}"
bad_config "--log.level: 'verbose' is not one of debug, info, warn, error" -- "${GOOD[@]}" --log.level=verbose
bad_config "--pushgateway.url: '127.0.0.1:$PGW' has no http:// or https:// scheme" -- --metadata.url="$META_URL" --pushgateway.url="127.0.0.1:$PGW"
bad_config "--metadata.url: '127.0.0.1:$META/v4' has no http:// or https:// scheme" -- --metadata.url="127.0.0.1:$META/v4" --pushgateway.url="http://127.0.0.1:$PGW"
bad_config "--metadata.url and --metadata.task-file/--metadata.stats-file exclude each other" -- "${GOOD[@]}" \
  --metadata.task-file="$FIXTURES/$FIX.task.json" --metadata.stats-file="$FIXTURES/$FIX.stats.json"
bad_config "no sink configured" -- --metadata.url="$META_URL"
bad_config "no sink configured" ECS_CONTAINER_METADATA_URI_V4="$META_URL" --
bad_config "--pushgateway.password-file: cannot read '$T/nope'" -- "${GOOD[@]}" --pushgateway.username=u --pushgateway.password-file="$T/nope"
if [ "$(id -u)" != 0 ]; then
  bad_config "--pushgateway.password-file: cannot read '$T/pw': Permission denied" -- "${GOOD[@]}" --pushgateway.username=u --pushgateway.password-file="$T/pw"
fi
bad_config "--metadata.url: no metadata endpoint" -- --pushgateway.url="http://127.0.0.1:$PGW"
bad_config "--delete-on-exit: cannot be used with --once" -- "${GOOD[@]}" --once --delete-on-exit
bad_config "--interval.jitter: must not exceed --interval" -- "${GOOD[@]}" --interval=1s --interval.jitter=2s
bad_config "ECS_METRICS_PUSHER_PUSHGATEWAY_URLL: no such setting" ECS_METRICS_PUSHER_PUSHGATEWAY_URLL=http://x -- "${GOOD[@]}"
bad_config "--intervall: unknown flag" -- "${GOOD[@]}" --intervall=1s
bad_config "--shutdown: unknown flag (did you mean --shutdown-timeout?)" -- "${GOOD[@]}" --shutdown=1s
assert_eq "requests the metadata endpoint saw from bad configurations" 0 "$(requests)"
assert_eq "groups on the Pushgateway after bad configurations" 0 "$(groups)"
grep -r hunter2 "$T/err" && fail "a secret in an error"

# --help: every flag with its env name; --version.
run "$EMP_BIN" --help >"$T/help" 2>&1 || fail "--help exit $?"
flags=$(grep -o '^  --[a-z.-]*' "$T/help" | grep -v -- '--help\|--version' | wc -l)
envs=$(grep -c '^      env ECS_METRICS_PUSHER_' "$T/help")
assert_eq "every flag in --help has its env line" "$flags" "$envs"
grep -q 'env ECS_METRICS_PUSHER_SHUTDOWN_TIMEOUT  (default: 10s)' "$T/help" || fail "--help lacks the shutdown default"
# Like the Prometheus tools: version and revision, then the build's details.
run "$EMP_BIN" --version >"$T/version"
head -1 "$T/version" | grep -qxE 'ecs-metrics-pusher, version [0-9][0-9.]* \(revision: ([0-9a-f]{12}|unknown)\)' ||
  fail "--version: $(cat "$T/version")"
for k in 'build date:' 'compiler:' 'libcurl:' 'simdjson:' 'fmt:' 'zlib:' 'scrape endpoint:'; do grep -q "^  $k" "$T/version" || fail "--version lacks '$k'"; done
grep -qE '^  libcurl: *[0-9.]+ \(.*(SSL|mbedTLS|GnuTLS)' "$T/version" || fail "--version does not name the TLS library: $(grep libcurl "$T/version")"
ok "--version: $(head -1 "$T/version"), with the build's compiler and libraries"

# The ECS task-definition default: only the two variables.
run ECS_CONTAINER_METADATA_URI_V4="$META_URL" ECS_METRICS_PUSHER_PUSHGATEWAY_URL="http://127.0.0.1:$PGW" \
  ECS_METRICS_PUSHER_ONCE=true "$EMP_BIN" 2>"$T/ecs.log" || { cat "$T/ecs.log"; fail "ECS default run failed"; }
assert_eq "group pushed with only the ECS variables" 1 "$(groups)"
grep -q "metadata.url=$META_URL pushgateway.url=\|metadata.url=$META_URL " "$T/ecs.log" || fail "start-up line lacks the metadata URL"
ok "the start-up line shows the effective metadata URL"

# Flags win over the environment.
mkdir -p "$T/env" "$T/flag"
run ECS_METRICS_PUSHER_TEXTFILE_DIRECTORY="$T/env" ECS_METRICS_PUSHER_LOG_FORMAT=json ECS_METRICS_PUSHER_ONCE=true \
  "$EMP_BIN" --metadata.url="$META_URL" --textfile.directory="$T/flag" 2>"$T/prec.log" || fail "precedence run failed"
[ -s "$T/flag/ecs_$TASK_ID.prom" ] && [ -z "$(ls -A "$T/env")" ] || fail "the flag's directory should win"
ok "--textfile.directory wins over ECS_METRICS_PUSHER_TEXTFILE_DIRECTORY"
jq -e 'select(.msg=="starting") | .["log.format"]=="json" and .mode=="once"' "$T/prec.log" >/dev/null ||
  fail "environment-only settings (json logs, once) not applied: $(cat "$T/prec.log")"
ok "environment-only settings still apply (json log line parsed by jq)"

# Secrets from the environment never reach the log.
run ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD=s3cr3t-env "$EMP_BIN" --once "${GOOD[@]}" --pushgateway.username=alice \
  --log.level=debug 2>"$T/secret.log" >/dev/null
grep -q 's3cr3t' "$T/secret.log" && fail "password in the log"
grep -q 'pushgateway.password=<redacted>' "$T/secret.log" || fail "password not shown as redacted: $(head -1 "$T/secret.log")"
ok "password redacted in the start-up line"
echo "all configuration checks passed"
