# tests/fault_lib.sh — helpers for the fault-injection tests (tests/fault_*.sh).
# Source after lib.sh.

# The value of an unlabelled-by-us series in a textfile, e.g.
#   series_value FILE ee_ecs_metrics_exporter_success
#   series_value FILE 'ee_ecs_metrics_exporter_push_errors_total{sink="textfile"'
# (the prefix up to the labels the sink adds; prints nothing when absent).
series_value() {
  local file=$1 prefix=$2
  [ -f "$file" ] || return 0
  awk -v p="$prefix" 'index($0, p) == 1 && (substr($0, length(p) + 1, 1) ~ /[{ ,]/) { print $NF; exit }' "$file"
}

# Succeeds when FILE's series PREFIX has VALUE (for wait_for).
series_is() { [ "$(series_value "$1" "$2")" = "$3" ]; }
# Succeeds when FILE's series PREFIX is at least VALUE.
series_at_least() { local v; v=$(series_value "$1" "$2"); [ -n "$v" ] && [ "${v%.*}" -ge "$3" ]; }

# The file is a whole exposition: promtool finds nothing, it ends in a newline.
assert_whole_file() { # FILE WHAT
  [ -s "$1" ] || fail "$2: $1 missing or empty"
  [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$2: $1 does not end in a newline"
  local p; p=$(promtool check metrics <"$1" 2>&1) || fail "$2: promtool: $p"
  [ -z "$p" ] || fail "$2: promtool: $p"
}

# No temp file (.<name>.<pid>.tmp) is left in DIR.
assert_no_tmp() { # DIR WHAT
  local left; left=$(find "$1" -maxdepth 1 -name '*.tmp' 2>/dev/null)
  [ -z "$left" ] || fail "$2: temp files left behind: $left"
  ok "$2: no temp file left"
}

# Lines of LOG matching an ERE.
count_lines() { grep -cE "$2" "$1" 2>/dev/null || true; }

# Waits for PID to exit within TIMEOUT_S; sets EXIT_CODE. Fails on timeout.
wait_exit() { # PID TIMEOUT_S WHAT
  local end=$(( $(_now_ms) + $2 * 1000 ))
  while _alive "$1"; do
    [ "$(_now_ms)" -lt "$end" ] || fail "$3: still running after $2 s"
    sleep 0.02
  done
  wait "$1" 2>/dev/null; EXIT_CODE=$?
}

# SIGTERM to PID; it must exit 0 within the 3 s shutdown timeout (plus slack),
# leaving FILE whole and no temp file in DIR.
assert_clean_stop() { # PID FILE DIR WHAT
  local t0 took
  t0=$(_now_ms)
  kill -TERM "$1"
  wait_exit "$1" 5 "$4"
  assert_eq "$4: exit code" 0 "$EXIT_CODE"
  took=$(( $(_now_ms) - t0 ))
  [ "$took" -le 3500 ] || fail "$4: took $took ms (shutdown timeout 3 s)"
  ok "$4: stopped in $took ms"
  assert_whole_file "$2" "$4"
  assert_no_tmp "$3" "$4"
}

assert_alive() { _alive "$1" || fail "$2: the process died"; ok "$2: still running"; }
