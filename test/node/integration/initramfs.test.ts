// The built initramfs, read and not booted: every piece the guest needs is in it,
// and the build's own check (rootfs/check-initramfs.mjs) names a missing one in a
// line. A host that cannot run i386 code once built a guest with no /bin/sh that
// panicked at every boot; this catches that class on any machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { guestDir, packageRoot } from "../../../src/node/guest-files.js";
import { cpioArchive, type CpioMember, tempDir } from "../../helpers/guest.js";

interface Checker {
  GUEST_PROGRAMS: string[];
  readCpio(bytes: Uint8Array): Map<string, CpioMember>;
  initramfsProblems(entries: Map<string, CpioMember>): string[];
}
interface Applets {
  busyboxApplets(bin: Uint8Array): string[];
}

const script = join(packageRoot, "rootfs", "check-initramfs.mjs");
const checker = (await import(pathToFileURL(script).href)) as Checker;
const { busyboxApplets } = (await import(pathToFileURL(join(packageRoot, "rootfs", "busybox-applets.mjs")).href)) as Applets;
const built = checker.readCpio(new Uint8Array(await readFile(join(guestDir, "initramfs.cpio.gz"))));

/** Runs the build's check on `entries` written as a .cpio.gz: its exit code and stderr. */
async function checkArchive(entries: Iterable<CpioMember>): Promise<{ code: number; stderr: string }> {
  const tmp = await tempDir("berth-initramfs-");
  try {
    const file = join(tmp.dir, "initramfs.cpio.gz");
    await writeFile(file, gzipSync(cpioArchive(entries)));
    try {
      const r = await promisify(execFile)(process.execPath, [script, file]);
      return { code: 0, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stderr: string };
      return { code: err.code, stderr: err.stderr };
    }
  } finally {
    await tmp.remove();
  }
}

function without(...names: string[]): CpioMember[] {
  return [...built.values()].filter((e) => !names.includes(e.name));
}

test("the built initramfs holds /init, /bin/sh, the agent, the docker client, crun and every applet link", () => {
  assert.deepEqual(checker.initramfsProblems(built), []);
  for (const name of ["init", "bin/sh", "sbin/init", "sbin/berth-agent", "usr/bin/docker", "usr/bin/crun", "etc/inittab"]) {
    assert.ok(built.has(name), `/${name} is in the initramfs`);
  }
  const sh = built.get("bin/sh")!;
  assert.equal(sh.mode & 0o170000, 0o120000, "/bin/sh is a symlink");
  assert.equal(Buffer.from(sh.data).toString(), "/bin/busybox");
  const applets = busyboxApplets(built.get("bin/busybox")!.data);
  assert.ok(applets.length > 200, `${applets.length} applets`);
  for (const path of ["bin/sh", "sbin/init", "bin/mount", "usr/sbin/chroot", "sbin/udhcpc", "usr/bin/nc", "sbin/ip"]) {
    assert.ok(applets.includes(path), `busybox installs ${path}`);
  }
});

test("the build's check passes the built initramfs and exits 0", async () => {
  const r = await checkArchive(built.values());
  assert.equal(r.code, 0, r.stderr);
});

test("a missing piece stops the check with one line naming it, exit 1", async () => {
  for (const name of ["bin/sh", "init", "sbin/berth-agent", "usr/bin/docker", "usr/bin/crun", "etc/inittab"]) {
    const r = await checkArchive(without(name));
    assert.equal(r.code, 1, `without /${name}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`/${name.replace(/[/.]/g, "\\$&")}\\b`), r.stderr);
  }
});

test("an initramfs with busybox but no applet links (what a host without i386 emulation built) names /bin/sh", async () => {
  const noLinks = [...built.values()].filter((e) => (e.mode & 0o170000) !== 0o120000);
  const r = await checkArchive(noLinks);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /applet links missing: .*\/bin\/sh/);
  assert.match(r.stderr, /and \d+ more/);
});

test("a program that is not a static i386 executable is refused by name", async () => {
  const node = new Uint8Array(await readFile(process.execPath)).subarray(0, 64 * 1024);
  const swapped = [...built.values()].map((e) => (e.name === "usr/bin/docker" ? { ...e, data: node } : e));
  const r = await checkArchive(swapped);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/usr\/bin\/docker not a 32-bit little-endian ELF file/);
  const script = [...built.values()].map((e) => (e.name === "usr/bin/crun" ? { ...e, data: new TextEncoder().encode("#!/bin/sh\n") } : e));
  assert.match((await checkArchive(script)).stderr, /\/usr\/bin\/crun not an ELF file/);
});

test("a truncated or foreign archive is refused with one line", async () => {
  const tmp = await tempDir("berth-initramfs-");
  try {
    const file = join(tmp.dir, "x.cpio.gz");
    await writeFile(file, gzipSync(cpioArchive(built.values())).subarray(0, 100_000));
    const r = await promisify(execFile)(process.execPath, [script, file]).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^check-initramfs: .*: cannot read it: /);
  } finally {
    await tmp.remove();
  }
});

test("busybox's applet table is read from the binary, or refused when there is none", () => {
  assert.throws(() => busyboxApplets(new Uint8Array(4096)), /no applet name table/);
  const bb = Buffer.from(built.get("bin/busybox")!.data);
  // the name table alone, without the location table the binary has beside it
  const start = bb.indexOf("[\0[[\0", 0, "latin1");
  const end = bb.indexOf("\0\0", start, "latin1") + 2;
  assert.throws(() => busyboxApplets(new Uint8Array(bb.subarray(start, end))), /no applet location table/);
});
