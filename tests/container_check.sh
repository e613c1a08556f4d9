#!/bin/bash
# The container image: container/check.sh builds container/Dockerfile offline
# with buildah (Debian 12 base made by debootstrap, cached under
# ~/.cache/ecs-metrics-pusher), then checks size, user, entrypoint, no shell,
# and runs the image's binary with the image's libraries (--version, a --once
# replay, one HTTP fetch). Skipped when buildah or debootstrap is missing.
. "$(dirname "$0")/lib.sh"
# Opt-in: building two images from source takes about 6 minutes on 2 cores,
# more than CI's budget allows beside the rest; run it with
# EMP_CONTAINER_CHECK=1 bash tests/run.sh, or bash container/check.sh.
[ "${EMP_CONTAINER_CHECK:-0}" = 1 ] || skip "the container image check is opt-in (EMP_CONTAINER_CHECK=1): it builds amd64 and arm64 images from source, ~6 min"
command -v buildah >/dev/null || skip "buildah is not installed: the container image is not checked (apt-get install buildah debootstrap, or EMP_EXTRA_PACKAGES='buildah debootstrap' bash tests/run.sh)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed: the container image is not checked (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || skip "container/check.sh needs root (buildah chroot isolation)"
bash "$EMP_SRC/container/check.sh" || fail "container/check.sh failed"
ok "container/check.sh: image built offline and checked"
