#!/bin/bash
# Rewrites the Flags section of docs/configuration.md from the binary's --help
# (tests/readme_check.sh fails until it matches):
#   bash tests/update_flags_doc.sh [path/to/ecs-metrics-pusher]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/src/ecs-metrics-pusher}
"$BIN" --help | python3 -c '
import sys
help = sys.stdin.read()
path = "docs/configuration.md"
s = open(path).read()
i = s.index("<!-- section: flags")
a = s.index("\n", s.index("```", i)) + 1
b = s.index("```", a)
open(path, "w").write(s[:a] + help + s[b:])
'
