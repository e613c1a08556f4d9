#!/bin/bash
# container/build-lean.sh — the lean release binary: one static executable,
# no shared library, no loader.
#
#   bash container/build-lean.sh [--arch amd64|arm64] [--web] [--deps-only] OUTDIR
#
# writes OUTDIR/ecs-metrics-pusher (stripped) for Debian architecture ARCH
# (default: this machine's); with --web, the variant with the scrape
# endpoint (the image's -exporter target: +0.4 MB, and the resident pages
# that come with it, so the default pusher goes without).
# Everything comes from Debian 12: packages
# (compilers, the cross toolchain, static mbedTLS, zlib and snappy) and source
# packages fetched with `apt-get source` from the mirror apt already uses
# (a deb-src entry for it is added when missing):
#   - curl 7.88 with Debian's patches, configured for HTTP and HTTPS only
#     (mbedTLS, zlib, proxies, IPv6, threaded resolver, basic auth, SigV4,
#     the headers API that prune reads the Pushgateway's Date with), static;
#   - libmicrohttpd 0.9.75 for the scrape endpoint, HTTP only (Debian's is
#     built with GnuTLS, whose static link needs a p11-kit Debian does not
#     ship static), static;
#   - fmt and simdjson, static (Debian ships them as shared libraries only).
# libyaml and libxcrypt (the endpoint's web config) are Debian's static ones.
# Every C/C++ object is compiled with -ffunction-sections -fdata-sections and
# the program is linked with -static -Wl,--gc-sections (container/lean-ARCH.ini).
# arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu; the result runs
# under qemu-aarch64-static without any sysroot, being static.
#
# The libraries are built once per architecture and kept under
# $EMP_LEAN_BUILD_DIR (default: build-lean/ in the source tree); a second run
# only rebuilds the program. --deps-only stops after the libraries (the
# container image caches that step as a layer). Installs the Debian packages
# it needs when run as root. Takes ~4 minutes per architecture the first time
# on 2 cores, seconds after.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
ARCH=$(dpkg --print-architecture)
DEPS_ONLY=false
WEB=false
OUTDIR=""
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCH=$2; shift 2;;
    --arch=*) ARCH=${1#--arch=}; shift;;
    --deps-only) DEPS_ONLY=true; shift;;
    --web) WEB=true; shift;;
    -h|--help) sed -n '2,33p' "$0"; exit 0;;
    -*) echo "build-lean.sh: unknown option $1" >&2; exit 2;;
    *) OUTDIR=$1; shift;;
  esac
done
$DEPS_ONLY || [ -n "$OUTDIR" ] || { echo "usage: build-lean.sh [--arch amd64|arm64] [--web] [--deps-only] OUTDIR" >&2; exit 2; }
case $ARCH in
  amd64) TRIPLET=x86_64-linux-gnu;;
  arm64) TRIPLET=aarch64-linux-gnu;;
  *) echo "build-lean.sh: unsupported architecture $ARCH (amd64 or arm64)" >&2; exit 2;;
esac
HOST_ARCH=$(dpkg --print-architecture)
CROSS=false; [ "$ARCH" = "$HOST_ARCH" ] || CROSS=true
BUILD=${EMP_LEAN_BUILD_DIR:-$SRC/build-lean}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
PREFIX=$BUILD/$ARCH/prefix
say() { echo "build-lean.sh: $*" >&2; }
# Long compiles yield to whatever else runs on a small machine.
NICE=(nice -n 10)
JOBS=${EMP_LEAN_JOBS:-$(nproc)}

# ------------------------------------------------------------ Debian packages
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
want=(g++ make meson ninja-build pkg-config dpkg-dev autoconf automake libtool ca-certificates file
      "libmbedtls-dev:$ARCH" "zlib1g-dev:$ARCH" "libsnappy-dev:$ARCH" "libyaml-dev:$ARCH" "libcrypt-dev:$ARCH")
$CROSS && want+=("g++-$TRIPLET" "binutils-$TRIPLET" qemu-user-static)
missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
has_deb_src() {
  grep -rqsE '^[[:space:]]*deb-src[[:space:]]|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if [ ${#missing[@]} -gt 0 ] || ! has_deb_src ||
   { $CROSS && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; }; then
  [ "$(id -u)" = 0 ] || { say "needs root to install: ${missing[*]} (and a deb-src entry / dpkg architecture $ARCH)"; exit 1; }
  if ! has_deb_src; then
    # The same mirrors as the binary packages, for `apt-get source`.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
    fi
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/deb-src.list
    fi
    has_deb_src || { say "could not add a deb-src entry to /etc/apt/sources*"; exit 1; }
    say "added deb-src entries for the configured Debian mirrors"
  fi
  if $CROSS && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
    dpkg --add-architecture "$ARCH"
    say "dpkg --add-architecture $ARCH (for the static $ARCH -dev packages)"
  fi
  say "installing: ${missing[*]:-nothing, only refreshing the package lists}"
  apt-get update -qq
  [ ${#missing[@]} -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CC=gcc CXX=g++ STRIP=strip AR=ar
if $CROSS; then CC=$TRIPLET-gcc CXX=$TRIPLET-g++ STRIP=$TRIPLET-strip AR=$TRIPLET-ar; fi
# pkg-config sees the target architecture's .pc files only (and ours).
export PKG_CONFIG_LIBDIR=/usr/lib/$TRIPLET/pkgconfig:/usr/share/pkgconfig
unset PKG_CONFIG_PATH
SECTIONS="-ffunction-sections -fdata-sections"

# ------------------------------------------------------------ source packages
# Downloaded once (kept under $BUILD/source), unpacked by dpkg-source with
# Debian's patches applied, shared by all architectures; a new Debian
# revision lands in its own directory.
mkdir -p "$BUILD/source"
source_dir() { # SOURCE_PACKAGE [PREPARE_FUNCTION] -> its unpacked, prepared directory
  local pkg=$1 prepare=${2:-} version upstream dir dsc mark
  version=$(apt-cache showsrc "$pkg" | awk '/^Version:/ { print $2 }' | sort -V | tail -1)
  [ -n "$version" ] || { say "no source package $pkg: is there a deb-src entry? (apt-get update)"; exit 1; }
  upstream=${version#*:}; upstream=${upstream%-*}
  dir=$BUILD/source/$pkg-$upstream
  dsc=$BUILD/source/${pkg}_${version#*:}.dsc
  mark=$dir/.emp-ready-$version-$( { cat "$SRC/container/build-lean.sh"; [ -z "$prepare" ] || cat "$SRC/container/"*.patch; } | sha1sum | cut -c1-12)
  if [ ! -f "$mark" ]; then
    if [ ! -f "$dsc" ]; then
      say "apt-get source $pkg=$version"
      (cd "$BUILD/source" && apt-get source --download-only -qq "$pkg=$version" >/dev/null 2>"$pkg.fetch.log") ||
        { cat "$BUILD/source/$pkg.fetch.log" >&2; exit 1; }
    fi
    rm -rf "$dir"
    # apt checked the files against the signed Sources index; dpkg-source
    # only warns that it has no keyring for the uploader's signature.
    dpkg-source -x "$dsc" "$dir" >"$BUILD/source/$pkg.extract.log" 2>&1 ||
      { cat "$BUILD/source/$pkg.extract.log" >&2; exit 1; }
    [ -z "$prepare" ] || (cd "$dir" && "$prepare")
    touch "$mark"
  fi
  echo "$dir"
}
# curl: the last two patches of Debian's series turn the tree into the GnuTLS
# and NSS flavours; they come back off for every other TLS library, as
# debian/rules does. Then ours (container/curl-*.patch, each says why), and
# configure is regenerated.
prepare_curl() {
  say "preparing curl (revert the GnuTLS/NSS flavour patches, apply container/curl-*.patch, autoreconf)"
  patch -s -R -p1 <debian/patches/99_nss.patch
  patch -s -R -p1 <debian/patches/90_gnutls.patch
  local p; for p in "$SRC"/container/curl-*.patch; do patch -s -p1 <"$p"; done
  "${NICE[@]}" autoreconf -fi >/dev/null 2>&1
}
CURL_SRC=$(source_dir curl prepare_curl)
FMT_SRC=$(source_dir fmtlib)
SIMDJSON_SRC=$(source_dir simdjson)
MHD_SRC=$(source_dir libmicrohttpd)

# ------------------------------------------------------------ libraries
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
# The stamp names the sources and this script (its configure flags): a change
# to either rebuilds the libraries.
stamp=$PREFIX/.emp-$( (cd "$BUILD/source" && ls -d "$CURL_SRC"/.emp-ready-* "$FMT_SRC"/.emp-ready-* "$SIMDJSON_SRC"/.emp-ready-* "$MHD_SRC"/.emp-ready-*; cat "$SRC/container/build-lean.sh") | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  rm -rf "$PREFIX" "$BUILD/$ARCH/curl" "$BUILD/$ARCH/microhttpd" "$BUILD/$ARCH/meson" "$BUILD/$ARCH/meson-web"
  mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include" "$BUILD/$ARCH/curl" "$BUILD/$ARCH/microhttpd"
  t0=$(date +%s)
  say "building libcurl for $ARCH (HTTP/HTTPS only, mbedTLS, static) in $BUILD/$ARCH/curl"
  host_flag=(); $CROSS && host_flag=(--host="$TRIPLET")
  (cd "$BUILD/$ARCH/curl" &&
    CC=$CC CFLAGS="-O2 $SECTIONS" "${NICE[@]}" "$CURL_SRC/configure" "${host_flag[@]}" --prefix="$PREFIX" \
      --disable-shared --enable-static --disable-dependency-tracking \
      --with-mbedtls --with-zlib --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
      --enable-http --enable-proxy --enable-ipv6 --enable-threaded-resolver --enable-http-auth \
      --disable-dict --disable-file --disable-ftp --disable-gopher --disable-imap --disable-ldap \
      --disable-ldaps --disable-mqtt --disable-pop3 --disable-rtsp --disable-smb --disable-smtp \
      --disable-telnet --disable-tftp --disable-manual --disable-libcurl-option \
      --disable-ntlm --disable-ntlm-wb --disable-tls-srp --disable-unix-sockets --disable-cookies \
      --disable-doh --disable-mime --disable-netrc --disable-progress-meter --disable-dnsshuffle \
      --disable-get-easy-options --disable-alt-svc --disable-hsts \
      --disable-websockets \
      --without-brotli --without-zstd --without-gssapi --without-libidn2 --without-libpsl \
      --without-librtmp --without-libssh2 --without-libssh --without-nghttp2 --without-hyper \
      >configure.log 2>&1 ||
    { tail -30 config.log >&2; exit 1; }
    "${NICE[@]}" make -j"$JOBS" -C lib >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
    make -C lib install >/dev/null && make -C include install >/dev/null && make install-pkgconfigDATA >/dev/null)

  # The scrape endpoint's server: plain HTTP with basic auth; no digest auth,
  # POST processor or HTTP upgrade (unused).
  say "building libmicrohttpd for $ARCH (HTTP only, static) in $BUILD/$ARCH/microhttpd"
  (cd "$BUILD/$ARCH/microhttpd" &&
    CC=$CC CFLAGS="-O2 $SECTIONS" "${NICE[@]}" "$MHD_SRC/configure" "${host_flag[@]}" --prefix="$PREFIX" \
      --disable-shared --enable-static --disable-dependency-tracking --disable-https --without-gnutls \
      --disable-curl --disable-doc --disable-examples --disable-tools --disable-dauth --disable-postprocessor \
      --disable-httpupgrade --disable-nls \
      >configure.log 2>&1 ||
    { tail -30 config.log >&2; exit 1; }
    "${NICE[@]}" make -j"$JOBS" -C src/microhttpd >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
    make -C src/microhttpd install >/dev/null && make -C src/include install >/dev/null &&
      make install-pkgconfigDATA >/dev/null)

  # fmt and simdjson: two translation units and one, compiled directly with
  # the flags above rather than through their CMake builds: no CMake and no
  # CMake toolchain file for the cross build, and the .pc files say exactly
  # what meson links. (Not --disable-verbose above: it turns every libcurl
  # error message into "Error".)
  say "building fmt and simdjson for $ARCH (static)"
  fmt_version=$(basename "$FMT_SRC"); fmt_version=${fmt_version#fmtlib-}; fmt_version=${fmt_version%%+*}
  mkdir -p "$BUILD/$ARCH/fmt" "$BUILD/$ARCH/simdjson"
  for f in format os; do
    "${NICE[@]}" "$CXX" -std=c++20 -O2 $SECTIONS -I"$FMT_SRC/include" -c "$FMT_SRC/src/$f.cc" -o "$BUILD/$ARCH/fmt/$f.o"
  done
  "$AR" rcs "$PREFIX/lib/libfmt.a" "$BUILD/$ARCH/fmt/format.o" "$BUILD/$ARCH/fmt/os.o"
  cp -r "$FMT_SRC/include/fmt" "$PREFIX/include/"
  printf 'prefix=%s\nName: fmt\nDescription: fmt (Debian source package fmtlib, static)\nVersion: %s\nLibs: -L${prefix}/lib -lfmt\nCflags: -I${prefix}/include\n' \
    "$PREFIX" "$fmt_version" >"$PREFIX/lib/pkgconfig/fmt.pc"
  simdjson_version=$(basename "$SIMDJSON_SRC"); simdjson_version=${simdjson_version#simdjson-}
  "${NICE[@]}" "$CXX" -std=c++20 -O2 $SECTIONS -I"$SIMDJSON_SRC/singleheader" \
    -c "$SIMDJSON_SRC/singleheader/simdjson.cpp" -o "$BUILD/$ARCH/simdjson/simdjson.o"
  "$AR" rcs "$PREFIX/lib/libsimdjson.a" "$BUILD/$ARCH/simdjson/simdjson.o"
  cp "$SIMDJSON_SRC/singleheader/simdjson.h" "$PREFIX/include/"
  printf 'prefix=%s\nName: simdjson\nDescription: simdjson (Debian source package, static)\nVersion: %s\nLibs: -L${prefix}/lib -lsimdjson\nCflags: -I${prefix}/include\n' \
    "$PREFIX" "$simdjson_version" >"$PREFIX/lib/pkgconfig/simdjson.pc"
  touch "$stamp"
  say "libraries for $ARCH built in $(( $(date +%s) - t0 )) s, kept in $PREFIX"
else
  say "libraries for $ARCH: cached in $PREFIX"
fi
$DEPS_ONLY && exit 0

# ------------------------------------------------------------ the program
MESON_BUILD=$BUILD/$ARCH/meson
WEB_FLAGS=(-Dweb=disabled)
if $WEB; then MESON_BUILD=$BUILD/$ARCH/meson-web; WEB_FLAGS=(-Dweb=enabled -Dweb_tls=disabled); fi
machine=(--native-file "$SRC/container/lean-$ARCH.ini")
$CROSS && machine=(--cross-file "$SRC/container/lean-$ARCH.ini")
if [ ! -f "$MESON_BUILD/build.ninja" ]; then
  say "meson setup $MESON_BUILD (${machine[*]})"
  # --web: the endpoint serves plain HTTP here (-Dweb_tls=disabled, docs/scrape-endpoint.md).
  meson setup "$MESON_BUILD" "$SRC" "${machine[@]}" --buildtype=release -Dtests=false -Dwerror=true "${WEB_FLAGS[@]}" \
    -Dprefer_static=true --wrap-mode=nodownload -Dpkg_config_path="$PREFIX/lib/pkgconfig" >"$MESON_BUILD-setup.log" 2>&1 ||
    { tail -30 "$MESON_BUILD-setup.log" >&2; exit 1; }
fi
"${NICE[@]}" ninja -C "$MESON_BUILD" -j"$JOBS" src/ecs-metrics-pusher >"$MESON_BUILD.ninja.log" 2>&1 ||
  { tail -40 "$MESON_BUILD.ninja.log" >&2; exit 1; }
bin=$MESON_BUILD/src/ecs-metrics-pusher
if LC_ALL=C readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then
  say "the program is not static: $(readelf -d "$bin" | grep NEEDED)"; exit 1
fi
mkdir -p "$OUTDIR"
"$STRIP" -o "$OUTDIR/ecs-metrics-pusher.tmp" "$bin"
mv "$OUTDIR/ecs-metrics-pusher.tmp" "$OUTDIR/ecs-metrics-pusher"
run=("$OUTDIR/ecs-metrics-pusher")
$CROSS && run=(qemu-"${TRIPLET%%-*}"-static "$OUTDIR/ecs-metrics-pusher")
say "$OUTDIR/ecs-metrics-pusher: $(stat -c %s "$OUTDIR/ecs-metrics-pusher") bytes, $(file -b "$OUTDIR/ecs-metrics-pusher" | cut -d, -f1-2), $("${run[@]}" --version | head -1)"
