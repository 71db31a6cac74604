// Pull real images from docker-registry on 127.0.0.1, unpack them in the
// engine, write the tree into the guest's 9p share and run it with crun.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { BerthError } from "../../../src/common/errors.js";
import { parseReference } from "../../../src/common/reference.js";
import { runContainer } from "../../../src/engine/containers/container-runner.js";
import type { Engine } from "../../../src/engine/engine.js";
import { pullImage, type PulledImage } from "../../../src/engine/images/image-puller.js";
import { RegistryClient } from "../../../src/engine/registry/registry-client.js";
import { LayerStore } from "../../../src/engine/unpack/layer-store.js";
import { startFront, type FrontServer } from "../../helpers/front-server.js";
import { startEngine } from "../../helpers/guest.js";
import { buildFixtures, pushImage, type TestImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let front: FrontServer;
let engine: Engine;
let images: TestImage[];
let layers: LayerStore;
const client = new RegistryClient({ attempts: 2, backoffMs: 10 });

before(async () => {
  registry = await startRegistry();
  images = await buildFixtures();
  for (const i of images) await pushImage(registry.url, i);
  front = await startFront(registry.url);
  engine = await startEngine();
  layers = new LayerStore(engine.vm.shareFiles());
});

after(async () => {
  await engine?.stop();
  await front?.stop();
  await registry?.stop();
});

async function unpackAndRun(img: PulledImage, script: string): Promise<{ code: number; out: string }> {
  const dirs = layers.guestDirs(await LayerStore.chainKeys(img.layers.map((l) => l.digest)));
  let out = "";
  const code = await runContainer(
    engine.vm.channel,
    { name: `t-${img.id.slice(7, 15)}-${Date.now() % 100000}`, layers: dirs, args: ["sh", "-c", script], env: img.config.config?.Env ?? [] },
    { onStdout: (b) => (out += new TextDecoder().decode(b)), onStderr: (b) => (out += new TextDecoder().decode(b)) },
  );
  return { code, out };
}

test("busybox pulled from a registry runs under crun", async () => {
  const img = await pullImage(client, parseReference(`${registry.host}/test/busybox`), { layers });
  assert.equal(img.config.architecture, "386");
  const r = await unpackAndRun(img, "echo hello from $(uname -m) as $(id -u); cat /etc/passwd | head -n 1");
  assert.deepEqual(r, { code: 0, out: "hello from i686 as 0\nroot:x:0:0:root:/root:/bin/sh\n" });
});

for (const [name, ref] of [["a two-layer image", "test/layered:v1"], ["the same image with zstd layers", "test/zstd"]] as const) {
  test(`${name} gives Docker's tree in the guest`, async () => {
    const img = await pullImage(client, parseReference(`${registry.host}/${ref}`), { layers });
    const r = await unpackAndRun(img, [
      "cat /opt/data/new",
      "ls -A /opt/data | tr '\\n' ' '; echo",
      "test -e /etc/motd || echo motd-gone",
      "readlink /link",
      "[ $(stat -c %i /opt/data/new) = $(stat -c %i /opt/data/hard) ] && echo same-inode",
      "stat -c '%a %u:%g' /tmp /bin/busybox",
      "echo $GREETING",
    ].join("; "));
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, "from the upper layer\nhard new \nmotd-gone\n/opt/data/new\nsame-inode\n1777 0:0\n755 0:0\nhello\n");
  });
}

test("an index picks linux/386; one without it names what it has", async () => {
  const multi = await pullImage(client, parseReference(`${registry.host}/test/multi`), { layers });
  assert.equal(multi.config.architecture, "386");
  await assert.rejects(
    pullImage(client, parseReference(`${registry.host}/test/no386`), { layers }),
    (e: BerthError) => e.code === "platform-not-available" && /has no linux\/386 image \(it has linux\/amd64\)/.test(e.message),
  );
});

test("a tampered layer fails with digest-mismatch before anything is written", async () => {
  const bb = images.find((i) => i.repository === "test/busybox")!;
  front.rules = { tamper: bb.layers[0]!.digest };
  // a layer store of its own: the one above has busybox's layer unpacked already, so it would not download it
  const fresh = new LayerStore(engine.vm.shareFiles(), "/layers-tampered");
  await assert.rejects(pullImage(client, parseReference(`${front.host}/test/busybox`), { layers: fresh }), (e: BerthError) => e.code === "digest-mismatch");
  assert.equal(fresh.has((await LayerStore.chainKeys([bb.layers[0]!.digest]))[0]!), false, "nothing of the layer is visible");
  front.rules = {};
});

test("storage full: the pull fails with storage-full and what was stored before is intact", async () => {
  const { DirBlobStore } = await import("../../../src/node/dir-blob-store.js");
  const { tempDir } = await import("../../helpers/guest.js");
  const { BerthError: Err, ErrorCode } = await import("../../../src/common/errors.js");
  const dir = await tempDir("berth-full-");
  try {
    const real = new DirBlobStore(dir.dir);
    const ref = parseReference(`${registry.host}/test/layered:v1`);
    // a store with room for one more blob: the second put finds the disk full (a fake of ENOSPC)
    let room = 1;
    const full = Object.assign(Object.create(real) as typeof real, {
      put: async (digest: string, data: Uint8Array): Promise<void> => {
        if (room-- <= 0) throw new Err(ErrorCode.storageFull, `Cannot store blob ${digest.slice(0, 19)}: the disk is full`);
        await real.put(digest, data);
      },
    });
    await assert.rejects(pullImage(client, ref, { store: full, layers: new LayerStore(engine.vm.shareFiles(), "/layers-full") }), (e: BerthError) => e.code === "storage-full");
    const kept = await real.list();
    assert.equal(kept.length, 1, "the blob stored before the disk filled up is there");
    const data = await real.get(kept[0]!);
    assert.ok(data && data.length > 0);
    // and nothing half-written: every stored blob still matches its digest (put verifies), and a later pull with room completes
    const img = await pullImage(client, ref, { store: real, layers: new LayerStore(engine.vm.shareFiles(), "/layers-full") });
    assert.equal(img.layers.length, 2);
  } finally {
    await dir.remove();
  }
});
