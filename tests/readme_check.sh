#!/bin/bash
# The documentation keeps up with the code: docs/metrics.md documents every
# metric of the metric table (src/metrics.cc), docs/configuration.md every flag
# the binary accepts and quotes its --help verbatim, the README stays one
# screen (≤ 10 KB) and every page it links to exists.
. "$(dirname "$0")/lib.sh"
DOCS=$EMP_SRC/docs
metrics=$(grep -o '"ee_[a-z_]*"' "$EMP_SRC/src/metrics.cc" | tr -d '"' | sort -u)
[ "$(echo "$metrics" | wc -l)" -ge 20 ] || fail "metric table not found"
for m in $metrics; do grep -q "\`$m\`" "$DOCS/metrics.md" || fail "docs/metrics.md does not document metric $m"; done
ok "docs/metrics.md documents all $(echo "$metrics" | wc -l) metrics"
flags=$("$EMP_BIN" --help | grep -o '^  --[a-z.-]*' | sed 's/^  //' | sort -u)
[ "$(echo "$flags" | wc -l)" -ge 25 ] || fail "--help lists too few flags"
for f in $flags; do grep -q -- "$f" "$DOCS/configuration.md" || fail "docs/configuration.md does not document flag $f"; done
ok "docs/configuration.md documents all $(echo "$flags" | wc -l) flags"
for f in $flags; do
  case $f in --help|--version) continue;; esac
  env=ECS_METRICS_PUSHER_$(echo "${f#--}" | tr 'a-z.-' 'A-Z__')
  "$EMP_BIN" --help | grep -q "$env" || fail "--help does not name $env for $f"
done
ok "--help names the environment variable of every flag"
# The Flags section quotes --help verbatim.
awk '/<!-- section: flags/{f=1} f&&/^```$/{n++; if(n==2) exit; next} f&&n==1' "$DOCS/configuration.md" >"$T/doc_help"
"$EMP_BIN" --help >"$T/help"
diff -u "$T/doc_help" "$T/help" >"$T/diff" || fail "docs/configuration.md's Flags section differs from --help: $(head -20 "$T/diff")"
ok "docs/configuration.md's Flags section is --help verbatim"
size=$(wc -c <"$EMP_SRC/README.md")
[ "$size" -le 10240 ] || fail "README.md is $size bytes (at most 10240: details belong in docs/)"
ok "README.md is $size bytes"
for link in $(grep -o '](\(docs/[a-z-]*\.md\|[A-Z]*\.md\))' "$EMP_SRC/README.md" | sed 's/^](//; s/)$//' | sort -u); do
  [ -f "$EMP_SRC/$link" ] || fail "README links to $link, which does not exist"
done
ok "every page the README links to exists"
