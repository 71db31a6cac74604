// What a user sees when the guest cannot start, and that the engine starts afterwards.
import assert from "node:assert/strict";
import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { test } from "node:test";
import { BerthError } from "../../../src/common/errors.js";
import type { BerthError as BerthErrorType } from "../../../src/common/errors.js";
import { Engine } from "../../../src/engine/engine.js";
import { DirSnapshotStore } from "../../../src/node/dir-snapshot-store.js";
import { guestDir } from "../../../src/node/guest-files.js";
import { cpioFiles, loadGuestAssets, tempDir } from "../../helpers/guest.js";

async function startsAndAnswers(options: { snapshots?: DirSnapshotStore } = {}): Promise<Engine> {
  const e = await Engine.start({ assets: await loadGuestAssets(), ...options });
  assert.equal((await e.run(["echo", "ok"])).stdout, "ok\n");
  return e;
}

test("a corrupt kernel file fails with vm-boot-failed before booting", async () => {
  const tmp = await tempDir("berth-badkernel-");
  try {
    await cp(guestDir, tmp.dir, { recursive: true });
    const kernel = join(tmp.dir, "bzImage");
    const data = await readFile(kernel);
    data[100_000]! ^= 0xff;
    await writeFile(kernel, data);
    await assert.rejects(loadGuestAssets({ dir: tmp.dir }), (e: BerthErrorType) => e instanceof BerthError && e.code === "vm-boot-failed" && /does not match its manifest/.test(e.message));
  } finally {
    await tmp.remove();
  }
});

test("a guest that crashes the emulator gives guest-crashed, and the engine starts after", async () => {
  const assets = await loadGuestAssets();
  const bad = new Uint8Array(assets.bzimage.slice(0));
  bad.fill(0x17, 0x4000, 0x40000); // keep the setup header so v86 loads it; "pop ss" everywhere after
  await assert.rejects(
    Engine.start({ assets: { ...assets, bzimage: bad.buffer }, bootTimeoutMs: 15000 }),
    (e: BerthErrorType) => e instanceof BerthError && e.code === "guest-crashed" && /emulator stopped/.test(e.message),
  );
  await (await startsAndAnswers()).stop();
});

test("a guest whose agent never starts fails with vm-boot-failed", async () => {
  const assets = await loadGuestAssets();
  const cpio = gunzipSync(new Uint8Array(assets.initrdGz));
  // a second archive appended to the initramfs overrides files of the first
  const inittab = cpioFiles({ "etc/inittab": { data: "::sysinit:/bin/sleep 100000\n" } });
  const initrdGz = gzipSync(Buffer.concat([cpio, inittab]));
  const t0 = Date.now();
  await assert.rejects(
    Engine.start({ assets: { ...assets, initrdGz: initrdGz.buffer.slice(initrdGz.byteOffset, initrdGz.byteOffset + initrdGz.length) as ArrayBuffer }, bootTimeoutMs: 12000 }),
    (e: BerthErrorType) => e.code === "vm-boot-failed" && /no answer in 12 s/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 30000);
});

test("an initramfs that is not gzip fails with vm-boot-failed", async () => {
  const assets = await loadGuestAssets();
  await assert.rejects(
    Engine.start({ assets: { ...assets, initrdGz: new Uint8Array([1, 2, 3, 4]).buffer } }),
    (e: BerthErrorType) => e.code === "vm-boot-failed" && /not valid gzip/.test(e.message),
  );
});

test("a corrupt snapshot is discarded with a warning and the guest boots afresh", async () => {
  const tmp = await tempDir("berth-badsnap-");
  try {
    const store = new DirSnapshotStore(tmp.dir);
    await (await startsAndAnswers({ snapshots: store })).stop();
    const [file] = await readdir(tmp.dir);
    assert.ok(file?.endsWith(".snap"));
    const path = join(tmp.dir, file!);
    await writeFile(path, "BERTHSNAP1 not really\n garbage");
    const warnings: BerthErrorType[] = [];
    const e = await Engine.start({ assets: await loadGuestAssets(), snapshots: store, onWarning: (w) => warnings.push(w) });
    assert.equal(e.info.restored, false);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, "snapshot-invalid");
    assert.equal((await e.run(["echo", "fresh"])).stdout, "fresh\n");
    await e.stop();
    // the snapshot saved by that boot is good again
    const again = await startsAndAnswers({ snapshots: store });
    assert.equal(again.info.restored, true);
    await again.stop();
  } finally {
    await tmp.remove();
  }
});
