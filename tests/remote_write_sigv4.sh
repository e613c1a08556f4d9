#!/bin/bash
# SigV4-signed remote write (Amazon Managed Service for Prometheus), against
# tests/fake_aws.py: a credentials endpoint whose keys expire and rotate every
# few seconds, and a receiver that recomputes each request's signature with
# Debian's python3-botocore and refuses a wrong one. Credentials from the
# environment and from the endpoint (FULL_URI with a token file); a wrong
# secret is refused and not retried; no key, secret or token in any log.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import botocore' 2>/dev/null || skip "python3-botocore is not installed (tests/setup.sh installs it)"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
start_fake_metadata $FIX.task.json $FIX.stats.json
STATIC_KEY=AKIAEMPTESTSTATIC01
STATIC_SECRET=emp-static-secret-$RANDOM$RANDOM
AUTH_TOKEN=emp-auth-token-$RANDOM$RANDOM
/usr/bin/python3 "$EMP_SRC/tests/fake_aws.py" --region eu-west-1 --lifetime 6 --auth-token "$AUTH_TOKEN" \
  --static-key "$STATIC_KEY" --static-secret "$STATIC_SECRET" --port-file "$T/aws.ports" >"$T/aws.log" 2>&1 &
AWS_PID=$!; _PIDS="$_PIDS $AWS_PID"
wait_for 10 test -s "$T/aws.ports" || { cat "$T/aws.log"; fail "fake_aws.py did not start"; }
read -r CRED RECV <"$T/aws.ports"
RW=(--remote-write.url="http://127.0.0.1:$RECV/workspaces/ws-test/api/v1/remote_write" --remote-write.sigv4.region=eu-west-1)
counts() { curl -s "http://127.0.0.1:$RECV/_control"; }
count() { counts | jq -r ".$1"; }
clean_env=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  -u AWS_CONTAINER_CREDENTIALS_FULL_URI -u AWS_CONTAINER_AUTHORIZATION_TOKEN -u AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)

# 1. Long-term keys from the environment.
"${clean_env[@]}" AWS_ACCESS_KEY_ID=$STATIC_KEY AWS_SECRET_ACCESS_KEY=$STATIC_SECRET \
  "$EMP_BIN" --once --metadata.url="$META_URL" "${RW[@]}" --log.level=debug 2>"$T/static.log" ||
  { cat "$T/static.log" "$T/aws.log"; counts; fail "--once with keys from the environment failed"; }
assert_eq "environment keys: signature accepted" 1 "$(count accepted)"

# 2. The task role through AWS_CONTAINER_CREDENTIALS_FULL_URI with a token
# file: keys live 6 s and are refreshed at half their life, so over ~12
# one-second cycles the pusher signs with at least 3 keys, never an expired one.
printf '%s\n' "$AUTH_TOKEN" >"$T/token"
"${clean_env[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$CRED/v2/credentials/emp" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/token" \
  "$EMP_BIN" --metadata.url="$META_URL" "${RW[@]}" --interval=1s --interval.jitter=0 --log.level=debug \
  >"$T/role.log" 2>&1 &
ROLE_PID=$!; _PIDS="$_PIDS $ROLE_PID"
keys_at_least() { [ "$(counts | jq '.keys_used | length')" -ge "$1" ]; }
wait_for 60 keys_at_least 4 || { cat "$T/role.log"; counts; fail "credentials did not rotate"; }
kill -TERM "$ROLE_PID"; wait "$ROLE_PID"; rc=$?
assert_eq "task role: exit code after SIGTERM" 0 "$rc"
assert_eq "task role: no request refused across key rotations" 0 "$(count rejected)"
assert_eq "task role: no expired key used" 0 "$(count expired_key_used)"
ok "task role: $(count accepted) signed requests accepted with $(counts | jq '.keys_used | length') keys (3 rotations)"
grep -q 'staleness markers sent' "$T/role.log" || fail "no staleness markers at shutdown"
ok "task role: staleness markers signed and accepted at shutdown"

# 3. A wrong secret: 403, one attempt, one error line with AWS's explanation.
before=$(count rejected)
"${clean_env[@]}" AWS_ACCESS_KEY_ID=$STATIC_KEY AWS_SECRET_ACCESS_KEY=wrong-$STATIC_SECRET \
  "$EMP_BIN" --once --metadata.url="$META_URL" "${RW[@]}" --log.level=debug 2>"$T/wrong.log"
rc=$?
assert_eq "wrong secret: --once exit code (every sink failed)" 4 "$rc"
assert_eq "wrong secret: refused once, not retried" $((before + 1)) "$(count rejected)"
assert_eq "wrong secret: reason at the receiver" '"signature mismatch"' "$(counts | jq '.reasons[-1]')"
assert_eq "wrong secret: one error line" 1 "$(grep -c 'level=error.*refused the cycle.*403.*signature mismatch' "$T/wrong.log")"

# 4. A credentials endpoint that refuses us (wrong token): a clear error.
printf 'not-the-token\n' >"$T/badtoken"
"${clean_env[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$CRED/v2/credentials/emp" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/badtoken" \
  "$EMP_BIN" --once --metadata.url="$META_URL" "${RW[@]}" 2>"$T/badtoken.log"
assert_eq "credentials refused: --once exit code" 4 "$?"
grep -q 'no valid AWS credentials.*401' "$T/badtoken.log" || { cat "$T/badtoken.log"; fail "no clear error for refused credentials"; }
ok "credentials refused: one clear error"

# 5. No key id, secret, session token or authorization token in any log.
# (The fake keeps every key, secret and token it issued, which we read back.)
leaks=0
for s in $STATIC_SECRET $AUTH_TOKEN $(counts | jq -r '.keys_used[], .issued_secrets[]'); do
  if grep -rqF -- "$s" "$T"/*.log; then echo "leaked: ${s:0:6}…" >&2; leaks=$((leaks + 1)); fi
done
assert_eq "secrets in logs (debug level)" 0 "$leaks"
