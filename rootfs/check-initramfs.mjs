#!/usr/bin/env node
// Checks a built guest initramfs by reading it (never by running anything in
// it: the host may not execute i386 code). A build that fails here is not
// cached, so a guest that would panic at boot never reaches a VM.
//
// What must be there: /init; busybox and a link for each of its applets (the
// list read from the binary itself, see busybox-applets.mjs), /bin/sh among
// them; the agent, the docker client, crun and the other guest helpers as
// static i386 executables; every file of rootfs/files/.
//
// Usage: node rootfs/check-initramfs.mjs INITRAMFS.cpio[.gz]
//   exit 0 and one "ok" line on stderr, or exit 1 and one line naming what is wrong.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { busyboxApplets } from "./busybox-applets.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** Static i386 programs the guest needs, by path in the archive (no leading slash). */
export const GUEST_PROGRAMS = [
  "bin/busybox",
  "sbin/berth-agent",
  "usr/bin/docker",
  "usr/bin/crun",
  "sbin/berth-init",
  "sbin/berth-veth",
  "sbin/berth-nat",
  "sbin/berth-fwd",
];

/** Applets the boot runs by path: /init (chroot), inittab (sh, init, mount, umount). */
const BOOT_APPLETS = ["bin/sh", "sbin/init", "bin/mount", "bin/umount", "usr/sbin/chroot"];

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/**
 * @typedef {{ name: string, mode: number, data: Uint8Array }} CpioEntry
 *   name without a leading "./" or "/"; for a symlink, data is its target
 */

/**
 * Reads a newc ("070701") cpio archive, gzip-compressed or not. Several
 * archives one after another (as the kernel accepts) are read as one: a later
 * entry of the same name replaces the earlier one, as when the kernel unpacks.
 * @param {Uint8Array} bytes
 * @returns {Map<string, CpioEntry>}
 * @throws {Error} on a header that is not newc or an archive cut short
 */
export function readCpio(bytes) {
  const data = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  const entries = new Map();
  const text = (a, b) => Buffer.from(data.subarray(a, b)).toString("latin1");
  const align = (n) => (n + 3) & ~3;
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) { off++; continue; } // padding between concatenated archives
    if (off + 110 > data.length) throw new Error(`cut short at byte ${off}`);
    const magic = text(off, off + 6);
    if (magic !== "070701" && magic !== "070702") throw new Error(`no newc header at byte ${off}`);
    const field = (i) => parseInt(text(off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = text(off + 110, off + 110 + nameSize - 1).replace(/^\.?\//, "");
    const start = align(off + 110 + nameSize);
    if (start + size > data.length) throw new Error(`"${name}" cut short`);
    if (name !== "TRAILER!!!") entries.set(name, { name, mode, data: data.subarray(start, start + size) });
    off = align(start + size);
  }
  return entries;
}

/**
 * Why `bytes` is not a static i386 (Intel 80386, ELF32 little-endian) executable,
 * or undefined when it is. Reads the ELF header and program headers only.
 * @param {Uint8Array} bytes
 * @returns {string | undefined}
 */
export function notStaticI386(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 52 || v.getUint32(0) !== 0x7f454c46) return "not an ELF file";
  if (bytes[4] !== 1 || bytes[5] !== 1) return "not a 32-bit little-endian ELF file";
  if (v.getUint16(18, true) !== 3) return `built for ELF machine ${v.getUint16(18, true)}, not i386`;
  if (v.getUint16(16, true) !== 2) return "not an executable (ELF type is not EXEC)";
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  for (let i = 0; i < v.getUint16(44, true); i++) {
    if (phoff + (i + 1) * phentsize > bytes.length) return "program headers cut short";
    if (v.getUint32(phoff + i * phentsize, true) === 3) return "dynamically linked (has an interpreter)";
  }
  return undefined;
}

/**
 * Lists what is wrong with an initramfs, one short phrase each (empty when it is whole).
 * @param {Map<string, CpioEntry>} entries from readCpio
 * @param {{ filesDir?: string }} [options] filesDir: a tree every file of which must be
 *   in the archive with the same content (default: rootfs/files beside this script)
 * @returns {string[]}
 */
export function initramfsProblems(entries, options = {}) {
  const problems = [];
  const isFile = (e) => e !== undefined && (e.mode & S_IFMT) === S_IFREG;
  const init = entries.get("init");
  if (!isFile(init) || (init.mode & 0o111) === 0) problems.push("/init missing or not executable");
  for (const path of GUEST_PROGRAMS) {
    const e = entries.get(path);
    if (!isFile(e)) { problems.push(`/${path} missing`); continue; }
    if ((e.mode & 0o111) === 0) problems.push(`/${path} not executable`);
    const why = notStaticI386(e.data);
    if (why) problems.push(`/${path} ${why}`);
  }
  const busybox = entries.get("bin/busybox");
  if (isFile(busybox) && !notStaticI386(busybox.data)) {
    let applets = [];
    try {
      applets = busyboxApplets(busybox.data);
    } catch (e) {
      problems.push(`/bin/busybox: ${e.message}`);
    }
    // the ones the boot itself needs are named first
    const missing = applets.filter((path) => !isBusybox(entries, path)).sort((a, b) => +!BOOT_APPLETS.includes(a) - +!BOOT_APPLETS.includes(b));
    for (const path of BOOT_APPLETS) if (!applets.includes(path)) problems.push(`/${path} is not a busybox applet`);
    if (missing.length > 0) {
      const shown = missing.slice(0, 4).map((p) => `/${p}`).join(", ");
      problems.push(`applet links missing: ${shown}${missing.length > 4 ? ` and ${missing.length - 4} more` : ""}`);
    }
  }
  const filesDir = options.filesDir ?? join(here, "files");
  for (const path of walk(filesDir)) {
    const name = relative(filesDir, path);
    const e = entries.get(name);
    if (!isFile(e)) problems.push(`/${name} missing (from rootfs/files)`);
    else if (Buffer.compare(Buffer.from(e.data), readFileSync(path)) !== 0) problems.push(`/${name} differs from rootfs/files`);
  }
  return problems;
}

/** Whether `path` leads to bin/busybox: the file itself, or a symlink to it. */
function isBusybox(entries, path) {
  const e = entries.get(path);
  if (!e) return false;
  if ((e.mode & S_IFMT) === S_IFREG) return path === "bin/busybox";
  if ((e.mode & S_IFMT) !== S_IFLNK) return false;
  const target = Buffer.from(e.data).toString("latin1");
  const resolved = target.startsWith("/") ? target.slice(1) : join(dirname(path), target);
  return resolved === "bin/busybox";
}

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: check-initramfs.mjs INITRAMFS.cpio[.gz]");
    process.exit(2);
  }
  let problems;
  try {
    problems = initramfsProblems(readCpio(new Uint8Array(readFileSync(path))));
  } catch (e) {
    problems = [`cannot read it: ${e.message}`];
  }
  if (problems.length > 0) {
    console.error(`check-initramfs: ${path}: ${problems.join("; ")}`);
    process.exit(1);
  }
  console.error(`check-initramfs: ${path}: ok`);
}
