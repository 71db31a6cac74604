import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BerthError } from "../../../../src/common/errors.js";
import { openSnapshot, sealSnapshot, snapshotKey } from "../../../../src/engine/store/snapshot-store.js";
import { DirSnapshotStore } from "../../../../src/node/dir-snapshot-store.js";

const buf = (s: string): ArrayBuffer => new TextEncoder().encode(s).buffer as ArrayBuffer;

async function key(memoryMB = 256): Promise<string> {
  return snapshotKey({ bzimage: buf("kernel"), initrd: buf("initrd"), emulator: "v86 test", memoryMB, cmdline: "quiet" });
}

test("the key changes with any input", async () => {
  assert.notEqual(await key(256), await key(512));
  assert.match(await key(), /^[0-9a-f]{64}$/);
});

test("a sealed snapshot opens with its key and no other", async () => {
  const k = await key();
  const sealed = await sealSnapshot(k, buf("state bytes"));
  assert.equal(new TextDecoder().decode(await openSnapshot(k, sealed)), "state bytes");
  await assert.rejects(openSnapshot(await key(512), sealed), (e: BerthError) => e.code === "snapshot-invalid" && /another build/.test(e.message));
});

test("a corrupt or truncated snapshot is refused", async () => {
  const k = await key();
  const sealed = await sealSnapshot(k, buf("state bytes"));
  const flipped = sealed.slice();
  flipped[flipped.length - 1]! ^= 0x20;
  await assert.rejects(openSnapshot(k, flipped), (e: BerthError) => e.code === "snapshot-invalid" && /checksum/.test(e.message));
  await assert.rejects(openSnapshot(k, sealed.subarray(0, sealed.length - 3)), (e: BerthError) => e.code === "snapshot-invalid");
  await assert.rejects(openSnapshot(k, new Uint8Array(10)), (e: BerthError) => e.code === "snapshot-invalid" && /not a Berth snapshot/.test(e.message));
});

test("the directory store keeps one snapshot and deletes on request", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-snap-"));
  try {
    const store = new DirSnapshotStore(dir);
    const a = await key(256);
    const b = await key(512);
    assert.equal(await store.get(a), undefined);
    await store.put(a, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await store.get(a))!], [1, 2, 3]);
    await store.put(b, new Uint8Array([4]));
    assert.equal(await store.get(a), undefined);
    assert.deepEqual(await readdir(dir), [`${b}.snap`]);
    await store.delete(b);
    await store.delete(b);
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(store.get("../etc/passwd"), TypeError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
