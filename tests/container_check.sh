#!/bin/bash
# The container image: container/check.sh builds container/Dockerfile offline
# with buildah (Debian 12 base made by debootstrap, cached under
# ~/.cache/ecs-metrics-pusher), then checks size, user, entrypoint, no shell,
# and runs the image's binary with the image's libraries (--version, a --once
# replay, one HTTP fetch). Skipped when buildah or debootstrap is missing.
. "$(dirname "$0")/lib.sh"
command -v buildah >/dev/null || skip "buildah is not installed: the container image is not checked (apt-get install buildah debootstrap, or EMP_EXTRA_PACKAGES='buildah debootstrap' bash tests/run.sh)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed: the container image is not checked (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || skip "container/check.sh needs root (buildah chroot isolation)"
bash "$EMP_SRC/container/check.sh" || fail "container/check.sh failed"
ok "container/check.sh: image built offline and checked"
