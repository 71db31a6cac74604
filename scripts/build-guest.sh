#!/usr/bin/env bash
# Builds (or reuses from the cache) the guest kernel and initramfs and gathers
# everything a VM needs into build/guest/: bzImage, initramfs.cpio.gz, bios.bin
# (Debian's SeaBIOS), v86.wasm and manifest.json (sizes, hashes, v86 version).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/guest
bzimage=$("$root/kernel/build.sh" | tail -n 1)
initrd=$("$root/rootfs/build.sh" | tail -n 1)

mkdir -p "$out"
# v86 runs SeaBIOS's 128 KiB image: bios-256k.bin overlaps v86's VGA ROM area.
cp /usr/share/seabios/bios.bin "$out/bios.bin"
cp "$bzimage" "$out/bzImage"
cp "$initrd" "$out/initramfs.cpio.gz"
cp "$root/node_modules/v86/build/v86.wasm" "$out/v86.wasm"
v86=$(node -p 'require(process.argv[1]).version' "$root/node_modules/v86/package.json")
{
  printf '{\n  "v86": "%s",\n  "files": {\n' "$v86"
  first=1
  for f in bios.bin bzImage initramfs.cpio.gz v86.wasm; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '    "%s": { "size": %s, "sha256": "%s" }' "$f" "$(stat -c %s "$out/$f")" "$(sha256sum "$out/$f" | cut -c1-64)"
  done
  printf '\n  }\n}\n'
} > "$out/manifest.json"
echo "guest: $out (bzImage $(stat -c %s "$out/bzImage") B, initramfs.cpio.gz $(stat -c %s "$out/initramfs.cpio.gz") B)" >&2
