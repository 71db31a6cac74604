// Layers read with our tar reader and unpacked one directory per layer give,
// stacked the way overlayfs stacks them, the tree Docker gives. The fixture
// images are real GNU tar + gzip (and zstd) layers; the share is an in-memory
// fake with an overlayfs-style merge (the guest test is in pull-run.test.ts).
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { before, test } from "node:test";
import type { BerthError } from "../../../../src/common/errors.js";
import { LayerStore } from "../../../../src/engine/unpack/layer-store.js";
import { readTar, TarParser } from "../../../../src/engine/unpack/tar-reader.js";
import { FakeShare } from "../../../helpers/fake-share.js";
import { buildFixtures, type TestImage } from "../../../helpers/images.js";

let layered: TestImage;
let zstd: TestImage;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One ustar entry, for archives GNU tar will not write (escapes, bad checksums). */
function tarEntry(name: string, opts: { type?: string; data?: string; linkname?: string; mode?: string } = {}): Uint8Array {
  const data = new TextEncoder().encode(opts.data ?? "");
  const h = new Uint8Array(512);
  const put = (off: number, s: string): void => h.set(new TextEncoder().encode(s), off);
  put(0, name);
  put(100, opts.mode ?? "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, data.length.toString(8).padStart(11, "0") + "\0");
  put(136, "00000000000\0");
  put(156, opts.type ?? "0");
  put(157, opts.linkname ?? "");
  put(257, "ustar\0");
  put(263, "00");
  h.fill(32, 148, 156);
  put(148, h.reduce((a, b) => a + b, 0).toString(8).padStart(6, "0") + "\0 ");
  const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
  body.set(data);
  return new Uint8Array([...h, ...body]);
}
const archive = (...entries: Uint8Array[]): Uint8Array => new Uint8Array([...entries.flatMap((e) => [...e]), ...new Uint8Array(1024)]);

/** Unpacks `layers` (plain tars or gzip/zstd blobs) bottom first; answers the store, the share and the keys. */
async function unpackAll(layers: Array<{ data: Uint8Array; compression: "gzip" | "zstd" | "none" }>, share = new FakeShare(), store = new LayerStore(share)) {
  const keys = await LayerStore.chainKeys(layers.map((l, i) => `sha256:${String(i).repeat(64)}${l.data.length}`));
  const neutralised: string[] = [];
  for (const [i, l] of layers.entries()) neutralised.push(...(await store.unpack(keys[i]!, keys[i - 1], l.data, l.compression, `layer ${i}`)).neutralised);
  return { share, store, keys, neutralised, merged: share.merged(store.guestDirs(keys)) };
}

before(async () => {
  const all = await buildFixtures();
  layered = all.find((i) => i.repository === "test/layered")!;
  zstd = all.find((i) => i.repository === "test/zstd")!;
});

for (const which of ["gzip", "zstd"] as const) {
  test(`two ${which} layers with a whiteout, an opaque dir, a symlink and a hardlink`, async () => {
    const img = which === "gzip" ? layered : zstd;
    const { merged: n, store, keys, share } = await unpackAll(img.layers.map((l) => ({ data: l.data, compression: which })));
    assert.equal(n.get("bin/busybox")?.type, "file");
    assert.equal(n.get("bin/busybox")?.mode, 0o755);
    assert.equal(n.get("bin/sh")?.type, "symlink");
    assert.equal(n.get("bin/sh")?.linkname, "busybox");
    assert.equal(n.get("tmp")?.mode, 0o1777);
    assert.equal(n.has("etc/motd"), false, "whiteout removes a lower file");
    assert.equal(n.has("opt/data/old"), false, "opaque dir hides lower contents");
    assert.equal(text(n.get("opt/data/new")!.data), "from the upper layer\n");
    assert.equal(n.get("opt/data/new"), n.get("opt/data/hard"), "one node for the hardlink");
    assert.equal(n.get("link")?.linkname, "/opt/data/new");
    assert.equal([...n.keys()].some((p) => p.includes(".wh.")), false, "no whiteout files are left");
    assert.equal(n.get("bin/busybox")?.mtime, 1700000000);
    // the merged view the engine keeps agrees with what overlayfs shows
    assert.deepEqual([...store.view(keys[1]!).keys()].filter((p) => p).sort(), [...n.keys()].sort());
    assert.equal(text((await store.read(keys[1]!, "opt/data/new"))!), "from the upper layer\n");
    assert.equal(await store.read(keys[1]!, "etc/motd"), undefined);
    assert.ok(share.lookup(store.guestDirs(keys)[1]!.replace("/mnt/host", ""))?.children.has("bin"), "the lower layer is untouched");
  });
}

test("an image on the same base layer reuses its directory", async () => {
  const share = new FakeShare();
  const store = new LayerStore(share);
  const [base] = layered.layers;
  const keys = await LayerStore.chainKeys([base!.digest]);
  await store.unpack(keys[0]!, undefined, base!.data, "gzip", "base");
  const count = share.nodes.length;
  const again = await store.unpack(keys[0]!, undefined, base!.data, "gzip", "base");
  assert.equal(share.nodes.length, count, "nothing written the second time");
  assert.ok(again.size > base!.data.length, "the layer's tar size is known");
  // chains differ when the layers below differ, even for the same top blob
  const [a, b] = [await LayerStore.chainKeys(["sha256:a", "sha256:c"]), await LayerStore.chainKeys(["sha256:b", "sha256:c"])];
  assert.notEqual(a[1], b[1]);
});

test("an opaque directory hides nested lower contents; a hardlink to a lower file is a copy", async () => {
  const lower = archive(
    tarEntry("d/", { type: "5", mode: "0000700\0" }), tarEntry("d/sub/", { type: "5" }), tarEntry("d/sub/deep", { data: "old" }),
    tarEntry("d/keep", { data: "lower keep" }), tarEntry("f", { data: "lower f" }),
  );
  const upper = archive(tarEntry("d/.wh..wh..opq"), tarEntry("d/keep", { data: "upper keep" }), tarEntry("g", { type: "1", linkname: "f" }), tarEntry("e/x", { data: "implicit parent" }));
  const { merged: n, neutralised } = await unpackAll([{ data: lower, compression: "none" }, { data: gzipSync(upper), compression: "gzip" }]);
  assert.deepEqual(neutralised, []);
  assert.equal(n.has("d/sub"), false);
  assert.equal(n.has("d/sub/deep"), false);
  assert.equal(text(n.get("d/keep")!.data), "upper keep");
  assert.equal(n.get("d")?.mode, 0o700, "a directory made for a child keeps the attributes it had below");
  assert.equal(text(n.get("g")!.data), "lower f");
  assert.equal(text(n.get("e/x")!.data), "implicit parent");
});

test("entries that escape the root or write through a symlink are neutralised", async () => {
  const { merged, neutralised } = await unpackAll([{ compression: "none", data: archive(
    tarEntry("../evil", { data: "x" }),
    tarEntry("ok/../../evil2", { data: "x" }),
    tarEntry("etc", { type: "2", linkname: "/host/etc" }),
    tarEntry("etc/passwd", { data: "root::0:0::/:/bin/sh\n" }),
    tarEntry("hl", { type: "1", linkname: "../../outside" }),
    tarEntry("/abs/file", { data: "kept, but inside the root" }),
  ) }]);
  assert.deepEqual(neutralised, ["../evil", "ok/../../evil2", "etc/passwd", "hl"]);
  assert.equal(merged.get("abs/file")?.type, "file");
  assert.equal(merged.get("etc")?.type, "symlink");
  // and a later layer may not write through a symlink a lower layer has
  const two = await unpackAll([
    { compression: "none", data: archive(tarEntry("etc", { type: "2", linkname: "/host/etc" })) },
    { compression: "none", data: archive(tarEntry("etc/passwd", { data: "x" })) },
  ]);
  assert.deepEqual(two.neutralised, ["etc/passwd"]);
});

test("a corrupt or truncated layer is an error and leaves no directory", async () => {
  const good = archive(tarEntry("a", { data: "hello" }));
  const bad = good.slice();
  bad[10]! ^= 1;
  assert.throws(() => [...readTar(bad, "layer x")], (e: BerthError) => /checksum/.test(e.message));
  assert.throws(() => [...readTar(good.subarray(0, 514), "layer x")], (e: BerthError) => /truncated/.test(e.message));
  const share = new FakeShare();
  const store = new LayerStore(share);
  const gz = gzipSync(archive(tarEntry("a", { data: "x".repeat(5000) })));
  for (const [data, compression] of [[gz.subarray(0, gz.length - 20), "gzip"], [zstd.layers[0]!.data.subarray(0, 4000), "zstd"], [good.subarray(0, 514), "none"]] as const) {
    await assert.rejects(store.unpack("k", undefined, data, compression, "layer x"), (e: BerthError) => e.code === "digest-mismatch" && /layer x/.test(e.message));
    assert.equal(store.has("k"), false);
    assert.equal(share.lookup("layers")?.children.size ?? 0, 0, "the partial directory is removed");
  }
});

test("the streaming tar parser gives the same entries whatever the chunk sizes", () => {
  const long = "d/" + "n".repeat(150);
  const rec = `${(` path=${long}\n`.length + String(` path=${long}\n`.length).length)} path=${long}\n`;
  const tar = archive(tarEntry("PaxHeaders/x", { type: "x", data: rec }), tarEntry("short", { data: "long named" }), tarEntry("big", { data: "y".repeat(3000) }), tarEntry("empty"));
  const whole = [...readTar(tar)].map((e) => ({ ...e, data: text(e.data) }));
  assert.equal(whole[0]!.path, long, "PAX headers carry long names");
  for (const size of [1, 7, 512, 513, 4096]) {
    const p = new TarParser();
    const got = [];
    for (let i = 0; i < tar.length; i += size) got.push(...p.push(tar.subarray(i, i + size)));
    p.end();
    assert.deepEqual(got.map((e) => ({ ...e, data: text(e.data) })), whole, `chunks of ${size}`);
  }
  const p = new TarParser("layer y");
  p.push(tar.subarray(0, 700));
  assert.throws(() => p.end(), /truncated/);
});

test("chains adopted from a restored VM's share give the views the unpacking gave", async () => {
  const { store, keys, share } = await unpackAll(layered.layers.map((l) => ({ data: l.data, compression: "gzip" as const })));
  const adopted = new LayerStore(share);
  // a chain whose directory is gone is left out
  adopted.adopt([...store.chains(), { key: "f".repeat(64), dir: "/layers/missing", size: 1 }]);
  assert.equal(adopted.has(keys[1]!), true);
  assert.equal(adopted.has("f".repeat(64)), false);
  assert.deepEqual(adopted.guestDirs(keys), store.guestDirs(keys));
  for (const k of keys) {
    const want = [...store.view(k)].sort(([a], [b]) => a.localeCompare(b));
    const got = [...adopted.view(k)].sort(([a], [b]) => a.localeCompare(b));
    assert.deepEqual(got, want);
  }
  assert.equal(text((await adopted.read(keys[1]!, "opt/data/new"))!), "from the upper layer\n");
  // a layer unpacked on top of an adopted chain resolves against its view
  const top = archive(tarEntry("opt/data/.wh..wh..opq"), tarEntry("opt/data/z", { data: "z" }));
  const [k2] = await LayerStore.chainKeys(["sha256:" + "9".repeat(64)]);
  await adopted.unpack(k2!, keys[1], top, "none", "top");
  assert.deepEqual([...adopted.view(k2!).keys()].filter((p) => p.startsWith("opt/data/")), ["opt/data/z"]);
});
