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
const record = { version: 1 as const, token: "t1", savedAt: 1, engine: { containers: ["a"] } };

test("a sealed session opens with its key into its record and state; another key, a flipped byte, a cut or an unreadable record are refused", async () => {
  const k = await sessionKey("0".repeat(64));
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.notEqual(k, await sessionKey("1".repeat(64)));
  const sealed = await sealSession(k, record, state);
  const opened = await openSession<{ containers: string[] }>(k, sealed);
  assert.deepEqual(opened.record, record);
  assert.equal(new TextDecoder().decode(opened.state), "vm state bytes");
  const invalid = (re: RegExp) => (e: BerthError) => e.code === "snapshot-invalid" && re.test(e.message);
  await assert.rejects(openSession(await sessionKey("1".repeat(64)), sealed), invalid(/another build/));
  const flipped = sealed.slice();
  flipped[flipped.length - 2]! ^= 1;
  await assert.rejects(openSession(k, flipped), invalid(/checksum/));
  await assert.rejects(openSession(k, sealed.subarray(0, sealed.length - 5)), invalid(/checksum/));
  const garbage = new Uint8Array([9, 0, 0, 0, 123, 125]);
  await assert.rejects(openSession(k, await sealSnapshot(k, garbage.buffer)), invalid(/record is not readable/));
});

test("the guard: a session holds until the state store is written after it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-guard-"));
  try {
    const guard = new SessionGuard(new DirBlobStore(dir));
    assert.equal(await guard.holds("t1"), false);
    await guard.arm("t1");
    assert.equal(await guard.holds("t1"), true);
    assert.equal(await guard.holds("t2"), false);
    // reads do not count
    await guard.getMeta("containers");
    await guard.list();
    assert.equal(await guard.holds("t1"), true);
    await Promise.all([guard.setMeta("containers", "{}"), guard.setMeta("volumes", "{}")]);
    assert.equal(await guard.holds("t1"), false);
    assert.equal(await guard.getMeta("containers"), "{}");
    await guard.arm("t3");
    await guard.put("sha256:" + "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", new TextEncoder().encode("hello"));
    assert.equal(await guard.holds("t3"), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
