#!/bin/bash
# Issue 13 items 10 and 11: secrets never reach a log line or an error.
# 10: a Pushgateway (and a proxy) that echoes every request header in its
#     error body: basic auth (and its base64), a bearer token, proxy
#     credentials from the environment (and their base64), header values down
#     to 3 bytes — at debug level, in logfmt and JSON.
# 11: mistyped URLs with credentials — a scheme with one slash, no scheme and
#     a token in the query, a password holding '/', credentials in
#     --metadata.url — exit 2 (or are redacted), no secret in any output,
#     nor in the start-up line.
. "$(dirname "$0")/lib.sh"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
start_fake_metadata $FIX.task.json $FIX.stats.json
d=$T/echo; mkdir -p "$d"
python3 "$EMP_SRC/tests/hostile_peer.py" --port-file "$d/port" --requests-file "$d/requests" --echo &
_PIDS="$_PIDS $!"
wait_for 10 test -s "$d/port" || fail "echoing peer did not start"
ECHO=http://127.0.0.1:$(cat "$d/port")

PW='pw-e1b7c0d9a4'; TOKEN='tok-93fa0c1e57'; PROXY_PW='ppw-7c2d91e0b3'; SHORT='Zq#'; HDR='hdr-50a8e2c7d1'
printf '%s\n' "$PW" >"$T/pw"; printf '%s\n' "$TOKEN" >"$T/token"
b64() { printf '%s' "$1" | base64 -w0; }
SECRETS=("$PW" "$TOKEN" "$PROXY_PW" "$SHORT" "$HDR" "$(b64 "tester:$PW")" "$(b64 "puser:$PROXY_PW")")
OUT=$T/out; mkdir -p "$OUT"
runs=0
run() { # NAME [env...] -- flags...
  local name=$1; shift; local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" "$EMP_BIN" --metadata.url="$META_URL" --log.level=debug "$@" >"$OUT/$name.out" 2>&1
  echo "exit=$?" >>"$OUT/$name.out"
  runs=$((runs + 1))
}
for fmt in logfmt json; do
  run "$fmt-basic" -- --once --log.format=$fmt --pushgateway.url="$ECHO" --pushgateway.username=tester \
    --pushgateway.password-file="$T/pw" --pushgateway.header="X-Api-Key: $HDR" --pushgateway.header="X-Short: $SHORT"
  run "$fmt-bearer" -- --once --log.format=$fmt --pushgateway.url="$ECHO" --pushgateway.bearer-token-file="$T/token"
  run "$fmt-short" -- --once --log.format=$fmt --pushgateway.url="$ECHO" --pushgateway.header="X-Short: $SHORT"
  # The echoing peer is the proxy too: it sees (and echoes) Proxy-Authorization.
  run "$fmt-proxy" "http_proxy=http://puser:$PROXY_PW@127.0.0.1:$(cat "$d/port")" -- --once --log.format=$fmt \
    --pushgateway.url="http://pgw.invalid:9091"
  run "$fmt-HTTP_PROXY" "HTTP_PROXY=http://puser:$PROXY_PW@127.0.0.1:$(cat "$d/port")" -- --once --log.format=$fmt \
    --pushgateway.url="http://pgw.invalid:9091"
done

[ "$(wc -l <"$d/requests")" -ge 8 ] || fail "the echoing peer saw only $(wc -l <"$d/requests") requests"
grep -q 'HTTP 400' "$OUT/logfmt-basic.out" || { cat "$OUT/logfmt-basic.out"; fail "no HTTP 400 from the echoing peer"; }
ok "echoing peer: $(wc -l <"$d/requests") requests answered with their headers echoed"

# 11: mistyped URLs.
for url in "https:/u:$PW@h" "host/?token=$TOKEN" "https://u:p/$PW@h:1/x" "http://u:$PW@127.0.0.1:1/x" \
           "pgw.example:9091/?token=$TOKEN#$HDR" "https//u:$PW@h"; do
  run "url-$runs" -- --once --pushgateway.url="$url"
  assert_eq "--pushgateway.url '$(sed "s/$PW/<pw>/; s/$TOKEN/<token>/; s/$HDR/<hdr>/" <<<"$url")': exit code" "exit=2" "$(tail -1 "$OUT/url-$((runs - 1)).out")"
done
for url in "http:/u:$PW@127.0.0.1:1/v4" "127.0.0.1:1/v4?token=$TOKEN"; do
  run "meta-$runs" -- --once --metadata.url="$url" --textfile.path=/dev/null
  assert_eq "mistyped --metadata.url: exit code" "exit=2" "$(tail -1 "$OUT/meta-$((runs - 1)).out")"
done
# Well-formed credentials in --metadata.url are redacted wherever the URL shows.
run meta-creds -- --once --metadata.url="http://u:$PW@127.0.0.1:1/v4?token=$TOKEN" --textfile.path=/dev/null \
  --startup.retry-timeout=1s
grep -q 'metadata.url=http://<redacted>@127.0.0.1:1/v4?<redacted>' "$OUT/meta-creds.out" ||
  { cat "$OUT/meta-creds.out"; fail "the start-up line does not show the metadata URL redacted"; }

found=0
for f in "$OUT"/*.out; do
  for s in "${SECRETS[@]}"; do
    if grep -qF -- "$s" "$f"; then echo "secret '$s' in $f:" >&2; grep -F -- "$s" "$f" | head -3 >&2; found=$((found + 1)); fi
  done
done
assert_eq "secrets (and their base64) found in $runs runs' output" 0 "$found"
echo "all hostile secret checks passed"
