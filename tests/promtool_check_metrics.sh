#!/bin/bash
# Every bundled /task + /task/stats pair, replayed through the binary, must be
# accepted by Prometheus's own parser: `promtool check metrics` reports nothing.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"
pairs=0
for task in $(cd "$FIXTURES" && ls */*.task.json); do
  stats=${task%.task.json}.stats.json
  [ -f "$FIXTURES/$stats" ] || continue
  out=$T/$(echo "$task" | tr / _).prom
  "$EMP_BIN" --once --metadata.task-file="$FIXTURES/$task" --metadata.stats-file="$FIXTURES/$stats" \
    --textfile.path=- >"$out" 2>"$T/err" || fail "$task: exit $? $(cat "$T/err")"
  problems=$(promtool check metrics <"$out" 2>&1) || fail "$task: promtool: $problems"
  [ -z "$problems" ] || fail "$task: promtool: $problems"
  pairs=$((pairs + 1))
  ok "$task: promtool check metrics clean ($(grep -vc '^#' "$out") samples)"
done
[ "$pairs" -ge 15 ] || fail "only $pairs fixture pairs found"
