#!/bin/bash
# Secrets never reach a log, an error or standard output (issue 7).
# Every secret is given in every way the program accepts — password file,
# password environment variable, bearer token file and environment variable,
# --pushgateway.header flag and environment list — and the binary runs in
# --once and loop mode, at debug level, in logfmt and JSON, against peers that
# accept (Pushgateway with basic auth), refuse (401), are down, are not
# trusted (TLS) and answer 400; also with malformed headers and config errors.
# All stdout+stderr is kept and grepped for every secret and for its base64
# (basic auth sends user:password base64-encoded). Also: no listening socket,
# no child process, TLS verification on by default.
. "$(dirname "$0")/lib.sh"
command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) missing"
command -v openssl >/dev/null || skip "openssl missing"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
PW_FILE_SECRET='pwfile-6b1d0e77c2'
PW_ENV_SECRET='pwenv-a90c33f5e1'
TOKEN_FILE_SECRET='tokfile-2f8e61bd04'
TOKEN_ENV_SECRET='tokenv-c4e5a0f319'
HDR_FLAG_SECRET='hdrflag-7d20b9e3aa'
HDR_ENV_SECRET='hdrenv-13fe8c6d57'
WRONG_SECRET='wrongpw-5a7c0e2d91'
SECRETS=("$PW_FILE_SECRET" "$PW_ENV_SECRET" "$TOKEN_FILE_SECRET" "$TOKEN_ENV_SECRET" "$HDR_FLAG_SECRET"
         "$HDR_ENV_SECRET" "$WRONG_SECRET")
S=$T/secrets; mkdir -p "$S"; OUT=$T/out; mkdir -p "$OUT"
printf '%s\n' "$PW_FILE_SECRET" >"$S/pw"; printf '%s\n' "$WRONG_SECRET" >"$S/wrong"
printf '%s\n' "$TOKEN_FILE_SECRET" >"$S/token"

( cd "$S" && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 ) >/dev/null 2>&1 || fail openssl
printf 'basic_auth_users:\n  tester: %s\n  envuser: %s\n' \
  "'$(htpasswd -nbBC 10 tester "$PW_FILE_SECRET" | cut -d: -f2)'" \
  "'$(htpasswd -nbBC 10 envuser "$PW_ENV_SECRET" | cut -d: -f2)'" >"$S/auth.yml"
printf 'tls_server_config:\n  cert_file: %s/c.pem\n  key_file: %s/k.pem\n' "$S" "$S" >"$S/tls.yml"

start_fake_metadata $FIX.task.json $FIX.stats.json
start_pushgateway --web.config.file="$S/auth.yml"; AUTH=$PEER_PORT
start_pushgateway --web.config.file="$S/tls.yml"; TLSP=$PEER_PORT
start_pushgateway; PLAIN=$PEER_PORT
# A 400: the plain Pushgateway holds one of our names with another TYPE.
printf '# TYPE ee_container_memory_usage_byte counter\nee_container_memory_usage_byte 1\n' |
  curl -sf --data-binary @- "http://127.0.0.1:$PLAIN/metrics/job/clash" || fail "clash group"
DOWN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

once() { # NAME [env...] -- flags...
  local name=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" "$EMP_BIN" --once --metadata.url="$META_URL" --log.level=debug --interval=1s \
    --pushgateway.header="X-Api-Key: $HDR_FLAG_SECRET" "$@" >"$OUT/$name.out" 2>&1
  echo "exit=$?" >>"$OUT/$name.out"
}
# The runs are independent (each has its own output): up to 8 at a time, as
# most of their time is waiting on a peer that is down, refuses or checks bcrypt.
ONCE_PIDS=()
throttle() { # before starting one more: wait for the oldest while 8 run
  if [ ${#ONCE_PIDS[@]} -ge 8 ]; then wait "${ONCE_PIDS[0]}"; ONCE_PIDS=("${ONCE_PIDS[@]:1}"); fi
}
for fmt in logfmt json; do
  for peer in "auth:http://127.0.0.1:$AUTH" "tls:https://127.0.0.1:$TLSP" "down:http://127.0.0.1:$DOWN" \
              "clash:http://127.0.0.1:$PLAIN"; do
    p=${peer%%:*} url=${peer#*:}
    throttle; once "$fmt-$p-pwfile" -- --log.format=$fmt --pushgateway.url="$url" --pushgateway.username=tester \
      --pushgateway.password-file="$S/pw" & ONCE_PIDS+=($!)
    throttle; once "$fmt-$p-pwenv" ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD="$PW_ENV_SECRET" \
      ECS_METRICS_PUSHER_PUSHGATEWAY_HEADER="X-Env-Key: $HDR_ENV_SECRET" -- \
      --log.format=$fmt --pushgateway.url="$url" --pushgateway.username=envuser & ONCE_PIDS+=($!)
    throttle; once "$fmt-$p-wrong" -- --log.format=$fmt --pushgateway.url="$url" --pushgateway.username=tester \
      --pushgateway.password-file="$S/wrong" & ONCE_PIDS+=($!)
    throttle; once "$fmt-$p-tokenfile" -- --log.format=$fmt --pushgateway.url="$url" --pushgateway.bearer-token-file="$S/token" & ONCE_PIDS+=($!)
    throttle; once "$fmt-$p-tokenenv" ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN="$TOKEN_ENV_SECRET" -- \
      --log.format=$fmt --pushgateway.url="$url" & ONCE_PIDS+=($!)
  done
done
wait "${ONCE_PIDS[@]}"
grep -q '^exit=0' "$OUT/logfmt-auth-pwfile.out" || { cat "$OUT/logfmt-auth-pwfile.out"; fail "right password did not land"; }
grep -q '^exit=0' "$OUT/json-auth-pwenv.out" || { cat "$OUT/json-auth-pwenv.out"; fail "password from env did not land"; }
grep -q 'HTTP 401' "$OUT/logfmt-auth-wrong.out" || fail "wrong password: no 401 named"
grep -q 'HTTP 400' "$OUT/logfmt-clash-pwfile.out" || fail "clash: no 400 named"
ok "right secrets land (file and env), wrong ones fail with 401; 400 and TLS failures logged"

# Malformed headers and configuration errors, secrets nearby.
once bad-header -- --pushgateway.url="http://127.0.0.1:$PLAIN" --pushgateway.header="Authorization Bearer $HDR_FLAG_SECRET"
once bad-header-env ECS_METRICS_PUSHER_PUSHGATEWAY_HEADER="X-Key: a,$HDR_ENV_SECRET" -- --pushgateway.url="http://127.0.0.1:$PLAIN"
once bad-header-newline -- --pushgateway.url="http://127.0.0.1:$PLAIN" --pushgateway.header="X-Key: a
$HDR_FLAG_SECRET"
once url-userinfo -- --pushgateway.url="http://tester:$PW_FILE_SECRET@127.0.0.1:$PLAIN"
once password-flag -- --pushgateway.url="http://127.0.0.1:$PLAIN" --pushgateway.password="$PW_FILE_SECRET"
grep -q '^exit=2' "$OUT/bad-header.out" || { cat "$OUT/bad-header.out"; fail "malformed header accepted"; }
ok "malformed headers and secrets in the wrong place are configuration errors"

# Loop mode with every secret, a few cycles, then SIGTERM.
ECS_METRICS_PUSHER_PUSHGATEWAY_HEADER="X-Env-Key: $HDR_ENV_SECRET" \
  start_pusher "$OUT/loop.out" --metadata.url="$META_URL" --log.level=debug --interval=200ms \
  --pushgateway.url="http://127.0.0.1:$AUTH" --pushgateway.username=tester --pushgateway.password-file="$S/wrong" \
  --pushgateway.header="X-Api-Key: $HDR_FLAG_SECRET"
sleep 1.5
# Nothing listens, no child process was started (no shell-outs).
listening=$(ss -Hltnp 2>/dev/null | grep -c "pid=$PUSHER_PID," || true)
assert_eq "loop: listening sockets of the pusher" 0 "$listening"
assert_eq "loop: child processes of the pusher" 0 "$(pgrep -c -P "$PUSHER_PID" || true)"
kill -TERM "$PUSHER_PID"; sleep 0.5
grep -q 'HTTP 401' "$OUT/loop.out" || fail "loop: 401 not logged"

# TLS verification is on by default (the untrusted run failed on the certificate).
grep -qiE 'certificate' "$OUT/logfmt-tls-pwfile.out" || { cat "$OUT/logfmt-tls-pwfile.out"; fail "TLS not verified by default"; }
ok "TLS certificate verified by default"

# The scan: each secret, and the base64 of user:secret (basic auth on the wire).
leaks=0
for s in "${SECRETS[@]}"; do
  for needle in "$s" "$(printf 'tester:%s' "$s" | base64)" "$(printf 'envuser:%s' "$s" | base64)"; do
    if grep -rlF -- "$needle" "$OUT" >/dev/null; then
      echo "LEAK of ${s:0:6}…: $(grep -rlF -- "$needle" "$OUT" | xargs -n1 basename | tr '\n' ' ')" >&2
      leaks=$((leaks + 1))
    fi
  done
done
assert_eq "secrets found in $(ls "$OUT" | wc -l) outputs of as many runs ($(cat "$OUT"/* | wc -l) lines)" 0 "$leaks"
