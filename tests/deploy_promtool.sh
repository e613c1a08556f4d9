#!/bin/bash
# deploy/prometheus: the Prometheus config and the rules are valid for the real
# promtool, and the rules' unit tests (hand-worked values, every alert firing
# and not firing) pass.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"
D=$EMP_SRC/deploy/prometheus

out=$(promtool check config "$D/pushgateway-scrape.yml" 2>&1) || fail "promtool check config: $out"
echo "$out" | grep -q 'SUCCESS: 1 rule files found' || fail "config does not load rules.yml: $out"
ok "promtool check config pushgateway-scrape.yml (rules.yml found)"

out=$(promtool check config "$D/pushgateway-scrape.yml" 2>&1)
grep -q 'honor_labels: true' "$D/pushgateway-scrape.yml" || fail "the Pushgateway job must keep the pushed labels (honor_labels: true)"
ok "the Pushgateway job has honor_labels: true"

out=$(promtool check rules "$D/rules.yml" 2>&1) || fail "promtool check rules: $out"
n=$(echo "$out" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
ok "promtool check rules rules.yml ($n rules)"

# Every alert of rules.yml has tests in rules_test.yml (firing and not firing).
for a in $(sed -n 's/^ *- alert: *//p' "$D/rules.yml"); do
  fires=$(awk -v a="$a" '$0 ~ "alertname: "a"$" { getline; getline; if ($0 ~ /exp_alerts: *\[\]/) q++; else f++ } END { printf "%d %d", f, q }' "$D/rules_test.yml")
  [ "${fires% *}" -ge 1 ] && [ "${fires#* }" -ge 1 ] || fail "alert $a needs a firing and a not-firing test (has $fires)"
  ok "alert $a is tested firing and not firing"
done
# Every recording rule has an expected value in rules_test.yml.
for r in $(sed -n 's/^ *- record: *//p' "$D/rules.yml"); do
  grep -q "expr: $r\$" "$D/rules_test.yml" || fail "recording rule $r has no promql_expr_test"
done
ok "every recording rule has a hand-worked expected value"

cd "$D" && out=$(promtool test rules rules_test.yml 2>&1) || fail "promtool test rules: $out"
ok "promtool test rules rules_test.yml: SUCCESS"
