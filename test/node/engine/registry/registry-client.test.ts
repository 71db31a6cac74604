// The registry client against Debian's docker-registry with real fixture
// images, and against a front server that misbehaves like real registries do.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { BerthError } from "../../../../src/common/errors.js";
import { DEFAULT_PLATFORM, isIndex, selectPlatform, type ImageIndex, type ImageManifest } from "../../../../src/common/oci-image.js";
import { RegistryClient } from "../../../../src/engine/registry/registry-client.js";
import { startFront, type FrontServer } from "../../../helpers/front-server.js";
import { buildFixtures, pushImage, type TestImage } from "../../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../../helpers/registry.js";

let registry: TestRegistry;
let front: FrontServer;
let images: TestImage[];
const client = new RegistryClient({ attempts: 2, backoffMs: 10 });
const img = (name: string): TestImage => images.find((i) => i.repository === `test/${name}`)!;

before(async () => {
  registry = await startRegistry();
  images = await buildFixtures();
  for (const i of images) await pushImage(registry.url, i);
  front = await startFront(registry.url);
});

after(async () => {
  await front?.stop();
  await registry?.stop();
});

test("a manifest by tag, and its config and layer, verified", async () => {
  const bb = img("busybox");
  const m = await client.manifest(registry.host, "test/busybox", "latest", "busybox");
  assert.equal(m.digest, bb.manifest.digest);
  const manifest = JSON.parse(new TextDecoder().decode(m.body)) as ImageManifest;
  const layer = await client.blob(registry.host, "test/busybox", manifest.layers[0]!.digest, { what: "busybox", size: manifest.layers[0]!.size });
  assert.equal(layer.length, bb.layers[0]!.data.length);
});

test("an index resolves to its linux/386 manifest", async () => {
  const m = await client.manifest(registry.host, "test/multi", "latest", "multi");
  assert.ok(isIndex(m.mediaType));
  const d = selectPlatform(JSON.parse(new TextDecoder().decode(m.body)) as ImageIndex, DEFAULT_PLATFORM, "multi");
  assert.equal(d.digest, img("busybox").manifest.digest);
  const byDigest = await client.manifest(registry.host, "test/multi", d.digest, "multi");
  assert.equal(byDigest.digest, d.digest);
});

test("unknown repositories and tags are image-not-found", async () => {
  await assert.rejects(client.manifest(registry.host, "test/nothing", "latest", "nothing"), (e: BerthError) => e.code === "image-not-found");
  await assert.rejects(client.manifest(registry.host, "test/busybox", "3.99", "busybox:3.99"), (e: BerthError) => e.code === "image-not-found" && e.message === 'Cannot pull "busybox:3.99": manifest for busybox:3.99 not found: manifest unknown: manifest unknown');
});

test("the token dance: a Bearer challenge, a token, the request again", async () => {
  front.rules = { bearerToken: "t0k3n" };
  const m = await new RegistryClient().manifest(front.host, "test/busybox", "latest", "busybox");
  assert.equal(m.digest, img("busybox").manifest.digest);
});

test("blobs redirected to another origin arrive without the Authorization header", async () => {
  front.rules = { bearerToken: "t0k3n", redirectBlobs: true };
  const bb = img("busybox");
  const c = new RegistryClient();
  const layer = await c.blob(front.host, "test/busybox", bb.layers[0]!.digest, { what: "busybox" });
  assert.equal(layer.length, bb.layers[0]!.data.length);
  assert.deepEqual(front.cdnAuthorizations, []);
});

test("a tampered blob is digest-mismatch", async () => {
  const bb = img("busybox");
  front.rules = { tamper: bb.layers[0]!.digest };
  await assert.rejects(client.blob(front.host, "test/busybox", bb.layers[0]!.digest, { what: "busybox" }), (e: BerthError) => e.code === "digest-mismatch");
});

test("a download that breaks off resumes with Range", async () => {
  const bb = img("busybox");
  front.rules = { truncateOnce: { digest: bb.layers[0]!.digest, at: 100_000 } };
  front.ranges.length = 0;
  const layer = await client.blob(front.host, "test/busybox", bb.layers[0]!.digest, { what: "busybox", size: bb.layers[0]!.data.length });
  assert.equal(layer.length, bb.layers[0]!.data.length);
  assert.deepEqual(front.ranges, ["bytes=100000-"]);
});

test("429 is registry-rate-limited with the time to try again", async () => {
  front.rules = { rateLimited: true };
  await assert.rejects(client.manifest(front.host, "test/busybox", "latest", "busybox"), (e: BerthError) => e.code === "registry-rate-limited" && /try again after \d{4}-\d\d-\d\dT/.test(e.message));
});

test("a registry that does not answer is registry-unavailable", async () => {
  await assert.rejects(client.manifest("127.0.0.1:9", "test/busybox", "latest", "busybox"), (e: BerthError) => e.code === "registry-unavailable" && /does not answer/.test(e.message));
});
