import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { BerthError } from "../../../../src/common/errors.js";
import { openSession, sealSession, sessionKey, SessionGuard } from "../../../../src/engine/store/session-store.js";
import { sealSnapshot } from "../../../../src/engine/store/snapshot-store.js";
import { DirBlobStore } from "../../../../src/node/dir-blob-store.js";

const state = new TextEncoder().encode("vm state bytes").buffer as ArrayBuffer;
const record = { version: 1 as const, fingerprint: "f1", savedAt: 1, engine: { containers: ["a"] } };

test("a sealed session opens with its key into its record and state; another key, a flipped byte, a cut or an unreadable record are refused", async () => {
  const k = await sessionKey("0".repeat(64));
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.notEqual(k, await sessionKey("1".repeat(64)));
  const blobs = [new TextEncoder().encode("log one"), new Uint8Array(0), new Uint8Array([0, 255])];
  const sealed = await sealSession(k, record, state, blobs);
  const opened = await openSession<{ containers: string[] }>(k, sealed);
  assert.deepEqual(opened.record, record);
  assert.equal(new TextDecoder().decode(opened.state), "vm state bytes");
  assert.deepEqual(opened.blobs, blobs);
  assert.deepEqual((await openSession(k, await sealSession(k, record, state))).blobs, []);
  const invalid = (re: RegExp) => (e: BerthError) => e.code === "snapshot-invalid" && re.test(e.message);
  await assert.rejects(openSession(await sessionKey("1".repeat(64)), sealed), invalid(/another build/));
  const flipped = sealed.slice();
  flipped[flipped.length - 2]! ^= 1;
  await assert.rejects(openSession(k, flipped), invalid(/checksum/));
  await assert.rejects(openSession(k, sealed.subarray(0, sealed.length - 5)), invalid(/checksum/));
  const garbage = new Uint8Array([9, 0, 0, 0, 123, 125]);
  await assert.rejects(openSession(k, await sealSnapshot(k, garbage.buffer)), invalid(/record is not readable/));
  // a record whose blobs run past the end
  const json = new TextEncoder().encode(JSON.stringify(record));
  const cut = new Uint8Array(4 + json.length + 8);
  new DataView(cut.buffer).setUint32(0, json.length, true);
  cut.set(json, 4);
  new DataView(cut.buffer).setUint32(4 + json.length, 1, true);
  new DataView(cut.buffer).setUint32(8 + json.length, 1000, true);
  await assert.rejects(openSession(k, await sealSnapshot(k, cut.buffer)), invalid(/record is not readable/));
});

test("the guard: the fingerprint of the containers' and volumes' records moves with a write, not with a read or an unchanged record", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-guard-"));
  try {
    const inner = new DirBlobStore(dir);
    await inner.setMeta("containers", "{\"a\":1}");
    const guard = new SessionGuard(inner);
    await guard.load();
    let changes = 0;
    guard.onChange = () => changes++;
    const f0 = await SessionGuard.fingerprint(guard.records());
    // reads, an unchanged record and a record nobody watches do not move it
    await guard.getMeta("containers");
    await guard.list();
    await guard.setMeta("containers", "{\"a\":1}");
    await guard.setMeta("images", "{}");
    assert.equal(await SessionGuard.fingerprint(guard.records()), f0);
    // a later guard (the next page load) reads the same
    const next = new SessionGuard(inner);
    await next.load();
    assert.equal(await SessionGuard.fingerprint(next.records()), f0);
    await guard.setMeta("volumes", "{\"v\":1}");
    const f1 = await SessionGuard.fingerprint(guard.records());
    assert.notEqual(f1, f0);
    const again = new SessionGuard(inner);
    await again.load();
    assert.equal(await SessionGuard.fingerprint(again.records()), f1);
    assert.equal(await inner.getMeta("volumes"), "{\"v\":1}");
    assert.ok(changes >= 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
