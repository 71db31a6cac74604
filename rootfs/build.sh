#!/usr/bin/env bash
# Builds the Berth guest initramfs from Debian i386 packages: busybox-static,
# a static crun built from Debian's crun source (build-crun.sh), the berth
# agent (static i386 C) and /init. Output: $BERTH_CACHE/rootfs-<hash>/initramfs.cpio.gz, where <hash>
# covers everything in rootfs/ and the package versions; a build with the same
# inputs is reused. Prints the initramfs path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_CACHE:-$HOME/.cache/berth}
# musl-dev is unpacked, not installed: installing musl-dev:i386 pulls in the
# i686 cross compiler, which conflicts with gcc-multilib.
pkgs="busybox-static musl-dev"

versions=$(for p in $pkgs; do apt-cache policy "$p:i386" | awk -v p="$p" '/Candidate:/ {print p, $2}'; done)
if echo "$versions" | grep -q "(none)"; then
  echo "rootfs/build.sh: i386 packages unavailable (dpkg --add-architecture i386 && apt-get update):" >&2
  echo "$versions" | grep "(none)" >&2
  exit 1
fi
hash=$( (cd "$here" && find . -type f | LC_ALL=C sort | xargs sha256sum; echo "$versions") | sha256sum | cut -c1-16)
out=$cache/rootfs-$hash
crun=$("$here/build-crun.sh" | tail -n 1)
# A cached build is checked again (it takes a second): a cache written by an
# older, broken build script must not boot.
if [ -f "$out/initramfs.cpio.gz" ] && node "$here/check-initramfs.mjs" "$out/initramfs.cpio.gz" 2>/dev/null; then
  echo "$out/initramfs.cpio.gz"
  exit 0
fi

work=$out.tmp
rm -rf "$work" && mkdir -p "$work/x" "$work/root"
# The .debs are kept by version, so a change to the agent does not download again.
# apt-get download writes into the current directory; as root it warns that the
# _apt user cannot write there, which is harmless.
debs=$cache/debs-$(echo "$versions" | sha256sum | cut -c1-16)
if [ ! -f "$debs/.complete" ]; then
  rm -rf "$debs" && mkdir -p "$debs"
  (cd "$debs" && apt-get download $(for p in $pkgs; do echo "$p:i386"; done) >&2 2>/dev/null)
  for p in $pkgs; do
    ls "$debs/${p}_"*.deb >/dev/null 2>&1 || { echo "rootfs/build.sh: apt-get download $p:i386 failed" >&2; exit 1; }
  done
  touch "$debs/.complete"
fi
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done

r=$work/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,lib,etc,proc,sys,dev,run,tmp,var,root,mnt,newroot,containers}
cp "$work/x/bin/busybox" "$r/bin/busybox"
# Applet links made now, not by `busybox --install` at every boot. The list is
# read out of the binary (busybox-applets.mjs), never by running it: the host
# may have no IA-32 emulation (this one has it switched off), and then the
# i386 busybox cannot run here at all.
applets=$(node "$here/busybox-applets.mjs" "$r/bin/busybox")
for a in $applets; do
  [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
done
cp "$crun" "$r/usr/bin/crun"

# The agent: static against musl (from musl-dev:i386): 58 KB instead of 770 KB
# with glibc, and the initramfs is unpacked at boot in emulated time. gcc -m32
# with musl's headers, start files and libc.a instead of glibc's.
m=$work/x/usr/lib/i386-linux-musl
musl_cc() { # OUTPUT SOURCE...
  local o=$1; shift
  gcc -m32 -static -nostdinc -nostdlib -isystem "$work/x/usr/include/i386-linux-musl" \
    -isystem "$(gcc -m32 -print-file-name=include)" -Os \
    -Wall -Wextra -Werror -Wno-unused-result -Wno-unused-parameter \
    -o "$o" "$m/crt1.o" "$m/crti.o" "$@" -L"$m" -lc "$(gcc -m32 -print-libgcc-file-name)" "$m/crtn.o"
  strip "$o"
}
musl_cc "$r/sbin/berth-agent" "$here/agent/agent.c" "$here/agent/protocol.c"
# the guest's docker client: argv and bytes to the engine, which does the work
musl_cc "$r/usr/bin/docker" "$here/agent/docker.c" "$here/agent/protocol.c"
# docker run --init: bind-mounted into the container as /sbin/docker-init
musl_cc "$r/sbin/berth-init" "$here/agent/init.c"
# a container onto a bridge network, with rtnetlink (the kernel's uapi headers from linux-libc-dev)
kinc=$work/kinc
mkdir -p "$kinc"
ln -sfn /usr/include/linux "$kinc/linux"
ln -sfn /usr/include/asm-generic "$kinc/asm-generic"
ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$kinc/asm"
musl_cc "$r/sbin/berth-veth" -idirafter "$kinc" "$here/agent/veth.c"
# Docker's NAT out of the VM for its bridges, with nf_tables over netlink
musl_cc "$r/sbin/berth-nat" -idirafter "$kinc" "$here/agent/nat.c"
# a published port's connection into a container (TCP or UDP)
musl_cc "$r/sbin/berth-fwd" "$here/agent/fwd.c"

cp -a "$here/files/." "$r/"
chmod 1777 "$r/tmp"

# Reproducible archive: sorted names, fixed times and owners.
mkdir -p "$out"
(cd "$r" && find . -mindepth 1 -exec touch -h -d @0 {} + && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) > "$work/initramfs.cpio"
gzip -n -9 < "$work/initramfs.cpio" > "$work/initramfs.cpio.gz"
# Only a whole initramfs is cached under this key: a missing piece stops here
# with one line naming it (check-initramfs.mjs reads the archive).
node "$here/check-initramfs.mjs" "$work/initramfs.cpio.gz"
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "built: $out/initramfs.cpio.gz ($(stat -c %s "$work/initramfs.cpio") bytes, $(stat -c %s "$out/initramfs.cpio.gz") gzipped)" >&2
rm -rf "$work"
echo "$out/initramfs.cpio.gz"
