#!/usr/bin/env bash
# Builds the Berth guest kernel (i386 bzImage) from Debian's linux-source-6.1.
# Output: $BERTH_CACHE/kernel-<hash>/bzImage, where <hash> covers this script,
# berth.config and the Debian source package version; a build with the same
# inputs is reused. Prints the bzImage path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_CACHE:-$HOME/.cache/berth}
tarball=/usr/src/linux-source-6.1.tar.xz

if [ ! -f "$tarball" ]; then
  echo "kernel/build.sh: $tarball is missing (apt-get install linux-source-6.1)" >&2
  exit 1
fi
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
hash=$(cat "$here/build.sh" "$here/berth.config" <(echo "$srcver") | sha256sum | cut -c1-16)
out=$cache/kernel-$hash
if [ -f "$out/bzImage" ]; then
  echo "$out/bzImage"
  exit 0
fi

# The source tree is shared by all kernel builds of one Debian version (out-of-tree builds).
src=$cache/linux-src-$srcver
if [ ! -f "$src/.berth-extracted" ]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xJf "$tarball" -C "$src" --strip-components=1
  touch "$src/.berth-extracted"
fi

obj=$out.tmp
rm -rf "$obj" && mkdir -p "$obj"
make -C "$src" O="$obj" ARCH=i386 tinyconfig >/dev/null
# merge_config.sh -m merges without resolving; olddefconfig then resolves
# dependencies (and would turn IPv6 on silently, hence the explicit "not set").
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$here/berth.config" >/dev/null
make -C "$src" O="$obj" ARCH=i386 olddefconfig >/dev/null

# Kconfig drops an option whose dependencies are unmet without a word: check every one.
missing=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) grep -qx "$line" "$obj/.config" || { echo "kernel/build.sh: $line did not stick" >&2; missing=1; } ;;
    "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; grep -q "^$opt=" "$obj/.config" && { echo "kernel/build.sh: $opt is set but should not be" >&2; missing=1; } ;;
  esac
done < "$here/berth.config"
[ "$missing" = 0 ] || exit 1

make -C "$src" O="$obj" ARCH=i386 -j"$(nproc)" bzImage >"$obj/build.log" 2>&1 || { tail -30 "$obj/build.log" >&2; exit 1; }
mkdir -p "$out"
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
cp "$obj/.config" "$out/config"
rm -rf "$obj"
echo "built: $out/bzImage ($(stat -c %s "$out/bzImage") bytes)" >&2
echo "$out/bzImage"
