// The CORS registry proxy of `berth serve`, between the registry client and
// Debian's docker-registry (and the misbehaving front server).
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import type { BerthError } from "../../../src/common/errors.js";
import { RegistryClient } from "../../../src/engine/registry/registry-client.js";
import { DirBlobStore } from "../../../src/node/dir-blob-store.js";
import { serve } from "../../../src/server/serve.js";
import { startFront, type FrontServer } from "../../helpers/front-server.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage, type TestImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let front: FrontServer;
let server: Server;
let proxyUrl: string;
let cacheDir: { dir: string; remove: () => Promise<void> };
let images: TestImage[];
const bb = (): TestImage => images.find((i) => i.repository === "test/busybox")!;
const viaProxy = (o: { attempts?: number } = {}): RegistryClient =>
  new RegistryClient({ attempts: o.attempts ?? 2, backoffMs: 10, endpoint: (r) => ({ url: `${proxyUrl}/registry/${r}`, viaProxy: true }) });

before(async () => {
  registry = await startRegistry();
  images = await buildFixtures();
  for (const i of images) await pushImage(registry.url, i);
  front = await startFront(registry.url);
  cacheDir = await tempDir("berth-proxy-cache-");
  server = await serve({
    port: 0,
    host: "127.0.0.1",
    quiet: true,
    proxy: { allow: [registry.host, front.host, "localhost:1"], allowPrivate: [registry.host, front.host], cache: new DirBlobStore(cacheDir.dir) },
  });
  proxyUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  await new Promise((r) => server?.close(r));
  await front?.stop();
  await registry?.stop();
  await cacheDir?.remove();
});

test("a pull through the proxy, with CORS headers and preflights", async () => {
  const c = viaProxy();
  const m = await c.manifest(registry.host, "test/busybox", "latest", "busybox");
  assert.equal(m.digest, bb().manifest.digest);
  const layer = await c.blob(registry.host, "test/busybox", bb().layers[0]!.digest, { what: "busybox" });
  assert.equal(layer.length, bb().layers[0]!.data.length);
  const r = await fetch(`${proxyUrl}/registry/${registry.host}/v2/test/busybox/manifests/latest`, { headers: { origin: "http://page.example", accept: "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal(r.headers.get("access-control-allow-origin"), "http://page.example");
  assert.match(r.headers.get("access-control-expose-headers") ?? "", /Docker-Content-Digest/);
  const pre = await fetch(`${proxyUrl}/registry/${registry.host}/v2/test/busybox/manifests/latest`, { method: "OPTIONS", headers: { origin: "http://page.example", "access-control-request-headers": "authorization,range" } });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization/);
});

test("token challenges are answered through the proxy, redirects followed by it", async () => {
  front.rules = { bearerToken: "t0k3n", redirectBlobs: true };
  const c = viaProxy();
  const m = await c.manifest(front.host, "test/layered", "v1", "layered");
  assert.equal(m.digest, images.find((i) => i.repository === "test/layered")!.manifest.digest);
  const layer = await c.blob(front.host, "test/busybox", bb().layers[0]!.digest, { what: "busybox" });
  assert.equal(layer.length, bb().layers[0]!.data.length);
  assert.deepEqual(front.cdnAuthorizations, []);
  front.rules = {};
});

test("cached blobs are served even when the registry is not answering", async () => {
  front.rules = { rateLimited: true };
  const layer = await viaProxy().blob(front.host, "test/busybox", bb().layers[0]!.digest, { what: "busybox" });
  assert.equal(layer.length, bb().layers[0]!.data.length);
  front.rules = {};
});

test("a tampered blob is neither cached nor served", async () => {
  const layered = images.find((i) => i.repository === "test/layered")!;
  const top = layered.layers[1]!;
  front.rules = { tamper: top.digest };
  await assert.rejects(viaProxy().blob(front.host, "test/layered", top.digest, { what: "layered" }), (e: BerthError) => e.code === "digest-mismatch");
  front.rules = {};
});

test("no open proxy: unlisted and private registries are refused", async () => {
  const unlisted = await fetch(`${proxyUrl}/registry/evil.example/v2/x/manifests/latest`);
  assert.equal(unlisted.status, 403);
  assert.match(await unlisted.text(), /not on this proxy's list/);
  const priv = await fetch(`${proxyUrl}/registry/localhost:1/v2/x/manifests/latest`);
  assert.equal(priv.status, 403);
  assert.match(await priv.text(), /private address/);
  const post = await fetch(`${proxyUrl}/registry/${registry.host}/v2/x/blobs/uploads/`, { method: "POST" });
  assert.equal(post.status, 405);
  const token = await fetch(`${proxyUrl}/registry-token?realm=${encodeURIComponent("http://169.254.169.254/latest")}`);
  assert.equal(token.status, 403);
});

test("a proxy that is down gives proxy-unavailable", async () => {
  const c = new RegistryClient({ attempts: 2, backoffMs: 10, endpoint: (r) => ({ url: `http://127.0.0.1:9/registry/${r}`, viaProxy: true }) });
  await assert.rejects(c.manifest(registry.host, "test/busybox", "latest", "busybox"), (e: BerthError) => e.code === "proxy-unavailable" && /registry proxy at http:\/\/127\.0\.0\.1:9 does not answer/.test(e.message));
});

test("tag lists, the catalog and search go through the proxy; nothing that writes does", async () => {
  const c = viaProxy();
  assert.deepEqual(await c.tags(registry.host, "test/layered", "layered"), ["v1"]);
  const found = await c.search(registry.host, "busy", 10);
  assert.deepEqual(found.map((f) => f.name), [`${registry.host}/test/busybox`]);
  const post = await fetch(`${proxyUrl}/registry/${registry.host}/v2/test/busybox/blobs/uploads/`, { method: "POST" });
  assert.ok(post.status === 404 || post.status === 405, String(post.status));
  const v1 = await fetch(`${proxyUrl}/registry/${registry.host}/v1/search?q=x`);
  assert.equal(v1.status, 404);
});
