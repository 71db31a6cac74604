// Layers read with our tar reader and applied with the OCI changeset rules give
// the tree Docker gives: the fixture images are real GNU tar + gzip layers.
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { before, test } from "node:test";
import type { BerthError } from "../../src/common/errors.js";
import { LayerTree } from "../../src/engine/layer-tree.js";
import { readTar } from "../../src/engine/tar-reader.js";
import { buildFixtures, type TestImage } from "../helpers/images.js";

let layered: TestImage;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One ustar entry, for archives GNU tar will not write (escapes, bad checksums). */
function tarEntry(name: string, opts: { type?: string; data?: string; linkname?: string } = {}): Uint8Array {
  const data = new TextEncoder().encode(opts.data ?? "");
  const h = new Uint8Array(512);
  const put = (off: number, s: string): void => h.set(new TextEncoder().encode(s), off);
  put(0, name);
  put(100, "0000644\0");
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

before(async () => {
  layered = (await buildFixtures()).find((i) => i.repository === "test/layered")!;
});

test("two layers with a whiteout, an opaque dir, a symlink and a hardlink", () => {
  const tree = new LayerTree();
  for (const l of layered.layers) tree.apply(readTar(gunzipSync(l.data)));
  const n = tree.nodes;
  assert.equal(n.get("bin/busybox")?.type, "file");
  assert.equal(n.get("bin/busybox")?.mode, 0o755);
  assert.equal(n.get("bin/sh")?.type, "symlink");
  assert.equal(n.get("bin/sh")?.linkname, "busybox");
  assert.equal(n.get("tmp")?.mode, 0o1777);
  assert.equal(n.has("etc/motd"), false, "whiteout removes a lower file");
  assert.equal(n.has("opt/data/old"), false, "opaque dir hides lower contents");
  assert.equal(text(n.get("opt/data/new")!.data), "from the upper layer\n");
  // tar stores the first name (sorted: "hard") as the file and "new" as a link to it
  assert.equal(n.get("opt/data/new")?.hardlinkOf, "opt/data/hard");
  assert.equal(text(n.get("opt/data/hard")!.data), "from the upper layer\n");
  assert.equal(n.get("link")?.linkname, "/opt/data/new");
  assert.equal([...n.keys()].some((p) => p.includes(".wh.")), false, "no whiteout files are left");
  assert.equal(n.get("bin/busybox")?.mtime, 1700000000);
});

test("entries that escape the root or write through a symlink are neutralised", () => {
  const tree = new LayerTree();
  const report = tree.apply(readTar(archive(
    tarEntry("../evil", { data: "x" }),
    tarEntry("ok/../../evil2", { data: "x" }),
    tarEntry("etc", { type: "2", linkname: "/host/etc" }),
    tarEntry("etc/passwd", { data: "root::0:0::/:/bin/sh\n" }),
    tarEntry("hl", { type: "1", linkname: "../../outside" }),
    tarEntry("/abs/file", { data: "kept, but inside the root" }),
  )));
  assert.deepEqual(report.neutralised, ["../evil", "ok/../../evil2", "etc/passwd", "hl"]);
  assert.equal(tree.nodes.get("abs/file")?.type, "file");
  assert.equal(tree.nodes.has("etc/passwd"), false);
});

test("a corrupt or truncated tar is an error, not a partial tree", () => {
  const good = archive(tarEntry("a", { data: "hello" }));
  const bad = good.slice();
  bad[10]! ^= 1;
  assert.throws(() => [...readTar(bad, "layer x")], (e: BerthError) => /checksum/.test(e.message));
  assert.throws(() => [...readTar(good.subarray(0, 514), "layer x")], (e: BerthError) => /truncated/.test(e.message));
});

test("PAX headers carry long names", () => {
  const long = "d/" + "n".repeat(150);
  const pax = new TextEncoder().encode(`${(` path=${long}\n`.length + String(` path=${long}\n`.length).length)} path=${long}\n`);
  const rec = new TextDecoder().decode(pax);
  const tree = new LayerTree();
  tree.apply(readTar(archive(tarEntry("PaxHeaders/x", { type: "x", data: rec }), tarEntry("short", { data: "long named" }))));
  assert.equal(text(tree.nodes.get(long)!.data), "long named");
});
