#!/bin/bash
# Installs what the build and the tests need, from Debian 12's own packages:
#   bash tests/setup.sh         everything (tests/run.sh)
#   bash tests/setup.sh demo    only the build of the binary and a Pushgateway (tests/demo.sh)
# Safe to run again: it only calls apt when something is missing.
set -euo pipefail

# What building the binary needs.
BUILD=(meson ninja-build pkg-config g++ libcurl4-openssl-dev libsimdjson-dev libfmt-dev zlib1g-dev libsnappy-dev)
if [ "${1:-}" = demo ]; then
  PACKAGES=("${BUILD[@]}" prometheus-pushgateway curl jq)
else
PACKAGES=(
  "${BUILD[@]}" doctest-dev
  # the scrape endpoint (meson -Dweb=auto builds it when these are present)
  libmicrohttpd-dev libyaml-dev libcrypt-dev libgnutls28-dev
  # the real peers the tests talk to
  prometheus-pushgateway prometheus-node-exporter prometheus victoria-metrics
  # test tooling
  python3 curl jq openssl iproute2 procps apache2-utils
  # the AWS fakes check SigV4 with an independent implementation
  python3-botocore
  # hardening (issue 7): libFuzzer targets, the leak check
  clang-14 libclang-rt-14-dev valgrind
  # static checks (tests/lint.sh)
  clang-tidy clang-format
  # bench/ is built (not run) by tests/run.sh, so that it cannot rot unseen
  libbenchmark-dev prometheus-cpp-dev
)
fi
PACKAGES+=(${EMP_EXTRA_PACKAGES:-})

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# The Prometheus packages try to start their daemons on 0.0.0.0 at install
# time; tests start their own on 127.0.0.1, so forbid service starts during
# this install only. A policy file we created is removed again (also when the
# install fails), so later installs on this machine start their services as
# usual; one that was already there is left as it was.
# (EMP_POLICY_RC_D: another path, for tests/hostile_setup.sh only.)
POLICY=${EMP_POLICY_RC_D:-/usr/sbin/policy-rc.d}
if [ ! -e "$POLICY" ] && [ ! -L "$POLICY" ]; then
  trap '$SUDO rm -f "$POLICY"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
