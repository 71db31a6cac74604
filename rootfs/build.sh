#!/usr/bin/env bash
# Builds the Berth guest initramfs from Debian i386 packages: busybox-static,
# a static crun built from Debian's crun source (build-crun.sh), the berth
# agent (static i386 C) and /init. Output: $BERTH_CACHE/rootfs-<hash>/initramfs.cpio.gz, where <hash>
# covers everything in rootfs/ and the package versions; a build with the same
# inputs is reused. Prints the initramfs path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_CACHE:-$HOME/.cache/berth}
pkgs="busybox-static"
[ -f /usr/lib/i386-linux-musl/musl-gcc.specs ] || { echo "rootfs/build.sh: musl-dev:i386 is missing (scripts/setup.sh installs it)" >&2; exit 1; }

versions=$(for p in $pkgs; do apt-cache policy "$p:i386" | awk -v p="$p" '/Candidate:/ {print p, $2}'; done
  dpkg-query -W -f='musl-dev ${Version}\n' musl-dev:i386)
if echo "$versions" | grep -q "(none)"; then
  echo "rootfs/build.sh: i386 packages unavailable (dpkg --add-architecture i386 && apt-get update):" >&2
  echo "$versions" | grep "(none)" >&2
  exit 1
fi
hash=$( (cd "$here" && find . -type f | LC_ALL=C sort | xargs sha256sum; echo "$versions") | sha256sum | cut -c1-16)
out=$cache/rootfs-$hash
crun=$("$here/build-crun.sh" | tail -n 1)
if [ -f "$out/initramfs.cpio.gz" ]; then
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
  touch "$debs/.complete"
fi
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done

r=$work/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,lib,etc,proc,sys,dev,run,tmp,var,root,mnt,newroot,containers}
cp "$work/x/bin/busybox" "$r/bin/busybox"
# Applet links made now, not by `busybox --install` at every boot.
for a in $("$r/bin/busybox" --list-full); do
  [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
done
cp "$crun" "$r/usr/bin/crun"

# The agent: static against musl (Debian's musl-dev:i386): 58 KB instead of
# 770 KB with glibc, and the initramfs is unpacked at ~0.19 s per MB at boot.
# musl's specs replace gcc's link line, so the i386 emulation is named again.
gcc -m32 -specs /usr/lib/i386-linux-musl/musl-gcc.specs -Wl,-m,elf_i386 -static -Os \
  -Wall -Wextra -Werror -Wno-unused-result -Wno-unused-parameter \
  -o "$r/sbin/berth-agent" "$here/agent/agent.c"
strip "$r/sbin/berth-agent"

cp -a "$here/files/." "$r/"
chmod 1777 "$r/tmp"

# Reproducible archive: sorted names, fixed times and owners.
mkdir -p "$out"
(cd "$r" && find . -mindepth 1 -exec touch -h -d @0 {} + && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) > "$work/initramfs.cpio"
gzip -n -9 < "$work/initramfs.cpio" > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "built: $out/initramfs.cpio.gz ($(stat -c %s "$work/initramfs.cpio") bytes, $(stat -c %s "$out/initramfs.cpio.gz") gzipped)" >&2
rm -rf "$work"
echo "$out/initramfs.cpio.gz"
