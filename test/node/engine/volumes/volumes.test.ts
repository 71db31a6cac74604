// The volume service and share sync over an in-memory share and stores: no VM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BerthError } from "../../../../src/common/errors.js";
import { sha256Hex } from "../../../../src/engine/digest.js";
import type { BlobStore } from "../../../../src/engine/store/blob-store.js";
import { ShareSync } from "../../../../src/engine/volumes/share-sync.js";
import { MemoryTree } from "../../../../src/engine/volumes/memory-tree.js";
import { localOptionsError, VolumeService } from "../../../../src/engine/volumes/volumes.js";
import { FakeShare } from "../../../helpers/fake-share.js";

class MemoryStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  readonly meta = new Map<string, string>();
  full = false;
  async get(d: string): Promise<Uint8Array | undefined> { return this.blobs.get(d); }
  async has(d: string): Promise<boolean> { return this.blobs.has(d); }
  async put(d: string, data: Uint8Array): Promise<void> {
    if (this.full) throw new BerthError("storage-full", "Cannot store blob: the quota is used up");
    assert.equal(`sha256:${await sha256Hex(data)}`, d);
    this.blobs.set(d, data.slice());
  }
  async delete(d: string): Promise<void> { this.blobs.delete(d); }
  async list(): Promise<string[]> { return [...this.blobs.keys()]; }
  async getMeta(k: string): Promise<string | undefined> { return this.meta.get(k); }
  async setMeta(k: string, v: string): Promise<void> {
    if (this.full) throw new BerthError("storage-full", "Cannot store the record: the quota is used up");
    this.meta.set(k, v);
  }
}

/**
 * A stand-in for the guest's shell: SAVE writes `content` (or says "unchanged")
 * as the tar at its second argument, in the share; LOAD remembers the tar it was given.
 */
class FakeGuest {
  content = new TextEncoder().encode("tar bytes v1");
  changed = true;
  readonly loaded: Array<Uint8Array | undefined> = [];
  readonly commands: string[][] = [];
  constructor(readonly share: FakeShare) {}
  run = async (argv: string[]): Promise<{ code: number; stdout: Uint8Array; stderr: string }> => {
    this.commands.push(argv);
    const enc = new TextEncoder();
    const script = argv[2] ?? "";
    if (script.includes("oflag=direct")) {
      if (!this.changed) return { code: 0, stdout: enc.encode("unchanged\n"), stderr: "" };
      const path = argv[5]!.replace(/^\/mnt\/host/, "");
      await this.share.file(this.share.dir("/"), path.slice(1), this.content, a(0o600));
      this.changed = false;
      return { code: 0, stdout: enc.encode(`${this.content.length}\n`), stderr: "" };
    }
    if (script.startsWith("rm -rf")) this.loaded.push(argv[5] ? await this.share.read(argv[5].replace(/^\/mnt\/host/, "")) : undefined);
    return { code: 0, stdout: new Uint8Array(), stderr: "" };
  };
}

const enc = new TextEncoder();
const a = (mode: number, uid = 0): { mode: number; uid: number; gid: number; mtime: number } => ({ mode, uid, gid: uid, mtime: 1700000000 });

test("a changed volume is saved as its tar, an unchanged one is not, and a new engine puts it back", async () => {
  const store = new MemoryStore();
  const share = new FakeShare();
  const guest = new FakeGuest(share);
  const vs = new VolumeService(share, guest, store);
  const v = await vs.create("db", { labels: { app: "x" } });
  assert.equal(await vs.guestPath(v), "/var/lib/docker/volumes/db/_data");
  await vs.flush();
  assert.equal(store.blobs.size, 1);
  assert.deepEqual([...store.blobs.values()][0], guest.content);
  await vs.flush();
  assert.equal(store.blobs.size, 1, "an unchanged volume is not saved again");
  assert.equal(share.walk("/").length, 0, "the tar went from the share once taken");

  const share2 = new FakeShare();
  const guest2 = new FakeGuest(share2);
  const again = new VolumeService(share2, guest2, store);
  await again.ready();
  const v2 = again.get("db");
  assert.deepEqual(v2.labels, { app: "x" });
  assert.equal(await again.size(v2), guest.content.length, "the size of the last save, before it is put back");
  assert.equal(await again.guestPath(v2), "/var/lib/docker/volumes/db/_data");
  assert.deepEqual(guest2.loaded, [guest.content], "the saved tar is unpacked in the guest");
});

test("names, drivers, in-use refusal and storage-full leave what was saved whole", async () => {
  const store = new MemoryStore();
  const share = new FakeShare();
  const guest = new FakeGuest(share);
  const vs = new VolumeService(share, guest, store);
  await assert.rejects(vs.create("a/b"), /create a\/b: "a\/b" includes invalid characters/);
  await assert.rejects(vs.create("xx", { driver: "nfs" }), /error looking up volume plugin nfs: plugin "nfs" not found/);
  // the local driver's option checks, in moby 28.2.2's words
  await assert.rejects(vs.create("xx", { options: { bogus: "1" } }), /create xx: invalid option: "bogus"$/);
  await assert.rejects(vs.create("xx", { options: { type: "tmpfs" } }), /create xx: missing required option: "device"$/);
  await assert.rejects(vs.create("xx", { options: { device: "tmpfs" } }), /create xx: missing required option: "type"$/);
  await assert.rejects(vs.create("xx", { options: { o: "size=1m", device: "tmpfs" } }), /missing required option: "type"$/);
  await assert.rejects(vs.create("xx", { options: { size: "10m" } }), /create xx: quota size requested but no quota support$/);
  await assert.rejects(vs.create("xx", { options: { size: "ten" } }), /create xx: invalid size: 'ten'$/);
  assert.deepEqual((await vs.create("tmp", { options: { type: "tmpfs", device: "tmpfs", o: "size=1m" } })).options, { type: "tmpfs", device: "tmpfs", o: "size=1m" });
  assert.equal(localOptionsError({ size: "0" }), undefined);
  const anon = await vs.create(undefined, { anonymous: true });
  assert.match(anon.name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.labels, { "com.docker.volume.anonymous": "" });
  assert.equal(await vs.create("same"), await vs.create("same"), "an existing name answers the existing volume");
  vs.users = (n) => (n === "same" ? ["c1"] : []);
  await assert.rejects(vs.remove("same"), (e: BerthError) => e.code === "volume-in-use" && /remove same: volume is in use - \[c1\]$/.test(e.message));
  await assert.rejects(vs.remove("nope"), (e: BerthError) => e.code === "volume-not-found" && /get nope: no such volume$/.test(e.message));

  const v = vs.get("same");
  await vs.flush(["same"]);
  const saved = v.content;
  assert.ok(saved);
  guest.content = enc.encode("tar bytes v2");
  guest.changed = true;
  store.full = true;
  await assert.rejects(vs.flush(["same"]), /quota/);
  store.full = false;
  assert.equal(v.content, saved);
  assert.ok(store.blobs.has(saved!), "the last saved content is still there");
});

test("a share syncs both ways: host files in, the guest's writes out, host edits in again", async () => {
  const share = new FakeShare();
  const tree = new MemoryTree();
  await tree.mkdir("src", 0o755);
  await tree.writeFile("src/app.js", enc.encode("v1"), 0o644);
  await tree.symlink("link", "src/app.js");
  const sync = new ShareSync(share, tree, "/shares/0");
  assert.deepEqual((await sync.sync(new Set())).toGuest, 3);
  const app = share.lookup("/shares/0/src/app.js")!;
  assert.deepEqual([new TextDecoder().decode(app.data), app.mode, share.lookup("/shares/0/link")!.linkname], ["v1", 0o644, "src/app.js"]);
  assert.deepEqual(await sync.sync(new Set()), { toHost: 0, toGuest: 0, made: [] }, "nothing changed, nothing moves");

  // the guest writes a file in place (its id is in the written set) and makes a new one
  app.data = enc.encode("v2");
  const out = await share.file(share.lookup("/shares/0")!.id, "out.txt", enc.encode("built"), a(0o600));
  const r = await sync.sync(new Set([app.id, out]));
  assert.equal(r.toHost, 2);
  assert.equal(new TextDecoder().decode(await tree.read("src/app.js")), "v2");
  assert.equal((await tree.stat("out.txt"))!.mode, 0o600);

  // the host edits one file and removes another; the guest removes a directory
  await tree.writeFile("src/app.js", enc.encode("v3!"), 0o644);
  await tree.remove("out.txt");
  share.remove("/shares/0/link");
  const r2 = await sync.sync(new Set());
  assert.deepEqual([r2.toHost, r2.toGuest], [1, 2]);
  assert.equal(new TextDecoder().decode(share.lookup("/shares/0/src/app.js")!.data), "v3!");
  assert.equal(share.lookup("/shares/0/out.txt"), undefined);
  assert.equal(await tree.stat("link"), undefined);
});
