#!/bin/bash
# container/check.sh — build container/Dockerfile offline with buildah and
# check the image it makes. Run by hand (as root) or by tests/container_check.sh.
#
#   bash container/check.sh
#
# No container registry is needed: the Dockerfile's Debian 12 base is made
# locally with debootstrap from the Debian mirror this machine's apt already
# uses, and tagged with the name the Dockerfile asks for. The base root file
# system and buildah's storage (with its layer cache) are kept under
# $EMP_CONTAINER_CACHE (default ~/.cache/ecs-metrics-pusher), so a second run
# only rebuilds what changed.
#
# Then it inspects the image (size, non-root user, entrypoint, no shell, no
# package manager), extracts its root file system and runs the image's own
# binary with the image's own libraries in a chroot: --version, a --once
# replay of a bundled real capture given by environment variables, and one
# fetch over HTTP from the fake metadata endpoint (tests/fake_metadata.py).
#
# Environment: EMP_DEBIAN_MIRROR (default: read from /etc/apt/sources*),
# EMP_CONTAINER_CACHE, EMP_IMAGE (default localhost/ecs-metrics-pusher:check).
# Containers cannot be *run* on our machines (see peers.md §6); the chroot
# stands in for `docker run`.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${EMP_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-metrics-pusher}
IMAGE=${EMP_IMAGE:-localhost/ecs-metrics-pusher:check}
ARCH=$(dpkg --print-architecture)
SUITE=bookworm
# The base image name exactly as the Dockerfile's build stage writes it.
BASE=$(awk 'toupper($1) == "FROM" && $2 != "scratch" { print $2; exit }' "$SRC/container/Dockerfile")

say() { echo "check.sh: $*" >&2; }
die() { echo "check.sh: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root (buildah --isolation chroot and the chroot test need it)"
command -v buildah >/dev/null || die "buildah is not installed (Debian package buildah)"
command -v python3 >/dev/null || die "python3 is needed to read the image's configuration"

mkdir -p "$CACHE/containers"
BUILDAH=(buildah --root "$CACHE/containers/root" --runroot "$CACHE/containers/runroot" --storage-driver vfs)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/emp-container.XXXXXX")
META_PID=""
cleanup() {
  [ -z "$META_PID" ] || { kill "$META_PID" 2>/dev/null; wait "$META_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# The Debian mirror apt is configured with here (deb822 .sources or one-line
# sources.list), for the main suite and the security suite.
apt_uri() { # SUITE_REGEX -> first URI serving a suite that matches
  local re=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v re="$re" '
      /^[[:space:]]*$/ { if (u != "" && s ~ re && t ~ /(^| )deb( |$)/) { print u; done = 1; exit } u = s = t = ""; next }
      tolower($1) == "uris:" { u = $2 } tolower($1) == "suites:" { $1 = ""; s = $0 } tolower($1) == "types:" { $1 = ""; t = $0 }
      END { if (!done && u != "" && s ~ re && t ~ /(^| )deb( |$)/) print u }' "$f"
  done
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v re="$re" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) ~ re) print $i }'
}

# ---------------------------------------------------------------- base image
t_start=$(now)
if "${BUILDAH[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
  say "base image $BASE: cached"
else
  rootfs_tar=$CACHE/debian-12-$ARCH-minbase.tar
  if [ ! -s "$rootfs_tar" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is not installed (Debian package debootstrap)"
    mirror=${EMP_DEBIAN_MIRROR:-$(apt_uri "(^| )$SUITE( |$)" | sed -n 1p)}
    security=$(apt_uri "(^| )$SUITE-security( |$)" | sed -n 1p)
    [ -n "$mirror" ] || die "no Debian mirror for $SUITE in /etc/apt/sources*; set EMP_DEBIAN_MIRROR"
    say "debootstrap $SUITE ($ARCH, minbase) from the configured Debian mirror"
    t0=$(now)
    debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$WORK/rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    { echo "deb $mirror $SUITE main"; echo "deb $mirror $SUITE-updates main"
      [ -z "$security" ] || echo "deb $security $SUITE-security main"; } >"$WORK/rootfs/etc/apt/sources.list"
    rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
    tar -C "$WORK/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$WORK/rootfs"
    say "debootstrap took $(secs "$t0" "$(now)") s; cached in $rootfs_tar"
  fi
  c=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$c" "$rootfs_tar" / >/dev/null
  "${BUILDAH[@]}" config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  "${BUILDAH[@]}" commit --rm -q "$c" "$BASE" >/dev/null
  say "base image $BASE made from $rootfs_tar"
fi
t_base=$(now)

# ---------------------------------------------------------------- build
# The "deps" stage (apt packages, libcurl built from Debian's source) takes
# minutes and rarely changes: build it first and tag it, so that the layer
# cache keeps it. Every other layer is pruned after the build: vfs stores
# each layer as a full copy of its root file system (~1 GB here), so stale
# layers would fill the disk at every source change.
DEPS=localhost/ecs-metrics-pusher-deps:cache
BUD=("${BUILDAH[@]}" bud --isolation chroot --layers --force-rm --pull=never -f "$SRC/container/Dockerfile")
say "building the deps stage as $DEPS (cached after the first run)"
"${BUD[@]}" --target deps -t "$DEPS" "$SRC" >"$WORK/build-deps.log" 2>&1 ||
  { tail -40 "$WORK/build-deps.log" >&2; die "buildah bud --target deps failed"; }
t_deps=$(now)
prune() { # removes every untagged layer; repeated, as each pass frees the parents of the last
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$("${BUILDAH[@]}" rmi --prune 2>/dev/null)" ] || break
  done
}
# buildah 1.28 reuses a cached `COPY --from=build` layer even when the build
# stage produced a new binary, so the previous image and its layers go first:
# everything after the tagged deps stage is built afresh.
"${BUILDAH[@]}" rmi "$IMAGE" >/dev/null 2>&1 || true
prune
say "building $IMAGE from container/Dockerfile (buildah, vfs, chroot isolation, --pull=never)"
"${BUD[@]}" -t "$IMAGE" "$SRC" >"$WORK/build.log" 2>&1 ||
  { tail -40 "$WORK/build.log" >&2; die "buildah bud failed"; }
t_built=$(now)
grep -q 'COPY --from=build' "$WORK/build.log" || die "unexpected build log"
if grep -A1 'COPY --from=build' "$WORK/build.log" | grep -q 'Using cache'; then
  die "the final stage came from the layer cache, not from this build"
fi
prune
say "storage after pruning: $(du -sh "$CACHE/containers" | cut -f1) in $CACHE/containers"

# ---------------------------------------------------------------- inspect
config=$("${BUILDAH[@]}" inspect --type image "$IMAGE" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["OCIv1"]["config"]))')
field() { echo "$config" | python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1"; }
user=$(field User)
entrypoint=$(field Entrypoint)
cmd=$(field Cmd)
case "${user%%:*}" in ""|0|root) die "image runs as root (User='$user')";; esac
say "ok - user $user (not root)"
[ "$entrypoint" = '["/ecs-metrics-pusher"]' ] || die "entrypoint is $entrypoint"
say "ok - entrypoint $entrypoint, cmd $cmd"

c=$("${BUILDAH[@]}" from "$IMAGE")
mnt=$("${BUILDAH[@]}" mount "$c")
R=$WORK/image
mkdir -p "$R" && cp -a "$mnt/." "$R/"
"${BUILDAH[@]}" umount "$c" >/dev/null
"${BUILDAH[@]}" rm "$c" >/dev/null

for f in /bin/sh /bin/bash /bin/dash /usr/bin/sh /bin/busybox; do
  [ ! -e "$R$f" ] || die "the image contains a shell: $f"
done
for f in /usr/bin/apt /usr/bin/apt-get /usr/bin/dpkg /var/lib/dpkg; do
  [ ! -e "$R$f" ] || die "the image contains a package manager: $f"
done
say "ok - no shell, no package manager"
executables=$(cd "$R" && find . -type f -perm -u+x | sed 's|^\.||' | sort)
[ "$(echo "$executables" | grep -vc '\.so')" = 1 ] || die "unexpected executables: $executables"
[ -s "$R/etc/ssl/certs/ca-certificates.crt" ] || die "no CA bundle"
grep -q "^[^:]*:x:${user%%:*}:" "$R/etc/passwd" || die "user $user has no /etc/passwd entry"
say "ok - one program, CA bundle ($(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt") certificates), passwd entry for $user"

size=$(du -sb "$R" | cut -f1)
gz=$(tar -C "$R" --numeric-owner -cf - . | gzip -6 | wc -c)
files=$(cd "$R" && find . -type f | wc -l)
image_size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
say "image size: $size bytes uncompressed ($(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB; buildah says $image_size), $gz bytes gzip ($(awk -v b="$gz" 'BEGIN { printf "%.1f", b / 1e6 }') MB), $files files"

# ---------------------------------------------------------------- run
# The image's binary with the image's libraries only: chroot into the
# extracted root file system as the image's user (no shell needed: chroot
# execs the entrypoint directly).
in_image() { chroot --userspec="$user" "$R" /ecs-metrics-pusher "$@" 2>>"$WORK/run.err"; }

want_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
got=$(in_image --version)
[ "$got" = "ecs-metrics-pusher $want_version" ] || die "--version printed '$got', want 'ecs-metrics-pusher $want_version'"
say "ok - --version: $got"

# Replay a real Fargate capture, configured the way ECS does it: by environment.
fx=$SRC/tests/fixtures/ecs_exporter/fargate-awsvpc-cgroupv1
mkdir -p "$R/tmp/fixture"
cp "$fx.task.json" "$fx.stats.json" "$R/tmp/fixture/"
out=$(env ECS_METRICS_PUSHER_ONCE=true ECS_METRICS_PUSHER_TEXTFILE_PATH=- \
  ECS_METRICS_PUSHER_METADATA_TASK_FILE=/tmp/fixture/fargate-awsvpc-cgroupv1.task.json \
  ECS_METRICS_PUSHER_METADATA_STATS_FILE=/tmp/fixture/fargate-awsvpc-cgroupv1.stats.json \
  chroot --userspec="$user" "$R" /ecs-metrics-pusher 2>>"$WORK/run.err") || die "--once replay exited $?: $(cat "$WORK/run.err")"
value() { echo "$out" | awk -v s="$1" 'index($0, s"{") == 1 && index($0, "container_name=\"" "_task_" "\"") { print $NF; exit }'; }
# By hand from the capture: Limits CPU 0.25 vCPU, Memory 512 MiB; total_usage
# 932439492 + 322633383 ns; the stopped container's stats are null.
[ "$(echo "$out" | awk '/^ee_ecs_metrics_exporter_success/ { print $NF }')" = 1 ] || die "success is not 1"
[ "$(value ee_task_cpu_limit)" = 0.25 ] || die "ee_task_cpu_limit = $(value ee_task_cpu_limit)"
[ "$(value ee_task_memory_limit_byte)" = 536870912 ] || die "ee_task_memory_limit_byte = $(value ee_task_memory_limit_byte)"
[ "$(value ee_container_cpu_usage_seconds_total)" = 1.255072875 ] || die "task cpu = $(value ee_container_cpu_usage_seconds_total)"
say "ok - --once replay of $(basename "$fx") inside the image: $(echo "$out" | grep -vc '^#') samples, hand-checked limits and CPU"

# One real HTTP fetch through the image's libcurl from the fake endpoint.
python3 "$SRC/tests/fake_metadata.py" --task "$fx.task.json" --stats "$fx.stats.json" --port-file "$WORK/port" >"$WORK/meta.log" 2>&1 &
META_PID=$!
for _ in $(seq 1000); do [ -s "$WORK/port" ] && break; sleep 0.01; done
[ -s "$WORK/port" ] || die "fake metadata endpoint did not start"
out=$(ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:$(cat "$WORK/port")/v4/x in_image --once --textfile.path=-) ||
  die "--once over HTTP exited $?: $(cat "$WORK/run.err")"
[ "$(value ee_task_cpu_limit)" = 0.25 ] || die "over HTTP: ee_task_cpu_limit = $(value ee_task_cpu_limit)"
say "ok - --once over HTTP from \$ECS_CONTAINER_METADATA_URI_V4 inside the image"

# Memory of the shipped binary (static libcurl + OpenSSL) in loop mode: a
# figure for bench/README.md, measured here because only here does the image
# run; not asserted (machines are noisy).
ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:$(cat "$WORK/port")/v4/x \
  chroot --userspec="$user" "$R" /ecs-metrics-pusher --interval=100ms --interval.jitter=0s \
  --textfile.path=/tmp/loop.prom 2>>"$WORK/run.err" &
LOOP_PID=$!
sleep 5
rss=$(awk '/^(VmRSS|VmHWM|RssAnon|RssFile):/ { printf "%s %s kB, ", $1, $2 }' "/proc/$LOOP_PID/status" 2>/dev/null)
kill -TERM "$LOOP_PID" 2>/dev/null; wait "$LOOP_PID" 2>/dev/null || true
[ -s "$R/tmp/loop.prom" ] || die "loop mode inside the image wrote no textfile: $(tail -3 "$WORK/run.err")"
say "memory in loop mode inside the image after 5 s at 100 ms: ${rss%, }"

t_end=$(now)
say "times: base image $(secs "$t_start" "$t_base") s, deps stage $(secs "$t_base" "$t_deps") s, build $(secs "$t_deps" "$t_built") s, checks $(secs "$t_built" "$t_end") s, total $(secs "$t_start" "$t_end") s"
echo "IMAGE_SIZE_BYTES=$size IMAGE_GZIP_BYTES=$gz"
