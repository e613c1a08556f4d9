#!/bin/bash
# TLS, basic auth and mTLS against a real Pushgateway (--web.config.file),
# with a CA the test makes with openssl and a bcrypt hash from htpasswd.
# Right settings land; a wrong password fails with a clear 401 error; a
# missing CA or client certificate fails clearly; insecure-skip-verify warns.
# No secret (password, bearer token, header value) ever appears in any output.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl missing"
command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) missing"

FIX=ecs_exporter/fargate-awsvpc-cgroupv1
TASK_ID=bae32def0ab64f06818e8862e58f8d6d
PASSWORD='pw-7f3a9c2e-Right'
WRONG='pw-0b4d1e8f-Wrong'
TOKEN='tok-5e6c2a91d7'
HEADER_SECRET='hdr-93b1f0c4aa'
TLS=$T/tls; mkdir -p "$TLS"

# CA, server certificate for 127.0.0.1, client certificate, all from this CA.
make_test_pki "$TLS"
printf '%s\n' "$PASSWORD" >"$TLS/password"; printf '%s\n' "$WRONG" >"$TLS/wrong"; printf '%s' "$TOKEN" >"$TLS/token"
HASH=$(htpasswd -nbBC 10 tester "$PASSWORD" | cut -d: -f2)

cat >"$TLS/web.yml" <<YML
tls_server_config:
  cert_file: $TLS/server.crt
  key_file: $TLS/server.key
basic_auth_users:
  tester: '$HASH'
YML
# mTLS variant: the client_auth lines belong under tls_server_config.
cat >"$TLS/web-mtls.yml" <<YML
tls_server_config:
  cert_file: $TLS/server.crt
  key_file: $TLS/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $TLS/ca.crt
basic_auth_users:
  tester: '$HASH'
YML

start_pushgateway --web.config.file="$TLS/web.yml"; PGW=$PEER_PORT
start_pushgateway --web.config.file="$TLS/web-mtls.yml"; MTLS=$PEER_PORT
start_fake_metadata $FIX.task.json $FIX.stats.json
LOGS=()
push() { # NAME PORT [flags...] -> exit code in $rc, output in $T/NAME.log
  local name=$1 port=$2; shift 2
  LOGS+=("$T/$name.log")
  rc=0; "$EMP_BIN" --once --metadata.url="$META_URL" --pushgateway.url="https://127.0.0.1:$port" \
    --pushgateway.header="X-Team: $HEADER_SECRET" --log.level=debug "$@" >"$T/$name.log" 2>&1 || rc=$?
}
groups() { # PORT [curl flags] -> group count, read with the right credentials
  local port=$1; shift
  curl -s --cacert "$TLS/ca.crt" -u "tester:$PASSWORD" "$@" "https://127.0.0.1:$port/api/v1/metrics" | jq '.data | length'
}

# 1. TLS with the test CA + basic auth (password from a file).
push right $PGW --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.username=tester --pushgateway.password-file="$TLS/password"
[ $rc = 0 ] || { cat "$T/right.log"; fail "TLS + basic auth push exited $rc"; }
assert_eq "TLS + basic auth: group landed" 1 "$(groups $PGW)"
assert_eq "TLS + basic auth: value" 84111360 "$(curl -s --cacert "$TLS/ca.crt" -u "tester:$PASSWORD" \
  "https://127.0.0.1:$PGW/api/v1/metrics" | jq -r '.data[0].ee_container_memory_usage_byte.metrics[] | select(.labels.container_name=="ecs-exporter") | .value | tonumber')"

# 2. Password from the environment.
LOGS+=("$T/env.log")
rc=0; ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD=$PASSWORD "$EMP_BIN" --once --metadata.url="$META_URL" \
  --pushgateway.url="https://127.0.0.1:$PGW" --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.username=tester \
  --pushgateway.grouping-label=source=env --log.level=debug >"$T/env.log" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$T/env.log"; fail "password from the environment: exit $rc"; }
assert_eq "password from the environment: second group" 2 "$(groups $PGW)"

# 3. Wrong password: a clear 401, exit 4 (every sink failed), not retried.
push wrong $PGW --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.username=tester --pushgateway.password-file="$TLS/wrong"
assert_eq "wrong password: exit code" 4 $rc
grep -q 'sink=pushgateway err="PUT https://127.0.0.1:[0-9]*/metrics/job/ecs/.*: HTTP 401 Unauthorized' "$T/wrong.log" ||
  { cat "$T/wrong.log"; fail "no clear 401 error"; }
ok "wrong password: $(grep -o 'HTTP 401[^"]*' "$T/wrong.log")"
assert_eq "401 not retried" 0 "$(grep -c retrying "$T/wrong.log")"

# 4. A bearer token the Pushgateway does not accept: 401; the token is never shown.
push bearer $PGW --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.bearer-token-file="$TLS/token"
assert_eq "bearer token refused by a basic-auth Pushgateway: exit code" 4 $rc

# 5. No CA: verification fails, clearly, and is not retried.
push noca $PGW --pushgateway.username=tester --pushgateway.password-file="$TLS/password"
assert_eq "no CA: exit code" 4 $rc
grep -qi 'certificate' "$T/noca.log" || { cat "$T/noca.log"; fail "no certificate error"; }
ok "no CA: $(grep -o 'err="[^"]*' "$T/noca.log" | tail -1)"
assert_eq "no CA: not retried" 0 "$(grep -c retrying "$T/noca.log")"

# 6. insecure-skip-verify: lands, with one warning at start.
push insecure $PGW --pushgateway.insecure-skip-verify --pushgateway.username=tester --pushgateway.password-file="$TLS/password" \
  --pushgateway.grouping-label=source=insecure
[ $rc = 0 ] || { cat "$T/insecure.log"; fail "insecure-skip-verify push exited $rc"; }
assert_eq "insecure-skip-verify: warning lines" 1 "$(grep -c 'level=warn msg="TLS certificate verification of the Pushgateway is OFF' "$T/insecure.log")"
assert_eq "insecure-skip-verify: third group" 3 "$(groups $PGW)"

# 7. mTLS: with the client certificate it lands; without, a clear TLS error.
push mtls $MTLS --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.cert-file="$TLS/client.crt" \
  --pushgateway.key-file="$TLS/client.key" --pushgateway.username=tester --pushgateway.password-file="$TLS/password"
[ $rc = 0 ] || { cat "$T/mtls.log"; fail "mTLS push exited $rc"; }
assert_eq "mTLS: group landed" 1 "$(groups $MTLS --cert "$TLS/client.crt" --key "$TLS/client.key")"
push nocert $MTLS --pushgateway.ca-file="$TLS/ca.crt" --pushgateway.username=tester --pushgateway.password-file="$TLS/password"
assert_eq "mTLS without a client certificate: exit code" 4 $rc
# OpenSSL and GnuTLS name the server's alert; mbedTLS (the lean build) only
# sees the connection closed, which the error then explains.
grep -qE 'alert bad certificate|if it requires a client certificate, set --pushgateway.cert-file' "$T/nocert.log" ||
  { cat "$T/nocert.log"; fail "no clear TLS error"; }
ok "mTLS without a client certificate: $(grep -o 'err="[^"]*' "$T/nocert.log" | tail -1)"
# The refusal is a TLS alert, which is final. The server may also reset the
# connection while the body is still being sent; that looks like a network
# error, so it gets one retry, which then reads the alert.
retries=$(grep -c retrying "$T/nocert.log")
[ "$retries" -le 1 ] || fail "refused client certificate retried $retries times"
ok "refused client certificate: $retries retries (a reset mid-send gets one)"

# 8. No secret anywhere in what the pusher printed (debug level, start-up line included).
for s in "$PASSWORD" "$WRONG" "$TOKEN" "$HEADER_SECRET"; do
  if grep -lF -- "$s" "${LOGS[@]}"; then fail "secret '$s' found in the logs above"; fi
done
ok "no password, token or header value in ${#LOGS[@]} logs ($(cat "${LOGS[@]}" | wc -l) lines, debug level)"
