#!/usr/bin/env bash
# Builds a lean, statically linked i386 (i686) crun from Debian bookworm's own
# source package: no systemd, but with seccomp, capabilities and eBPF (cgroup
# v2 device control). Debian's crun:i386 loads libsystemd, libgcrypt and five
# compression libraries at every call, ~0.4 s of emulated CPU each time.
#
# Output: $BERTH_CACHE/crun-<hash>/crun (<hash> covers this script); reused
# when present. Prints the binary's path on its last line.
set -euo pipefail

CRUN_VERSION=1.8.1-1+deb12u1
cache=${BERTH_CACHE:-$HOME/.cache/berth}
hash=$(cat "$0" | sha256sum | cut -c1-16)
OUT=$cache/crun-$hash/crun
if [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
WORK=$cache/crun-$hash.tmp
JOBS=${JOBS:-2}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

mkdir -p "$WORK"
cd "$WORK"

# --- 1. apt setup ------------------------------------------------------------
# i386 libraries are installed as multiarch packages next to the amd64 system.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    dpkg --add-architecture i386
fi
# `apt-get source` needs deb-src entries; bookworm images usually ship none.
# Make them from the host's own binary entries (same mirrors, suites, components).
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    tmp=$(mktemp)
    for f in /etc/apt/sources.list.d/*.sources; do
        if [ -f "$f" ]; then sed 's/^Types:.*/Types: deb-src/' "$f"; echo; fi
    done > "$tmp"
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
        sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/berth-deb-src.list
    fi
    if [ -s "$tmp" ]; then mv "$tmp" /etc/apt/sources.list.d/berth-deb-src.sources; else rm -f "$tmp"; fi
fi
# A half-synced mirror index (e.g. bookworm-security i386) makes update exit
# 100; everything we need is in bookworm main, so don't abort on that.
need_update=0
if ! apt-cache showsrc "crun=$CRUN_VERSION" 2>/dev/null | grep -q '^Package: crun'; then need_update=1; fi
if [ $need_update = 1 ]; then
  apt-get update -q >&2 || echo "warning: apt-get update reported errors, continuing" >&2
fi

# Toolchain: the host gcc with its 32-bit multilib (gcc -m32 -> i686 code,
# static glibc from libc6-dev-i386 in /usr/lib32).  We deliberately do NOT use
# libc6-dev:i386 or gcc-i686-linux-gnu: the former pulls linux-libc-dev:i386,
# whose version must match the amd64 one (a mismatch makes apt remove
# libc6-dev/build-essential), and gcc-i686-linux-gnu conflicts with
# gcc-multilib.  The :i386 -dev packages below only add arch-independent
# headers in /usr/include and .a/.pc files in /usr/lib/i386-linux-gnu, which
# gcc -m32 searches automatically.
PKGS=(
    dpkg-dev xz-utils          # apt-get source / dpkg-source
    make pkgconf file
    gcc gcc-multilib
    libseccomp-dev:i386        # libseccomp.a
    libcap-dev:i386            # libcap.a
    libyajl-dev:i386           # libyajl_s.a (static yajl)
)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} = 0 ] || apt-get install -y --no-install-recommends "${missing[@]}" >&2

# --- 2. source -----------------------------------------------------------------
SRC="$WORK/crun-1.8.1"
if [ ! -f "$WORK/crun_${CRUN_VERSION}.dsc" ]; then
    apt-get source --download-only "crun=$CRUN_VERSION" >&2
fi
# Always unpack a pristine tree (Debian patches applied by dpkg-source) so
# reruns are reproducible and never reuse a half-configured tree.
rm -rf "$SRC"
dpkg-source -x "crun_${CRUN_VERSION}.dsc" "$SRC" >&2
cd "$SRC"

# The release tarball already contains the generated sources (configure,
# libocispec JSON parsers, signals.c/mount_flags.c from gperf), so neither
# autotools, gperf, python3 nor the Go spec packages listed in Build-Depends
# are needed (configure is run with --disable-maintainer-mode so make never
# tries to rerun autotools because of timestamp skew).

# Debian ships static yajl as libyajl_s.a; crun's configure/Makefile link with
# -lyajl, so provide a libyajl.a name pointing at it (only for this build).
LINKDIR="$WORK/staticlibs"
mkdir -p "$LINKDIR"
ln -sf /usr/lib/i386-linux-gnu/libyajl_s.a "$LINKDIR/libyajl.a"

# --- 3. configure --------------------------------------------------------------
# Only look at i386 .pc files (yajl.pc is required by configure).
export PKG_CONFIG_LIBDIR=/usr/lib/i386-linux-gnu/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_PATH=
# -m32 defaults to -march=i686 on Debian (686-class CPU, no SSE assumed).
# Non-PIE: a static non-PIE binary needs no self-relocation at startup and
# frees %ebx (PIC register) on i386.  Keep Debian-like hardening otherwise.
CFLAGS="-m32 -march=i686 -mtune=generic -O2 -g0 -fno-pie \
 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -ffunction-sections -fdata-sections"
# -static for configure's link tests; the real link uses libtool's
# -all-static (plain -static only means "no uninstalled shared libtool libs").
LDFLAGS_CONF="-m32 -no-pie -static -L$LINKDIR"

./configure >&2 \
    --build=x86_64-linux-gnu --host=i686-linux-gnu \
    CC="gcc -m32" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS_CONF" \
    --prefix=/usr \
    --disable-systemd \
    --disable-criu \
    --disable-dl \
    --disable-shared --enable-static \
    --disable-dependency-tracking \
    --disable-maintainer-mode \
    --disable-silent-rules \
    ac_cv_search_gcry_check_version=no   # never pick up libgcrypt (optional)

grep -E '^#define (HAVE_SECCOMP|HAVE_CAP|HAVE_YAJL|HAVE_EBPF|HAVE_SYSTEMD|HAVE_DLOPEN|HAVE_GCRYPT) ' config.h >&2 || true
# Hard requirements: seccomp + caps present, systemd absent.
grep -q '^#define HAVE_SECCOMP 1' config.h
grep -q '^#define HAVE_CAP 1' config.h
if grep -q '^#define HAVE_SYSTEMD 1' config.h; then echo 'systemd enabled?!' >&2; exit 1; fi

# --- 4. build (only the crun binary: no python bindings, tests or man pages) --
# BUILT_SOURCES (.version, git-version.h from the tarball) are only generated
# by `make all`, so build them explicitly before the crun target.
make .version git-version.h >&2
make -j"$JOBS" crun >"$WORK/build.log" 2>&1 \
    LDFLAGS="-m32 -no-pie -all-static -L$LINKDIR -Wl,--gc-sections -Wl,-O1 -Wl,-z,relro -Wl,-z,now" ||
  { tail -30 "$WORK/build.log" >&2; exit 1; }

built=$WORK/crun.built
install -m 0755 crun "$built"
strip --strip-all "$built"

# Checked by reading it, never by running it: the host may not run i386 code.
# (check-initramfs.mjs checks it again inside the initramfs.) Only a binary
# that passes is put where the cache looks.
file "$built" | grep -q 'ELF 32-bit LSB executable, Intel 80386' || { echo "build-crun.sh: crun is not an i386 executable" >&2; exit 1; }
file "$built" | grep -q 'statically linked' || { echo "build-crun.sh: crun is not statically linked" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
mv "$built" "$OUT"

rm -rf "$WORK"
echo "$OUT"
