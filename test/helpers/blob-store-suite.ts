// One conformance suite for every BlobStore (containerd's content testsuite):
// the Node directory store runs it here, the IndexedDB store in Chromium.
import { collectGarbage, type BlobStore } from "../../src/engine/store/blob-store.js";

export interface SuiteApi {
  test(name: string, f: () => Promise<void>): void;
  equal(a: unknown, b: unknown, msg?: string): void;
  rejects(p: Promise<unknown>, code: string): Promise<void>;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
async function digestOf(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return `sha256:${Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("")}`;
}

export function blobStoreSuite(name: string, make: () => Promise<BlobStore>, t: SuiteApi): void {
  t.test(`${name}: put, get, has, list, delete`, async () => {
    const s = await make();
    const a = bytes("layer a");
    const da = await digestOf(a);
    t.equal(await s.has(da), false);
    t.equal(await s.get(da), undefined);
    await s.put(da, a);
    t.equal(await s.has(da), true);
    t.equal(new TextDecoder().decode(await s.get(da)), "layer a");
    t.equal((await s.list()).includes(da), true);
    await s.put(da, a); // idempotent
    await s.delete(da);
    await s.delete(da);
    t.equal(await s.has(da), false);
  });

  t.test(`${name}: named records are replaced whole`, async () => {
    const s = await make();
    t.equal(await s.getMeta("images"), undefined);
    await s.setMeta("images", '{"v":1}');
    await s.setMeta("images", '{"v":2}');
    t.equal(await s.getMeta("images"), '{"v":2}');
  });

  t.test(`${name}: a blob that does not match its digest is never stored`, async () => {
    const s = await make();
    const good = bytes("good");
    const d = await digestOf(good);
    await t.rejects(s.put(d, bytes("tampered")), "digest-mismatch");
    t.equal(await s.has(d), false);
    await t.rejects(s.put(d, good.subarray(0, 2)), "digest-mismatch");
    t.equal(await s.has(d), false);
    await s.put(d, good);
    await t.rejects(s.put(d, bytes("other")), "digest-mismatch");
    t.equal(new TextDecoder().decode(await s.get(d)), "good", "what was stored is intact");
  });

  t.test(`${name}: garbage collection keeps what is referenced`, async () => {
    const s = await make();
    const keep = bytes("kept");
    const drop = bytes("dropped");
    const dk = await digestOf(keep);
    const dd = await digestOf(drop);
    await s.put(dk, keep);
    await s.put(dd, drop);
    t.equal(await collectGarbage(s, new Set([dk])), 1);
    t.equal(await s.has(dk), true);
    t.equal(await s.has(dd), false);
  });
}
