#!/bin/bash
# Runs the libFuzzer targets (fuzz/fuzz_*.cc), seeded from the real captures
# in tests/fixtures (seeds are generated at run time) and from the saved
# crash inputs in fuzz/regressions/.
#
#   bash fuzz/run.sh --smoke [TOTAL_SECONDS]   CI: every target, TOTAL_SECONDS (default 60) in all
#   bash fuzz/run.sh --long [SECONDS_EACH]     the long run (default 3600 s per target); the
#                                              corpus grows in build-fuzz/corpus/ across runs
#   bash fuzz/run.sh --build-only             configure and build every target, run none
#   bash fuzz/run.sh ... [TARGET...]           only these (metadata_parser pipeline text_format
#                                              rfc3339 duration grouping_key retry_after
#                                              url_secrets textfile_name)
# Environment: FUZZ_BUILD (default build-fuzz; configured and built here when
# missing), FUZZ_JOBS (targets run at once, default 2), FUZZ_SUMMARY (file that
# receives one "target OK|FAILED executions" line per target).
# A crash leaves its input in $FUZZ_BUILD/artifacts/; copy it to
# fuzz/regressions/<target>/ once fixed, and the unit test
# fuzz_regressions_test replays it in every build from then on.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
ALL_TARGETS=(metadata_parser pipeline text_format rfc3339 duration grouping_key retry_after url_secrets textfile_name)

mode=smoke
budget=60
if [ "${1:-}" = --build-only ]; then mode=build; shift; fi
if [ "${1:-}" = --smoke ]; then shift; [[ "${1:-}" =~ ^[0-9]+$ ]] && { budget=$1; shift; }; fi
if [ "${1:-}" = --long ]; then mode=long; budget=3600; shift; [[ "${1:-}" =~ ^[0-9]+$ ]] && { budget=$1; shift; }; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-2}
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 meson setup "$BUILD" -Dfuzz=true -Dtests=false -Dwerror=true \
    --buildtype=debugoptimized -Db_ndebug=false >/dev/null || { echo "fuzz: meson setup failed" >&2; exit 1; }
fi
ninja -C "$BUILD" $(for t in "${targets[@]}"; do echo "fuzz/fuzz_$t"; done) >"$BUILD/fuzz-ninja.log" 2>&1 ||
  { tail -30 "$BUILD/fuzz-ninja.log" >&2; echo "fuzz: build failed" >&2; exit 1; }
[ "$mode" != build ] || exit 0

if [ "$mode" = smoke ]; then
  # Targets run $JOBS at a time; each gets its share of the wall-clock budget.
  rounds=$(( (${#targets[@]} + JOBS - 1) / JOBS ))
  per_target=$(( budget / rounds )); [ "$per_target" -ge 1 ] || per_target=1
else
  per_target=$budget
fi

WORK=$BUILD/fuzz-run
rm -rf "$WORK"; mkdir -p "$WORK" "$BUILD/artifacts"

# --- seeds from the bundled captures, written fresh each run ---
make_seeds() { # TARGET DIR
  local t=$1 d=$2 f task stats n=0
  mkdir -p "$d"
  case $t in
    metadata_parser)
      for f in tests/fixtures/*/*.json; do cp "$f" "$d/$(echo "${f#tests/fixtures/}" | tr / _)"; done ;;
    pipeline)
      # Every /task with its /task/stats; stats without a task of their own are
      # paired with each /task of the same source.
      for task in tests/fixtures/*/*.task.json; do
        stats=${task%.task.json}.stats.json
        [ -f "$stats" ] || stats=/dev/null
        { cat "$task"; printf '\n@@STATS@@\n'; cat "$stats"; } >"$d/$((n += 1))"
      done
      for stats in tests/fixtures/*/*.stats.json tests/fixtures/*/*container-stats.json; do
        [ -f "${stats%.stats.json}.task.json" ] && continue
        for task in "$(dirname "$stats")"/*.task.json; do
          [ -f "$task" ] || continue
          { cat "$task"; printf '\n@@STATS@@\n'; cat "$stats"; } >"$d/$((n += 1))"
        done
      done ;;
    rfc3339)
      grep -ohE '"[0-9]{4}-[0-9]{2}-[0-9]{2}T[^"]{0,40}"' -r tests/fixtures | sort -u | tr -d '"' |
        while IFS= read -r ts; do printf '%s' "$ts" >"$d/$((n += 1))"; done
      printf '0001-01-01T00:00:00Z' >"$d/zero"; printf '2016-12-31T23:59:60+01:00' >"$d/leap" ;;
    duration)
      for s in 0 250ms 10ms 15s 1m 1m30s 1h 2h45m10s500ms 1d 1w 1y; do printf '%s' "$s" >"$d/$s"; done ;;
    retry_after)
      # backoff (2 bytes), raw seconds (8 bytes), then the header value.
      for v in 0 1 120 86400 86401 9223372036854775807 99999999999999999999 -5 \
               "Fri, 31 Dec 9999 23:59:59 GMT" "Thu, 01 Jan 1970 00:00:00 GMT" "Sun, 06 Nov 1994 08:49:37 GMT" \
               "Sunday, 06-Nov-94 08:49:37 GMT" "Sun Nov  6 08:49:37 1994"; do
        { printf '\x00\xfa\x00\x00\x00\x00\x00\x00\x00\x3c'; printf '%s' "$v"; } >"$d/$((n += 1))"
      done ;;
    url_secrets)
      # which flag (1 byte), the part before the secret (length-prefixed), the part after.
      python3 - "$d" <<'PY'
import os, sys
d = sys.argv[1]
cases = [("https://u:", "@h/x"), ("https:/u:", "@h"), ("host/?token=", ""), ("https://u:p/", "@h:1/x"),
         ("http://169.254.170.2/v4/", ""), ("http://h/p#", ""), ("https://pgw:9091/?a=", "&b=c"),
         ("http://u:", "@127.0.0.1:9091"), ("", "@h"), ("https//u:", "@h")]
for i, (a, b) in enumerate(cases):
    for which in (0, 1):
        open(os.path.join(d, f"{i}-{which}"), "wb").write(bytes([which, len(a)]) + a.encode() + b.encode())
PY
      ;;
    textfile_name)
      grep -ohE '"arn:aws:ecs:[^"]*task/[^"]*"' -r tests/fixtures | sort -u | tr -d '"' |
        while IFS= read -r a; do printf '%s' "$a" >"$d/$((n += 1))"; done
      printf 'arn:aws:ecs:r:1:task/c/' >"$d/slash"; printf 'arn:aws:ecs:r:1:task/c/a%%2F..' >"$d/pct" ;;
    grouping_key|text_format)
      # Binary layouts (fuzz/targets.h): length-prefixed strings. Seed them with
      # real names and values from the captures: family, container names, ARNs.
      python3 - "$d" "$t" <<'PY'
import glob, json, os, sys
d, t = sys.argv[1], sys.argv[2]
vals = set()
for f in glob.glob("tests/fixtures/*/*.task.json"):
    try:
        j = json.load(open(f))
    except Exception:
        continue
    for k in ("Family", "Revision", "TaskARN", "Cluster", "AvailabilityZone", "ServiceName"):
        if isinstance(j.get(k), str): vals.add(j[k])
    for c in j.get("Containers", []):
        for k in ("Name", "DockerId", "DockerName", "Image"):
            if isinstance(c.get(k), str): vals.add(c[k])
vals |= {"", ".", "..", "a/b", "with space", "h\u00e9llo \u2603", "x\"y\\z\nw"}
vals = sorted(v.encode()[:255] for v in vals)
def s(b): return bytes([len(b)]) + b
for i in range(0, len(vals), 3):
    group = vals[i:i + 3]
    if t == "grouping_key":
        body = s(b"ecs") + bytes([len(group)]) + b"".join(s(n) + s(v) for n, v in zip([b"task_family", b"cluster", b"service_name"], group))
    else:
        body = bytes([len(group) - 1]) + b"".join(s(v) + (1234.5 + i).hex().encode()[:8].ljust(8, b"0") for v in group)
    open(os.path.join(d, str(i)), "wb").write(body)
PY
      ;;
  esac
  if [ -d "fuzz/regressions/$t" ]; then cp fuzz/regressions/"$t"/* "$d/" 2>/dev/null; fi
  return 0
}

run_target() { # TARGET
  local t=$1 seeds=$WORK/seeds/$t corpus=$BUILD/corpus/$t log=$WORK/$t.log
  make_seeds "$t" "$seeds"
  mkdir -p "$corpus"
  # -max_len: the largest capture is ~23 KB; pipeline inputs hold two bodies.
  "$BUILD/fuzz/fuzz_$t" "$corpus" "$seeds" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" >"$log" 2>&1
  local rc=$?
  local execs; execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  local result=OK; [ $rc -eq 0 ] || result=FAILED
  echo "$t $result ${execs:-0}" >"$WORK/$t.result"
}

echo "fuzz: ${#targets[@]} targets, ${per_target}s each, $JOBS at a time ($mode)"
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

total=0 failed=0
for t in "${targets[@]}"; do
  read -r name result execs <"$WORK/$t.result" || { name=$t result=FAILED execs=0; }
  total=$((total + execs))
  cov=$(grep -oE 'cov: [0-9]+' "$WORK/$t.log" | tail -1)
  printf 'fuzz %-16s %-6s %10s executions  %s  corpus %s\n' "$name" "$result" "$execs" "$cov" \
    "$(ls "$BUILD/corpus/$t" | wc -l)"
  if [ "$result" != OK ]; then
    failed=$((failed + 1))
    grep -E 'ERROR|fuzz property broken|SUMMARY|artifact|Test unit written' "$WORK/$t.log" | head -20 >&2
  fi
  [ -n "${FUZZ_SUMMARY:-}" ] && echo "$name $result $execs" >>"$FUZZ_SUMMARY"
done
echo "fuzz: $total executions in all, $failed target(s) failed"
[ "$failed" -eq 0 ]
