#!/bin/bash
# Fault injection on the textfile sink (issue 7): the directory goes missing,
# becomes unwritable, the disk fills (RLIMIT_FSIZE on the running process, and
# a full tmpfs where mounting is allowed). For every fault:
#  - the process keeps running (a SIGHUP during the fault is ignored);
#  - each failed cycle logs one "delivery failed" line naming the file and cause;
#  - the previous file stays byte-for-byte intact and no temp file is left;
#  - the next good cycle writes the file again, and its
#    ee_ecs_metrics_exporter_push_errors_total{sink="textfile"} counts the failures;
# SIGTERM during a fault exits 0 within the shutdown timeout; --once exits 4
# when the textfile is the only sink and fails.
# Tests run as root, so permission bits do not stop writes: "not writable" is
# made with `chattr +i` (immutable directory; refused even to root) where the
# file system supports it, else by running the pusher as nobody (setpriv).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

TASK=ecs_exporter/fargate-awsvpc-cgroupv1.task.json
STATS=ecs_exporter/fargate-awsvpc-cgroupv1.stats.json
start_fake_metadata "$TASK" "$STATS" --advance
META_PORT=$PEER_PORT
PUSH_ERRORS='ee_ecs_metrics_exporter_push_errors_total{sink="textfile"'
SUCCESS=ee_ecs_metrics_exporter_success
LOGS=$T
_fault_cleanup() {
  local p
  for p in $_PIDS; do stop_peer "$p" 2 >/dev/null 2>&1; done
  umount "$LOGS/tmpfs" 2>/dev/null
  chattr -R -i "$LOGS" 2>/dev/null
  _cleanup
}
trap _fault_cleanup EXIT
COMMON=(--delete-on-exit=false --metadata.url="$META_URL" --interval=200ms --interval.jitter=0s --shutdown-timeout=3s)

# break_and_snapshot BREAK_CMD (inside run_case): breaks the directory, waits
# for the first cycle that fails after it, then keeps a copy of the file as the
# fault left it. A copy taken before the break races a cycle already under way,
# which may still write the file (seen once under ASan on a loaded machine).
break_and_snapshot() {
  local before; before=$(count_lines "$LOG" 'msg="delivery failed"')
  eval "$1" || return 1
  wait_for 10 _failed_since "$before" || { cat "$LOG"; fail "$name: no delivery failure after the break"; }
  rm -f "$LOGS/$name.before"
  if [ -f "$F" ]; then cp "$F" "$LOGS/$name.before"; fi
}
_failed_since() { [ "$(count_lines "$LOG" 'msg="delivery failed"')" -gt "$1" ]; }

# run_case NAME CAUSE_ERE BREAK_CMD REPAIR_CMD [pusher prefix...]
# The pusher writes D/m.prom; BREAK_CMD breaks it, REPAIR_CMD repairs it.
run_case() {
  local name=$1 cause=$2 break_cmd=$3 repair_cmd=$4; shift 4
  local D=$T/$name F LOG=$LOGS/$name.log
  mkdir -p "$D"; F=$D/m.prom
  # The log goes through a pipe, as on ECS: RLIMIT_FSIZE would also cut a log file.
  "$@" "$EMP_BIN" "${COMMON[@]}" --textfile.directory="$D" --textfile.name=m.prom > >(cat >"$LOG") 2>&1 &
  local P=$!; _PIDS="$_PIDS $P"
  wait_for 10 series_is "$F" $SUCCESS 1 || { cat "$LOG"; fail "$name: first cycle"; }
  break_and_snapshot "$break_cmd" || fail "$name: could not break the directory"
  # A few more cycles fail; the file is exactly what it was.
  wait_for 10 _failed_since 3 || { cat "$LOG"; fail "$name: no delivery failures logged"; }
  assert_alive "$P" "$name"
  [ "$(count_lines "$LOG" "msg=\"delivery failed\" sink=textfile err=\".*($cause)")" -ge 3 ] ||
    { tail -3 "$LOG"; fail "$name: error line does not name /$cause/"; }
  ok "$name: one 'delivery failed' line per cycle naming /$cause/"
  if [ -e "$LOGS/$name.before" ] && [ -f "$F" ]; then
    cmp -s "$F" "$LOGS/$name.before" || fail "$name: previous file changed"
    ok "$name: previous file intact"
  fi
  assert_no_tmp "$D" "$name"
  kill -HUP "$P"; sleep 0.1
  assert_alive "$P" "$name (after SIGHUP)"
  eval "$repair_cmd" || fail "$name: could not repair"
  local failures; failures=$(count_lines "$LOG" 'msg="delivery failed"')
  wait_for 10 series_at_least "$F" "$PUSH_ERRORS" "$failures" || { cat "$LOG"; fail "$name: did not recover"; }
  ok "$name: recovered; push_errors_total{sink=textfile} = $(series_value "$F" "$PUSH_ERRORS")"
  assert_whole_file "$F" "$name"
  # Break it again and stop during the fault: exit 0 in time, nothing torn.
  break_and_snapshot "$break_cmd"
  sleep 0.5
  local t0; t0=$(_now_ms)
  kill -TERM "$P"
  wait_exit "$P" 5 "$name: SIGTERM"
  assert_eq "$name: SIGTERM during the fault: exit code" 0 "$EXIT_CODE"
  ok "$name: stopped in $(( $(_now_ms) - t0 )) ms"
  assert_no_tmp "$D" "$name (after SIGTERM)"
  if [ -f "$F" ]; then cmp -s "$F" "$LOGS/$name.before" || fail "$name: file changed during the fault"; fi
  local logged; logged=$(count_lines "$LOG" 'msg="delivery failed"')
  assert_eq "$name: error lines are exactly the delivery failures" "$logged" "$(count_lines "$LOG" 'level=error')"
  # --once against the broken directory: every sink failed → 4.
  ${ONCE_PREFIX:-"$@"} "$EMP_BIN" --once --metadata.url="$META_URL" --textfile.directory="$D" --textfile.name=m.prom \
    > >(cat >"$LOG.once") 2>&1
  local rc=$?; sleep 0.1
  assert_eq "$name: --once exit code" 4 "$rc"
  assert_eq "$name: --once logs one delivery failure" 1 "$(count_lines "$LOG.once" 'msg="delivery failed"')"
  assert_no_tmp "$D" "$name (--once)"
  eval "$repair_cmd" 2>/dev/null || true
}

# 1. The directory is removed (and later created again).
run_case missing 'No such file or directory' 'rm -rf "$D"' 'mkdir -p "$D"'

# 2. A file where the directory should be.
run_case notadir 'Not a directory' 'rm -rf "$D" && touch "$D"' 'rm -f "$D" && mkdir -p "$D"'

# 3. Not writable.
probe=$T/chattr-probe; mkdir -p "$probe"
if chattr +i "$probe" 2>/dev/null && ! touch "$probe/x" 2>/dev/null; then
  chattr -i "$probe"
  run_case readonly 'Operation not permitted|Permission denied' 'chattr +i "$D"' 'chattr -i "$D"'
else
  chattr -i "$probe" 2>/dev/null
  command -v setpriv >/dev/null || skip "neither chattr +i nor setpriv available"
  chmod 0777 "$T"
  run_case readonly 'Permission denied' 'chmod 0555 "$D"' 'chmod 0755 "$D"' \
    setpriv --reuid=65534 --regid=65534 --clear-groups
fi

# 4. Disk full, as RLIMIT_FSIZE: a limit below the file's size is set on the
# running process; write() must fail with EFBIG (SIGXFSZ ignored), not kill it.
# Only the soft limit moves: raising a hard limit needs CAP_SYS_RESOURCE.
size_limit() { prlimit --pid "$P" --fsize="$1:unlimited"; }  # $P: run_case's pusher
ONCE_PREFIX="prlimit --fsize=1024:unlimited --" \
  run_case fsize 'File too large' 'size_limit 1024' 'size_limit unlimited'

# 5. Disk full, as a full tmpfs (ENOSPC), where this machine lets us mount.
mkdir -p "$T/tmpfs"
if mount -t tmpfs -o size=64k tmpfs "$T/tmpfs" 2>/dev/null; then
  fill() { dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null; true; }  # $D: run_case's directory
  mkdir -p "$T/tmpfs/enospc"
  T_SAVE=$T; T=$T/tmpfs
  run_case enospc 'No space left on device' 'fill' 'rm -f "$D/filler"'
  T=$T_SAVE
else
  echo "# no tmpfs (mount not permitted here): ENOSPC covered by the RLIMIT_FSIZE case only"
fi
