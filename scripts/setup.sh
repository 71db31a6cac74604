#!/usr/bin/env bash
# Makes a fresh Debian machine ready to run Berth, and skips what is done:
# Debian packages (apt-get), npm packages (npm ci when the lock changed), the
# TypeScript build and bundles, and the guest (kernel, crun and initramfs are
# cached in ~/.cache/berth by a hash of their inputs).
# Usage: scripts/setup.sh [--for-tests]   (--for-tests: Chromium, docker-registry and htpasswd too)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  linux-source-6.1 bc bison flex libelf-dev lz4 cpio xz-utils   # the guest kernel
  build-essential gcc-multilib file                            # the agent and crun, -m32
  dpkg-dev pkgconf libseccomp-dev:i386 libcap-dev:i386 libyajl-dev:i386  # crun from source
  seabios                                                      # the BIOS v86 boots
  passt                                                        # the network relay's uplink (berth serve)
)
[ "${1:-}" = --for-tests ] && pkgs+=(chromium docker-registry apache2-utils zstd openssl docker-compose)
# the Engine API tests drive the real docker CLI; Debian's docker.io brings one where the machine has none
[ "${1:-}" = --for-tests ] && ! command -v docker >/dev/null && pkgs+=(docker.io)

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
update=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  $sudo dpkg --add-architecture i386   # busybox-static:i386 and the :i386 -dev packages
  update=1
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ $update = 1 ]; then
  # exit 100 happens while Debian's security mirror is mid-sync for i386; what we
  # need is in bookworm main, so go on and let apt-get install say if it is not.
  $sudo apt-get update -q || echo "setup: apt-get update reported errors; going on" >&2
  [ ${#missing[@]} = 0 ] || $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f node_modules/.berth-lock ] || [ "$(sha256sum < package-lock.json)" != "$(cat node_modules/.berth-lock)" ]; then
  npm ci --no-audit --no-fund
  sha256sum < package-lock.json > node_modules/.berth-lock
fi

npx tsc -b
node scripts/bundle.mjs
bash scripts/build-guest.sh
