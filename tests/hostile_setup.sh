#!/bin/bash
# Issue 13 item 18: tests/setup.sh forbids service starts (policy-rc.d) only
# while it installs, and leaves the machine as it found it: a policy file it
# created is removed afterwards (also when apt-get fails); one that was
# already there stays, byte for byte. apt-get and dpkg-query are stand-ins on
# PATH that record what they saw; nothing is installed.
. "$(dirname "$0")/lib.sh"

BIN=$T/bin; mkdir -p "$BIN"
POLICY=$T/policy-rc.d
cat >"$BIN/dpkg-query" <<'SH'
#!/bin/sh
exit 1
SH
cat >"$BIN/apt-get" <<SH
#!/bin/sh
# Records whether service starts were forbidden during the install.
case "\$*" in *install*)
  if [ -x "$POLICY" ] && "$POLICY"; then echo allowed; else echo "forbidden(\$?)"; fi >>"$T/seen"
  [ -e "$T/apt-fails" ] && exit 100 ;;
esac
exit 0
SH
chmod +x "$BIN/dpkg-query" "$BIN/apt-get"
run_setup() { PATH=$BIN:$PATH EMP_POLICY_RC_D=$POLICY bash "$EMP_SRC/tests/setup.sh" >/dev/null 2>&1; }

# 1. No policy file before: forbidden during the install, gone afterwards.
run_setup || fail "setup.sh failed with stand-in apt-get"
assert_eq "service starts during the install" "forbidden(101)" "$(tail -1 "$T/seen")"
[ ! -e "$POLICY" ] || fail "setup.sh left $POLICY behind"
ok "the policy file it created is removed afterwards"

# 2. apt-get fails: still removed.
touch "$T/apt-fails"
run_setup && fail "setup.sh should fail when apt-get does"
[ ! -e "$POLICY" ] || fail "setup.sh left $POLICY behind after a failed install"
ok "removed after a failed install too"
rm -f "$T/apt-fails"

# 3. A policy file already there (the machine's own) is kept unchanged.
printf '#!/bin/sh\n# the machine owner'"'"'s policy\nexit 0\n' >"$POLICY"; chmod 0755 "$POLICY"
cp "$POLICY" "$T/policy.before"
run_setup || fail "setup.sh failed"
cmp -s "$POLICY" "$T/policy.before" || fail "setup.sh changed an existing policy file"
assert_eq "an existing policy is used as it is" "allowed" "$(tail -1 "$T/seen")"
ok "an existing policy file stays, unchanged"
echo "all setup checks passed"
