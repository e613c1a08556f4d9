#!/bin/bash
# The scrape endpoint (--web.listen-address) as a drop-in for the original
# exporter: a real Prometheus scrapes it (values worked out by hand), the
# original's URLs answer as the original's do, gzip, the healthcheck
# subcommand's exit codes, TLS + basic auth from an exporter-toolkit web
# config, and hostile clients (slowloris, oversized headers, 1000 quick
# connections) neither stop the cycles nor grow memory without bound.
. "$(dirname "$0")/lib.sh"
"$EMP_BIN" --version | grep -q 'scrape endpoint: not built' && skip "built without the scrape endpoint (-Dweb=disabled)"

FIX=knziiy_ecs_metrics_exporter/fargate-awsvpc-cgroupv1-edited
TASK_ID=49e756135b1849cf98cd6a12c78bc6ea
start_fake_metadata $FIX.task.json $FIX.stats.json; META=$PEER_PORT
start_pushgateway; PGW=$PEER_PORT

port_of() { sed -n 's/.*msg="serving metrics for scraping".* port=\([0-9]*\).*/\1/p' "$1" 2>/dev/null | head -1; }
has_port() { [ -n "$(port_of "$1")" ]; }
serve() { # NAME [flags...]: starts a pusher, sets PORT and PID
  local name=$1; shift
  start_pusher "$T/$name.log" --metadata.url="$META_URL" --interval=1s --web.listen-address=127.0.0.1:0 "$@"
  PID=$PUSHER_PID
  wait_for 10 has_port "$T/$name.log" || { cat "$T/$name.log"; fail "$name: not serving"; }
  PORT=$(port_of "$T/$name.log")
  wait_ready "${SCHEME:-http}://127.0.0.1:$PORT/-/ready" 10 ${CACERT:+--cacert "$CACERT"} || { cat "$T/$name.log"; fail "$name: never ready"; }
}

# 1. Beside a push sink, with the passthrough.
serve main --pushgateway.url="http://127.0.0.1:$PGW" --web.enable-metadata-passthrough; MAIN=$PORT MAIN_PID=$PID
URL=http://127.0.0.1:$MAIN
curl -s -D "$T/h" -o "$T/m" "$URL/metrics"
assert_eq "Content-Type" "text/plain; version=0.0.4; charset=utf-8" "$(sed -n 's/^Content-Type: \(.*\)\r$/\1/p' "$T/h")"
# Hand-worked from the fixture: containerA memory_stats.usage 30000000 minus
# stats.cache 10000000 = 20000000; cpu total_usage 1234567890 ns = 1.23456789 s.
LBL="container_name=\"containerA\",container_id=\"$TASK_ID-1059602171\",task_family=\"taskdef-name-test\",task_revision=\"123\",task_id=\"$TASK_ID\""
assert_eq "memory without cache, with task identity labels" 20000000 "$(text_value "ee_container_memory_usage_without_cache_byte{$LBL}" <"$T/m")"
assert_eq "cpu seconds" 1.23456789 "$(text_value "ee_container_cpu_usage_seconds_total{$LBL}" <"$T/m")"

# gzip when asked for, the same text inside; plain otherwise.
curl -s -H 'Accept-Encoding: gzip' -D "$T/hz" -o "$T/mz" "$URL/metrics"
grep -qi '^Content-Encoding: gzip' "$T/hz" || fail "no Content-Encoding: gzip"
gunzip -c "$T/mz" | grep -v cycle_duration >"$T/mz.txt"
curl -s "$URL/metrics" | grep -v cycle_duration >"$T/m2.txt"
cmp -s "$T/mz.txt" "$T/m2.txt" || fail "gzip body differs from the plain one"
ok "gzip: Content-Encoding gzip, same exposition"
grep -qi '^Content-Encoding' "$T/h" && fail "plain request got an encoding"
curl -s -o /dev/null -D "$T/hq0" -H 'Accept-Encoding: gzip;q=0, identity' "$URL/metrics"
grep -qi '^Content-Encoding' "$T/hq0" && fail "gzip;q=0 got gzip"
ok "gzip;q=0: plain"

# The original's URLs: /task and /stats are the raw bodies.
cmp -s <(curl -s "$URL/task") <(curl -s "$META_URL/task") || fail "/task differs from the metadata body"
cmp -s <(curl -s "$URL/stats") <(curl -s "$META_URL/task/stats") || fail "/stats differs from the metadata body"
ok "/task and /stats pass the metadata bodies through"
assert_eq "/task Content-Type" application/json "$(curl -s -o /dev/null -w '%{content_type}' "$URL/task")"
assert_eq "unknown path" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")"
assert_eq "POST" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$URL/metrics")"

# 2. A real Prometheus scrapes it.
start_prometheus "127.0.0.1:$MAIN"; PROM=$PEER_PORT
q() { curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
up_is_1() { [ "$(q up)" = 1 ]; }
has_series() { [ -n "$(q "$1")" ]; }
wait_for 20 up_is_1 || fail "Prometheus: up is not 1 ($(q up))"
ok "Prometheus: up 1"
wait_for 10 has_series 'ee_container_memory_usage_byte{container_name="containerA"}' || fail "Prometheus: no ee_ series"
assert_eq "Prometheus: containerA memory (usage 30000000)" 30000000 "$(q 'ee_container_memory_usage_byte{container_name="containerA"}')"
assert_eq "Prometheus: task cpu limit (Limits.CPU 0.5)" 0.5 "$(q "ee_task_cpu_limit{task_id=\"$TASK_ID\"}")"

# 3. Scrape-only (no push sink), without the passthrough: /task and /stats are 404.
serve only; ONLY=$PORT ONLY_PID=$PID
assert_eq "scrape-only: /metrics" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ONLY/metrics")"
assert_eq "no passthrough: /task" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ONLY/task")"
assert_eq "no passthrough: /stats" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ONLY/stats")"

# 4. The healthcheck subcommand: up 0, wrong path 1, down 1.
hc() { rc=0; ECS_METRICS_PUSHER_WEB_LISTEN_ADDRESS=$1 "$EMP_BIN" healthcheck "${@:2}" >"$T/hc.log" 2>&1 || rc=$?; echo $rc; }
assert_eq "healthcheck: up" 0 "$(hc ":$ONLY")"
assert_eq "healthcheck: /-/ready" 0 "$(hc ":$ONLY" --healthcheck.path=/-/ready)"
assert_eq "healthcheck: wrong path" 1 "$(hc ":$ONLY" --healthcheck.path=/nope)"
stop_peer $ONLY_PID
assert_eq "healthcheck: down" 1 "$(hc ":$ONLY" --healthcheck.timeout=1s)"

# 3b. The original exporter's task definition, with only the image changed:
# its $ECS_METRICS_EXPORTER_PORT (here 0: the kernel picks) and the metadata
# variable ECS sets, nothing else. ":port" answers on IPv4 and IPv6.
ECS_CONTAINER_METADATA_URI_V4=$META_URL ECS_METRICS_EXPORTER_PORT=0 start_pusher "$T/original.log"
ORIGINAL_PID=$PUSHER_PID
wait_for 10 has_port "$T/original.log" || { cat "$T/original.log"; fail "ECS_METRICS_EXPORTER_PORT: not serving"; }
ORIGINAL=$(port_of "$T/original.log")
wait_ready "http://127.0.0.1:$ORIGINAL/-/ready" 10 || fail "ECS_METRICS_EXPORTER_PORT: never ready"
assert_eq "original's task definition: cpu seconds over IPv4" 1.23456789 \
  "$(curl -s "http://127.0.0.1:$ORIGINAL/metrics" | text_value "ee_container_cpu_usage_seconds_total{$LBL}")"
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
  assert_eq "original's task definition: cpu seconds over IPv6" 1.23456789 \
    "$(curl -s "http://[::1]:$ORIGINAL/metrics" | text_value "ee_container_cpu_usage_seconds_total{$LBL}")"
else
  echo "SKIP part: no IPv6 loopback here"
fi
rc=0; ECS_METRICS_EXPORTER_PORT=$ORIGINAL "$EMP_BIN" healthcheck >"$T/hc-original.log" 2>&1 || rc=$?
assert_eq "healthcheck from \$ECS_METRICS_EXPORTER_PORT" 0 $rc
stop_peer $ORIGINAL_PID

# 5. TLS + basic auth from an exporter-toolkit web config. The lean static
# build serves plain HTTP only: there a TLS config is refused at start, and
# basic auth works over HTTP.
HTTP_ONLY=false
"$EMP_BIN" --version | grep -q 'scrape endpoint: .*(HTTP only)' && HTTP_ONLY=true
if $HTTP_ONLY && command -v htpasswd >/dev/null && command -v openssl >/dev/null; then
  PASSWORD='pw-31c9e0d7-Right'
  HASH=$(htpasswd -nbBC 10 tester "$PASSWORD" | cut -d: -f2)
  printf 'basic_auth_users:\n  tester: %s\n' "'$HASH'" >"$T/auth.yml"
  serve auth --web.config.file="$T/auth.yml"
  assert_eq "HTTP only build: basic auth, right password" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -u "tester:$PASSWORD" "http://127.0.0.1:$PORT/metrics")"
  assert_eq "HTTP only build: basic auth, no password" 401 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")"
  mkdir -p "$T/notls"; make_test_pki "$T/notls"
  printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n' >"$T/notls/tls.yml"
  rc=0; "$EMP_BIN" --metadata.url="$META_URL" --web.listen-address=127.0.0.1:0 --web.config.file="$T/notls/tls.yml" >"$T/notls.log" 2>&1 || rc=$?
  assert_eq "HTTP only build: a TLS web config is refused at start (exit 2)" 2 $rc
  grep -q 'tls_server_config needs TLS, which this build lacks' "$T/notls.log" || { cat "$T/notls.log"; fail "no clear cause"; }
fi
if ! $HTTP_ONLY && command -v openssl >/dev/null && command -v htpasswd >/dev/null; then
  TLS=$T/tls; mkdir -p "$TLS"; PASSWORD='pw-31c9e0d7-Right'
  make_test_pki "$TLS"
  HASH=$(htpasswd -nbBC 10 tester "$PASSWORD" | cut -d: -f2)
  # Relative file names: read relative to the config file, as exporter-toolkit does.
  printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  tester: %s\n' "'$HASH'" >"$TLS/web.yml"
  SCHEME=https CACERT=$TLS/ca.crt
  serve tls --web.config.file="$TLS/web.yml"
  TLSURL=https://127.0.0.1:$PORT
  code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.crt" "$@"; }
  assert_eq "TLS + right password" 200 "$(code -u "tester:$PASSWORD" "$TLSURL/metrics")"
  assert_eq "TLS + wrong password" 401 "$(code -u "tester:wrong" "$TLSURL/metrics")"
  assert_eq "TLS, no password" 401 "$(code "$TLSURL/metrics")"
  assert_eq "plain HTTP to the TLS port fails" 000 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")"
  assert_eq "TLS: /-/healthy without a password" 200 "$(code "$TLSURL/-/healthy")"
  assert_eq "healthcheck over TLS (from the web config)" 0 "$(ECS_METRICS_PUSHER_WEB_CONFIG_FILE=$TLS/web.yml hc ":$PORT")"
  grep -q "$PASSWORD" "$T"/*.log && fail "the password reached a log"
  printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n' >"$TLS/mtls.yml"
  serve mtls --web.config.file="$TLS/mtls.yml"
  SCHEME=http CACERT=
  assert_eq "mTLS with the client certificate" 200 "$(code --cert "$TLS/client.crt" --key "$TLS/client.key" "https://127.0.0.1:$PORT/metrics")"
  assert_eq "mTLS without a client certificate" 403 "$(code "https://127.0.0.1:$PORT/metrics")"
  printf 'tls_server_config:\n  cert_file: server.crt\n  min_version: TLS13\n' >"$TLS/bad.yml"
  rc=0; "$EMP_BIN" --metadata.url="$META_URL" --web.listen-address=127.0.0.1:0 --web.config.file="$TLS/bad.yml" >"$T/bad.log" 2>&1 || rc=$?
  assert_eq "unsupported web config key: exit 2" 2 $rc
  grep -q 'min_version: not supported' "$T/bad.log" || { cat "$T/bad.log"; fail "no clear cause for min_version"; }
elif ! $HTTP_ONLY; then
  echo "SKIP part: openssl or htpasswd missing"
fi

# 6. Abuse, against the main instance (pushing to the Pushgateway every second).
rss() { awk '/^VmRSS/ {print $2}' "/proc/$MAIN_PID/status"; }
reads() { curl -s "http://127.0.0.1:$META/_control" | jq .stats_requests; }
RSS0=$(rss)
# Oversized request headers: refused (431), the connection's memory stays bounded.
BIG=$(head -c 100000 /dev/zero | tr '\0' a)
assert_eq "oversized header" 431 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $BIG" "$URL/metrics")"
# 1000 quick connections: every one served.
assert_eq "1000 quick connections served" 1000 "$(python3 "$EMP_SRC/tests/scrape_abuse.py" flood "$MAIN" 1000)"
# Slowloris: 300 connections trickling a header for 4 s. Cycles (metadata
# reads, pushes) go on meanwhile, and memory stays bounded.
python3 "$EMP_SRC/tests/scrape_abuse.py" slowloris "$MAIN" 300 4 >"$T/slow" &
SLOW=$!
R0=$(reads); P0=$(curl -s "http://127.0.0.1:$PGW/metrics" | grep -c '^push_time_seconds')
reads_at_least() { [ "$(reads)" -ge "$1" ]; }
wait_for 15 reads_at_least $((R0 + 3)) || fail "cycles stopped during slowloris"
ok "cycles go on during slowloris ($R0 -> $(reads) metadata reads)"
push_time() { curl -s "http://127.0.0.1:$PGW/metrics" | sed -n 's/^push_time_seconds{.*} //p' | head -1; }
pushed_since() { [ "$(push_time)" != "$1" ]; }
PT0=$(push_time)
wait_for 10 pushed_since "$PT0" ||
  fail "pushes stopped during slowloris"
ok "pushes go on during slowloris"
RSS1=$(rss)
wait $SLOW
ok "slowloris: $(cat "$T/slow") (opened, closed by the server); RSS ${RSS0} kB -> ${RSS1} kB"
# Under AddressSanitizer freed memory is quarantined (up to 256 MiB), so RSS
# says nothing there; the bound is checked on normal builds.
if nm "$EMP_BIN" 2>/dev/null | grep -q __asan_init; then
  ok "RSS bound not checked under AddressSanitizer (its quarantine holds freed memory)"
else
  [ $((RSS1 - RSS0)) -lt 16384 ] || fail "RSS grew by $((RSS1 - RSS0)) kB under abuse"
  ok "RSS growth under abuse below 16 MiB ($((RSS1 - RSS0)) kB)"
fi
# The attacker's connections held the per-address slots; once it goes, they free up.
wait_ready "$URL/metrics" 15 || fail "not served again after the abuse"
ok "served again after the abuse"
_alive "$MAIN_PID" || fail "the pusher died"
[ "$P0" -ge 1 ] || fail "no push reached the Pushgateway"
echo "all $_CHECKS checks passed"
