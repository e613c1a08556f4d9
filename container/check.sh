#!/bin/bash
# container/check.sh — build container/Dockerfile offline with buildah, for
# amd64 and arm64, and check the images it makes. Run by hand (as root) or by
# tests/container_check.sh.
#
#   bash container/check.sh
#
# No container registry is needed: the Dockerfile's Debian 12 base is made
# locally with debootstrap from the Debian mirror this machine's apt already
# uses, and tagged with the name the Dockerfile asks for. The base root file
# system and buildah's storage (with its layer cache) are kept under
# $EMP_CONTAINER_CACHE (default ~/.cache/ecs-metrics-pusher), so a second run
# only rebuilds what changed. The build stages run on this machine's
# architecture and cross-compile (container/build-lean.sh), so the arm64
# image needs no emulation to build.
#
# Then, per architecture, it inspects the image (size <= 5 MB, architecture,
# non-root user, entrypoint, no shell, no package manager, one static
# program), extracts its root file system and runs the image's own binary in
# a chroot of it — through qemu-user-static (copied into the extracted tree,
# never into the image) for the architecture that is not this machine's:
# --version, a --once replay of a bundled real capture given by environment
# variables, one fetch over HTTP from the fake metadata endpoint
# (tests/fake_metadata.py), --once pushes to a real Pushgateway over HTTP and
# over HTTPS with certificate verification (a CA made here; the system bundle
# alone must refuse it), and, natively, the steady memory in loop mode over
# HTTP and HTTPS. Last, the two images become one manifest list, $EMP_IMAGE.
#
# Environment: EMP_DEBIAN_MIRROR (default: read from /etc/apt/sources*),
# EMP_CONTAINER_CACHE, EMP_IMAGE (default localhost/ecs-metrics-pusher:check;
# the per-architecture images are $EMP_IMAGE-amd64 and $EMP_IMAGE-arm64),
# EMP_IMAGE_ARCHES (default "amd64 arm64"). Installs buildah, debootstrap,
# qemu-user-static and openssl when missing.
# Containers cannot be *run* on our machines (see peers.md §6); the chroot
# stands in for `docker run`.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${EMP_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-metrics-pusher}
IMAGE=${EMP_IMAGE:-localhost/ecs-metrics-pusher:check}
ARCHES=${EMP_IMAGE_ARCHES:-amd64 arm64}
ARCH=$(dpkg --print-architecture)
SUITE=bookworm
MAX_IMAGE_BYTES=5000000
# The base image name exactly as the Dockerfile's build stage writes it.
BASE=$(awk 'toupper($1) == "FROM" && $NF != "scratch" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; exit } }' "$SRC/container/Dockerfile")

say() { echo "check.sh: $*" >&2; }
die() { echo "check.sh: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root (buildah --isolation chroot and the chroot test need it)"
# This check's own tools (not in tests/setup.sh: CI skips the image build).
missing=()
for p in buildah debootstrap qemu-user-static openssl python3 prometheus-pushgateway; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$CACHE/containers"
BUILDAH=(buildah --root "$CACHE/containers/root" --runroot "$CACHE/containers/runroot" --storage-driver vfs)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/emp-container.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
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

# ---------------------------------------------------------------- peers
# A fake metadata endpoint, a Pushgateway over HTTP and one over HTTPS with a
# server certificate for 127.0.0.1 and localhost from a CA made here.
fx=$SRC/tests/fixtures/ecs_exporter/fargate-awsvpc-cgroupv1
python3 "$SRC/tests/fake_metadata.py" --task "$fx.task.json" --stats "$fx.stats.json" --port-file "$WORK/port" >"$WORK/meta.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1000); do [ -s "$WORK/port" ] && break; sleep 0.01; done
[ -s "$WORK/port" ] || die "fake metadata endpoint did not start"
META_URL=http://127.0.0.1:$(cat "$WORK/port")/v4/x
TLS=$WORK/tls; mkdir -p "$TLS"
(
  cd "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=emp-check-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=emp-check-server
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
  printf 'tls_server_config:\n  cert_file: %s/server.crt\n  key_file: %s/server.key\n' "$TLS" "$TLS" >web.yml
) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; die "openssl"; }
start_pushgateway() { # NAME [flags] -> port in $PGW_PORT
  : >"$WORK/$1.log"
  prometheus-pushgateway --web.listen-address=127.0.0.1:0 --persistence.file= "${@:2}" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  PGW_PORT=""
  for _ in $(seq 1000); do
    PGW_PORT=$(sed -n 's/.*msg="Listening on" address=127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
    [ -z "$PGW_PORT" ] || break; sleep 0.01
  done
  [ -n "$PGW_PORT" ] || { cat "$WORK/$1.log" >&2; die "pushgateway $1 did not start"; }
}
start_pushgateway pgw-http; HTTP_PORT=$PGW_PORT
start_pushgateway pgw-https --web.config.file="$TLS/web.yml"; HTTPS_PORT=$PGW_PORT
GROUP=job/ecs/task_family/prom-ecs-exporter-sandbox-main-fargate/task_revision/9/task_id/bae32def0ab64f06818e8862e58f8d6d
landed() { # SCHEME PORT ARCH -> memory of the ecs-exporter container in the group pushed by ARCH
  curl -sf --cacert "$TLS/ca.crt" "$1://127.0.0.1:$2/api/v1/metrics" |
    python3 -c 'import json, sys
for g in json.load(sys.stdin)["data"]:
    if g["labels"].get("pushed_by") != sys.argv[1]: continue
    for m in g.get("ee_container_memory_usage_byte", {}).get("metrics", []):
        if m["labels"].get("container_name") == "ecs-exporter": print(int(float(m["value"])))' "$3"
}

# ---------------------------------------------------------------- build
# The "deps" stage (apt packages, the static libraries built from Debian's
# source) takes minutes and rarely changes: build it first and tag it, so
# that the layer cache keeps it. Every other layer is pruned after the build:
# vfs stores each layer as a full copy of its root file system (~1 GB here),
# so stale layers would fill the disk at every source change.
# BuildKit sets BUILDPLATFORM itself; buildah 1.28 needs it given.
BUD=("${BUILDAH[@]}" bud --isolation chroot --layers --force-rm --pull=never --build-arg BUILDPLATFORM="linux/$ARCH"
     -f "$SRC/container/Dockerfile")
prune() { # removes every untagged layer; repeated, as each pass frees the parents of the last
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$("${BUILDAH[@]}" rmi --prune 2>/dev/null)" ] || break
  done
}
SUMMARY=()
"${BUILDAH[@]}" manifest rm "$IMAGE" >/dev/null 2>&1 || "${BUILDAH[@]}" rmi "$IMAGE" >/dev/null 2>&1 || true
"${BUILDAH[@]}" manifest create "$IMAGE" >/dev/null
for arch in $ARCHES; do
  t_arch=$(now)
  image=$IMAGE-$arch
  DEPS=localhost/ecs-metrics-pusher-deps:$arch-cache
  say "[$arch] building the deps stage as $DEPS (cached after the first run)"
  "${BUD[@]}" --platform "linux/$arch" --target deps -t "$DEPS" "$SRC" >"$WORK/build-deps-$arch.log" 2>&1 ||
    { tail -40 "$WORK/build-deps-$arch.log" >&2; die "[$arch] buildah bud --target deps failed"; }
  t_deps=$(now)
  # buildah 1.28 reuses a cached `COPY --from=build` layer even when the build
  # stage produced a new binary, so the previous image and its layers go first:
  # everything after the tagged deps stage is built afresh.
  "${BUILDAH[@]}" rmi "$image" >/dev/null 2>&1 || true
  prune
  say "[$arch] building $image from container/Dockerfile (buildah, vfs, chroot isolation, --pull=never)"
  "${BUD[@]}" --platform "linux/$arch" -t "$image" "$SRC" >"$WORK/build-$arch.log" 2>&1 ||
    { tail -40 "$WORK/build-$arch.log" >&2; die "[$arch] buildah bud failed"; }
  # The -exporter variant (the last stage but one): the same layers plus the
  # original exporter's port variable.
  "${BUILDAH[@]}" rmi "$image-exporter" >/dev/null 2>&1 || true
  prune
  "${BUD[@]}" --platform "linux/$arch" --target exporter -t "$image-exporter" "$SRC" >"$WORK/build-exporter-$arch.log" 2>&1 ||
    { tail -40 "$WORK/build-exporter-$arch.log" >&2; die "[$arch] buildah bud --target exporter failed"; }
  "${BUILDAH[@]}" inspect --type image "$image-exporter" | python3 -c 'import json, sys; c = json.load(sys.stdin)["OCIv1"]["config"]; sys.exit(0 if "ECS_METRICS_EXPORTER_PORT=9546" in c.get("Env", []) and "9546/tcp" in c.get("ExposedPorts", {}) else 1)' ||
    die "[$arch] the -exporter image does not set ECS_METRICS_EXPORTER_PORT=9546 / expose 9546"
  if grep -A1 'COPY --from=build' "$WORK/build-exporter-$arch.log" | grep -q 'Using cache'; then
    die "[$arch] the -exporter final stage came from the layer cache, not from this build"
  fi
  c=$("${BUILDAH[@]}" from "$image-exporter")
  mnt=$("${BUILDAH[@]}" mount "$c")
  RX=$WORK/image-exporter-$arch
  mkdir -p "$RX" && cp -a "$mnt/." "$RX/"
  "${BUILDAH[@]}" umount "$c" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null
  size_exporter=$(du -sb "$RX" | cut -f1)
  [ "$size_exporter" -le "$MAX_IMAGE_BYTES" ] || die "[$arch] the -exporter image is $size_exporter bytes, over $MAX_IMAGE_BYTES"
  ! LC_ALL=C readelf -lW "$RX/ecs-metrics-pusher" | grep -q INTERP || die "[$arch] the -exporter program is not static"
  say "[$arch] ok - -exporter target: ECS_METRICS_EXPORTER_PORT=9546, 9546/tcp exposed, $size_exporter bytes uncompressed, static"
  t_built=$(now)
  grep -q 'COPY --from=build' "$WORK/build-$arch.log" || die "[$arch] unexpected build log"
  if grep -A1 'COPY --from=build' "$WORK/build-$arch.log" | grep -q 'Using cache'; then
    die "[$arch] the final stage came from the layer cache, not from this build"
  fi
  prune

  # -------------------------------------------------------------- inspect
  inspect=$("${BUILDAH[@]}" inspect --type image "$image")
  field() { echo "$inspect" | python3 -c 'import json, sys; d = json.load(sys.stdin)["OCIv1"]; v = d["config"].get(sys.argv[1], d.get(sys.argv[1])); print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1"; }
  user=$(field User)
  [ "$(field architecture)" = "$arch" ] || die "[$arch] image architecture is $(field architecture)"
  case "${user%%:*}" in ""|0|root) die "[$arch] image runs as root (User='$user')";; esac
  [ "$(field Entrypoint)" = '["/ecs-metrics-pusher"]' ] || die "[$arch] entrypoint is $(field Entrypoint)"
  say "[$arch] ok - architecture $arch, user $user (not root), entrypoint $(field Entrypoint)"

  c=$("${BUILDAH[@]}" from "$image")
  mnt=$("${BUILDAH[@]}" mount "$c")
  R=$WORK/image-$arch
  mkdir -p "$R" && cp -a "$mnt/." "$R/"
  "${BUILDAH[@]}" umount "$c" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null

  for f in /bin/sh /bin/bash /bin/dash /usr/bin/sh /bin/busybox; do
    [ ! -e "$R$f" ] || die "[$arch] the image contains a shell: $f"
  done
  for f in /usr/bin/apt /usr/bin/apt-get /usr/bin/dpkg /var/lib/dpkg; do
    [ ! -e "$R$f" ] || die "[$arch] the image contains a package manager: $f"
  done
  executables=$(cd "$R" && find . -type f -perm -u+x | sed 's|^\.||' | sort)
  [ "$executables" = /ecs-metrics-pusher ] || die "[$arch] unexpected executables: $executables"
  ! LC_ALL=C readelf -lW "$R/ecs-metrics-pusher" | grep -q INTERP || die "[$arch] the program needs a loader (not static)"
  [ -s "$R/etc/ssl/certs/ca-certificates.crt" ] || die "[$arch] no CA bundle"
  grep -q "^[^:]*:x:${user%%:*}:" "$R/etc/passwd" || die "[$arch] user $user has no /etc/passwd entry"
  say "[$arch] ok - no shell, no package manager, one static program, CA bundle ($(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt") certificates), passwd entry for $user"

  size=$(du -sb "$R" | cut -f1)
  gz=$(tar -C "$R" --numeric-owner -cf - . | gzip -6 | wc -c)
  files=$(cd "$R" && find . -type f | wc -l)
  image_size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$image" | head -1)
  say "[$arch] image size: $size bytes uncompressed ($(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1e6 }') MB; buildah says $image_size), $gz bytes gzip ($(awk -v b="$gz" 'BEGIN { printf "%.2f", b / 1e6 }') MB), $files files; program $(stat -c %s "$R/ecs-metrics-pusher") bytes"
  [ "$size" -le "$MAX_IMAGE_BYTES" ] || die "[$arch] image is $size bytes, over $MAX_IMAGE_BYTES"

  # -------------------------------------------------------------- run
  # The image's binary with the image's files only: chroot into the
  # extracted root file system as the image's user (no shell needed: chroot
  # execs the entrypoint directly). For the other architecture, Debian's
  # static qemu user emulator runs it, placed in the extracted tree only.
  # /etc/hosts and /etc/resolv.conf are what a container runtime mounts.
  cp /etc/hosts "$R/etc/hosts"
  cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
  runner=()
  if [ "$arch" != "$ARCH" ]; then
    qemu=qemu-$(case $arch in arm64) echo aarch64;; amd64) echo x86_64;; *) echo "$arch";; esac)-static
    cp "$(command -v "$qemu")" "$R/.qemu-static"
    runner=(/.qemu-static)
  fi
  in_image() { chroot --userspec="$user" "$R" "${runner[@]}" /ecs-metrics-pusher "$@" 2>>"$WORK/run-$arch.err"; }

  want_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
  version=$(in_image --version) || die "[$arch] --version exited $?"
  got=$(echo "$version" | head -1)
  case $got in "ecs-metrics-pusher, version $want_version "*|"ecs-metrics-pusher $want_version"*) ;;
    *) die "[$arch] --version printed '$got', want ecs-metrics-pusher version $want_version";; esac
  echo "$version" | grep -q 'libcurl:.*mbedTLS' || die "[$arch] the image's libcurl is not the mbedTLS build: $version"
  say "[$arch] ok - --version: $got, $(echo "$version" | grep -o 'libcurl:.*' | tr -s ' ')${runner:+ (under $qemu)}"

  # Replay a real Fargate capture, configured the way ECS does it: by environment.
  mkdir -p "$R/tmp/fixture"
  cp "$fx.task.json" "$fx.stats.json" "$R/tmp/fixture/"
  out=$(env ECS_METRICS_PUSHER_ONCE=true ECS_METRICS_PUSHER_TEXTFILE_PATH=- \
    ECS_METRICS_PUSHER_METADATA_TASK_FILE=/tmp/fixture/fargate-awsvpc-cgroupv1.task.json \
    ECS_METRICS_PUSHER_METADATA_STATS_FILE=/tmp/fixture/fargate-awsvpc-cgroupv1.stats.json \
    chroot --userspec="$user" "$R" "${runner[@]}" /ecs-metrics-pusher 2>>"$WORK/run-$arch.err") ||
    die "[$arch] --once replay exited $?: $(cat "$WORK/run-$arch.err")"
  value() { echo "$out" | awk -v s="$1" 'index($0, s"{") == 1 && index($0, "container_name=\"" "_task_" "\"") { print $NF; exit }'; }
  # By hand from the capture: Limits CPU 0.25 vCPU, Memory 512 MiB; total_usage
  # 932439492 + 322633383 ns; the stopped container's stats are null.
  [ "$(echo "$out" | awk '/^ee_ecs_metrics_exporter_success/ { print $NF }')" = 1 ] || die "[$arch] success is not 1"
  [ "$(value ee_task_cpu_limit)" = 0.25 ] || die "[$arch] ee_task_cpu_limit = $(value ee_task_cpu_limit)"
  [ "$(value ee_task_memory_limit_byte)" = 536870912 ] || die "[$arch] ee_task_memory_limit_byte = $(value ee_task_memory_limit_byte)"
  [ "$(value ee_container_cpu_usage_seconds_total)" = 1.255072875 ] || die "[$arch] task cpu = $(value ee_container_cpu_usage_seconds_total)"
  say "[$arch] ok - --once replay of $(basename "$fx") inside the image: $(echo "$out" | grep -vc '^#') samples, hand-checked limits and CPU"

  # One real HTTP fetch through the image's libcurl from the fake endpoint.
  out=$(ECS_CONTAINER_METADATA_URI_V4=$META_URL in_image --once --textfile.path=-) ||
    die "[$arch] --once over HTTP exited $?: $(cat "$WORK/run-$arch.err")"
  [ "$(value ee_task_cpu_limit)" = 0.25 ] || die "[$arch] over HTTP: ee_task_cpu_limit = $(value ee_task_cpu_limit)"
  say "[$arch] ok - --once over HTTP from \$ECS_CONTAINER_METADATA_URI_V4 inside the image"

  # Pushes to a real Pushgateway: HTTP by name (the static resolver reads
  # /etc/hosts), HTTPS by address with the CA made here (the certificate's
  # IP address entry is what verifies), and HTTPS with only the system
  # bundle, which must refuse the certificate. 84111360 bytes: the
  # ecs-exporter container's memory usage in the capture.
  mkdir -p "$R/tmp/tls" && cp "$TLS/ca.crt" "$R/tmp/tls/"
  push() { ECS_CONTAINER_METADATA_URI_V4=$META_URL in_image --once --pushgateway.grouping-label=pushed_by="$arch" "$@"; }
  push --pushgateway.url="http://localhost:$HTTP_PORT" || die "[$arch] --once push over HTTP exited $?: $(tail -3 "$WORK/run-$arch.err")"
  [ "$(landed http "$HTTP_PORT" "$arch")" = 84111360 ] || die "[$arch] the HTTP push did not land"
  push --pushgateway.url="https://127.0.0.1:$HTTPS_PORT" --pushgateway.ca-file=/tmp/tls/ca.crt ||
    die "[$arch] --once push over HTTPS exited $?: $(tail -3 "$WORK/run-$arch.err")"
  [ "$(landed https "$HTTPS_PORT" "$arch")" = 84111360 ] || die "[$arch] the HTTPS push did not land"
  rc=0; push --pushgateway.url="https://localhost:$HTTPS_PORT" 2>/dev/null || rc=$?
  [ "$rc" != 0 ] || die "[$arch] a certificate from an unknown CA was accepted with the system bundle"
  tail -1 "$WORK/run-$arch.err" | grep -q 'SSL certificate problem' || die "[$arch] untrusted certificate, unclear error: $(tail -1 "$WORK/run-$arch.err")"
  say "[$arch] ok - --once pushes landed over HTTP (by name) and HTTPS (verified, by address); an unknown CA is refused (exit $rc)"

  # The scrape endpoint as the -exporter image runs it: the original's task
  # definition (its port variable, here 0 for a free port, and the metadata
  # variable ECS sets); then the binary as its own health check.
  cp /etc/hosts "$RX/etc/hosts"
  [ -z "${runner[*]}" ] || cp "$R/.qemu-static" "$RX/.qemu-static"
  ECS_CONTAINER_METADATA_URI_V4=$META_URL ECS_METRICS_EXPORTER_PORT=0 chroot --userspec="$user" "$RX" "${runner[@]}" \
    /ecs-metrics-pusher >"$WORK/scrape-$arch.log" 2>&1 &
  scrape_pid=$!
  sport=""
  for _ in $(seq 150); do
    sport=$(sed -n 's/.*msg="serving metrics for scraping".* port=\([0-9]*\).*/\1/p' "$WORK/scrape-$arch.log" | head -1)
    [ -n "$sport" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sport/-/ready")" = 200 ] && break
    sleep 0.2
  done
  [ -n "$sport" ] || die "[$arch] the scrape endpoint did not start: $(tail -3 "$WORK/scrape-$arch.log")"
  scraped=$(curl -s "http://127.0.0.1:$sport/metrics" | awk '/^ee_task_cpu_limit\{/ { print $NF; exit }')
  [ "$scraped" = 0.25 ] || die "[$arch] scraped ee_task_cpu_limit = '$scraped'"
  ECS_METRICS_EXPORTER_PORT=$sport chroot --userspec="$user" "$RX" "${runner[@]}" /ecs-metrics-pusher healthcheck \
    >/dev/null 2>>"$WORK/run-$arch.err" || die "[$arch] healthcheck exited $?"
  refusal=$(ECS_CONTAINER_METADATA_URI_V4=$META_URL chroot --userspec="$user" "$R" "${runner[@]}" /ecs-metrics-pusher \
    --web.listen-address=:0 2>&1) && die "[$arch] the default image accepted --web.listen-address"
  echo "$refusal" | grep -q 'this build has no scrape endpoint' || die "[$arch] unclear refusal: $refusal"
  kill -TERM "$scrape_pid" 2>/dev/null; wait "$scrape_pid" 2>/dev/null || true
  say "[$arch] ok - -exporter image: endpoint from \$ECS_METRICS_EXPORTER_PORT, ee_task_cpu_limit 0.25 scraped, healthcheck 0; the default image refuses --web.listen-address"

  # Memory of the shipped binary in loop mode over HTTP and HTTPS (CA file:
  # the system bundle plus the CA made here, so that the whole bundle is
  # parsed and held): figures for docs/performance.md, measured here because
  # only here does the image run; not asserted (machines are noisy). Under
  # emulation the figure would be qemu's, so only natively.
  if [ -z "${runner[*]}" ]; then
    cat "$R/etc/ssl/certs/ca-certificates.crt" "$TLS/ca.crt" >"$R/tmp/tls/bundle.crt"
    loop_rss() { # NAME SCHEME PORT FLAGS... -> "VmRSS N kB, ..." after 5 s at 100 ms
      ECS_CONTAINER_METADATA_URI_V4=$META_URL chroot --userspec="$user" "$R" /ecs-metrics-pusher \
        --interval=100ms --interval.jitter=0s --pushgateway.grouping-label=pushed_by="loop-$1" "${@:4}" 2>>"$WORK/run-$arch.err" &
      local pid=$!
      sleep 5
      awk '/^(VmRSS|VmHWM|RssAnon|RssFile):/ { printf "%s %s kB, ", $1, $2 }' "/proc/$pid/status" 2>/dev/null
      # While it runs: on SIGTERM it deletes its group (--delete-on-exit).
      landed "$2" "$3" "loop-$1" >"$WORK/landed-$1"
      kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    }
    rss_http=$(loop_rss http http "$HTTP_PORT" --pushgateway.url="http://127.0.0.1:$HTTP_PORT")
    rss_https=$(loop_rss https https "$HTTPS_PORT" --pushgateway.url="https://127.0.0.1:$HTTPS_PORT" --pushgateway.ca-file=/tmp/tls/bundle.crt)
    [ "$(cat "$WORK/landed-https")" = 84111360 ] || die "[$arch] loop mode over HTTPS did not land"
    say "[$arch] memory in loop mode inside the image after 5 s at 100 ms: HTTP ${rss_http%, }; HTTPS ${rss_https%, }"
    SUMMARY+=("$arch: image $size bytes (gzip $gz), -exporter $size_exporter bytes; loop VmRSS HTTP $(echo "$rss_http" | awk '{print $2}') kB, HTTPS $(echo "$rss_https" | awk '{print $2}') kB")
  else
    SUMMARY+=("$arch: image $size bytes (gzip $gz), -exporter $size_exporter bytes; checked under $qemu")
  fi
  "${BUILDAH[@]}" manifest add "$IMAGE" "$image" >/dev/null
  say "[$arch] times: deps stage $(secs "$t_arch" "$t_deps") s, build $(secs "$t_deps" "$t_built") s, checks $(secs "$t_built" "$(now)") s"
done
say "ok - manifest list $IMAGE: $("${BUILDAH[@]}" manifest inspect "$IMAGE" | python3 -c 'import json, sys; print(" ".join(m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))')"

t_end=$(now)
say "times: base image $(secs "$t_start" "$t_base") s, total $(secs "$t_start" "$t_end") s"
printf 'check.sh: %s\n' "${SUMMARY[@]}" >&2
