#!/bin/bash
# The README documents every metric of the metric table (src/metrics.cc) and
# every flag the binary accepts (its --help), so neither can drift unnoticed.
. "$(dirname "$0")/lib.sh"
README=$EMP_SRC/README.md
metrics=$(grep -o '"ee_[a-z_]*"' "$EMP_SRC/src/metrics.cc" | tr -d '"' | sort -u)
[ "$(echo "$metrics" | wc -l)" -ge 20 ] || fail "metric table not found"
for m in $metrics; do grep -q "\`$m\`" "$README" || fail "README does not document metric $m"; done
ok "README documents all $(echo "$metrics" | wc -l) metrics"
flags=$("$EMP_BIN" --help | grep -o '^  --[a-z.-]*' | sed 's/^  //' | sort -u)
[ "$(echo "$flags" | wc -l)" -ge 25 ] || fail "--help lists too few flags"
for f in $flags; do grep -q -- "$f" "$README" || fail "README does not document flag $f"; done
ok "README documents all $(echo "$flags" | wc -l) flags"
for f in $flags; do
  case $f in --help|--version) continue;; esac
  env=ECS_METRICS_PUSHER_$(echo "${f#--}" | tr 'a-z.-' 'A-Z__')
  "$EMP_BIN" --help | grep -q "$env" || fail "--help does not name $env for $f"
done
ok "--help names the environment variable of every flag"
# The Flags section quotes --help verbatim.
awk '/<!-- section: flags/{f=1} f&&/^```$/{n++; if(n==2) exit; next} f&&n==1' "$README" >"$T/readme_help"
"$EMP_BIN" --help >"$T/help"
diff -u "$T/readme_help" "$T/help" >"$T/diff" || fail "README's Flags section differs from --help: $(head -20 "$T/diff")"
ok "README's Flags section is --help verbatim"
