#!/usr/bin/env node
// Lists a busybox binary's applets with their install paths ("bin/sh",
// "usr/sbin/chroot", …), like `busybox --list-full`, by reading the binary
// instead of running it: the guest's busybox is i386 and the build host may
// not run i386 code at all (kernels without IA-32 emulation, arm64 hosts).
//
// Where the data is: busybox's applets/applet_tables.c generates two tables
// into the binary's .rodata (busybox 1.35, include/applet_tables.h):
//   applet_names[]       "[\0[[\0acpid\0…\0zcat\0\0", sorted, NUL-separated
//   applet_install_loc[] one nibble per applet, two applets a byte (low nibble
//                        first), values 0..4 = / /bin /sbin /usr/bin /usr/sbin
// The names are found by their fixed start, the location table as the one
// run of bytes of the right length, all nibbles 0..4, that puts a few applets
// whose place never changes where busybox always installs them. Anything else
// (none found, or two candidates) is an error: the build must not guess.
//
// Usage: node rootfs/busybox-applets.mjs BUSYBOX   (one path a line)
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const DIRS = ["", "bin/", "sbin/", "usr/bin/", "usr/sbin/"];
// Applets whose install location is fixed in busybox's sources (applets.src.h and
// each applet's //applet: line) for every version the Debian packages have shipped.
const ANCHORS = { sh: "bin/", mount: "bin/", init: "sbin/", chroot: "usr/sbin/", "[": "usr/bin/", wget: "usr/bin/" };

/**
 * Reads the applet list out of a busybox binary.
 * @param {Uint8Array} bin the busybox executable's bytes
 * @returns {string[]} install paths without a leading slash, in applet order
 * @throws {Error} when the name table or exactly one location table cannot be found
 */
export function busyboxApplets(bin) {
  const start = indexOf(bin, Buffer.from("[\0[[\0", "latin1"));
  if (start < 0) throw new Error("no applet name table (is this busybox?)");
  const names = [];
  for (let i = start; bin[i] !== 0; ) {
    let j = i;
    while (bin[j] !== 0) j++;
    names.push(Buffer.from(bin.subarray(i, j)).toString("latin1"));
    i = j + 1;
  }
  const n = names.length;
  const size = Math.ceil(n / 2);
  const valid = (b) => (b & 15) <= 4 && b >> 4 <= 4;
  const candidates = [];
  for (let off = 0, run = 0; off < bin.length; off++) {
    run = valid(bin[off]) ? run + 1 : 0;
    if (run < size) continue;
    const table = bin.subarray(off - size + 1, off + 1);
    const place = (k) => DIRS[k % 2 === 0 ? table[k >> 1] & 15 : table[k >> 1] >> 4];
    if (n % 2 === 1 && table[size - 1] >> 4 !== 0) continue; // the odd last byte's high nibble is unused
    const ok = Object.entries(ANCHORS).every(([name, dir]) => {
      const k = names.indexOf(name);
      return k < 0 || place(k) === dir;
    });
    if (ok) candidates.push(names.map((name, k) => place(k) + name));
  }
  if (candidates.length !== 1) throw new Error(`${candidates.length === 0 ? "no" : "more than one"} applet location table (${n} applets)`);
  return candidates[0];
}

function indexOf(hay, needle) {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: busybox-applets.mjs BUSYBOX");
    process.exit(2);
  }
  try {
    process.stdout.write(busyboxApplets(readFileSync(path)).join("\n") + "\n");
  } catch (e) {
    console.error(`busybox-applets: ${path}: ${e.message}`);
    process.exit(1);
  }
}
