// Docker's list filters for images and networks, table-tested with no VM:
// one key's values OR'ed (label's AND'ed), keys AND'ed, moby's words for bad ones.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, type BerthError } from "../../../../src/common/errors.js";
import { parseReference } from "../../../../src/common/reference.js";
import { ContainerService } from "../../../../src/engine/containers/containers.js";
import { listImages } from "../../../../src/engine/daemon/image-list.js";
import { EventBus } from "../../../../src/engine/daemon/events.js";
import { ImageStore } from "../../../../src/engine/images/images.js";
import { listNetworks, NetworkService } from "../../../../src/engine/networks/networks.js";
import { FakeGuest } from "../../../helpers/fake-guest.js";

function image(id: string, created: string, labels: Record<string, string> = {}): Parameters<ImageStore["restore"]>[0] {
  return { reference: parseReference("x"), manifestDigest: "", id: `sha256:${id.padEnd(64, "0")}`, config: { created, config: { Labels: labels } } as never, neutralised: [], layerSizes: [1], layers: [] };
}

test("images: dangling, reference patterns, label, before/since/until, bad filters in moby's words", () => {
  const images = new ImageStore();
  images.restore(image("a", "2024-01-01T00:00:00Z", { tier: "web" }), [], ["docker.io/library/busybox:latest", "docker.io/library/busybox:v1"]);
  images.restore(image("b", "2025-01-01T00:00:00Z"), [], ["docker.io/me/app:v1"]);
  images.restore(image("c", "2026-01-01T00:00:00Z"), [], []);
  const names = (f: Record<string, string[]>): string[] => listImages(images, f).flatMap((l) => (l.tags.length ? l.tags.map((t) => `${t.repository}:${t.tag}`) : [`<none> ${l.local.id.slice(7, 8)}`])).sort();
  assert.deepEqual(names({}), ["<none> c", "library/busybox:latest", "library/busybox:v1", "me/app:v1"]);
  assert.deepEqual(names({ dangling: ["true"] }), ["<none> c"]);
  assert.deepEqual(names({ dangling: ["false"] }), ["library/busybox:latest", "library/busybox:v1", "me/app:v1"]);
  assert.deepEqual(names({ reference: ["busybox"] }), ["library/busybox:latest", "library/busybox:v1"]);
  assert.deepEqual(names({ reference: ["*:v1"] }), ["library/busybox:v1"], "a pattern without / is a Docker Hub library name");
  assert.deepEqual(names({ reference: ["me/*", "busybox:latest"] }), ["library/busybox:latest", "me/app:v1"], "one key's values are OR'ed");
  assert.deepEqual(names({ label: ["tier=web"] }), ["library/busybox:latest", "library/busybox:v1"]);
  assert.deepEqual(names({ before: ["me/app:v1"] }), ["library/busybox:latest", "library/busybox:v1"]);
  assert.deepEqual(names({ since: ["me/app:v1"] }), ["<none> c"]);
  assert.deepEqual(names({ until: ["2025-06-01T00:00:00Z"], reference: ["me/*"] }), ["me/app:v1"], "keys are AND'ed");
  assert.throws(() => names({ bogus: ["1"] }), (e: BerthError) => e.code === ErrorCode.invalidParameter && e.message.endsWith("invalid filter 'bogus'"));
  assert.throws(() => names({ dangling: ["maybe"] }), (e: BerthError) => e.message.endsWith("invalid filter 'dangling=[maybe]'"));
  assert.throws(() => names({ before: ["nosuch"] }), (e: BerthError) => e.code === ErrorCode.imageNotFound);
});

test("networks: name, id, driver, label, type, scope, dangling; bad filters in moby's words", () => {
  const networks = new NetworkService(new ContainerService(new FakeGuest(), new EventBus()));
  networks.create("front", { labels: { tier: "web" } });
  networks.create("back", {});
  const names = (f: Record<string, string[]>): string[] => listNetworks(networks.list(), f).map((n) => n.name).sort();
  assert.deepEqual(names({ type: ["custom"] }), ["back", "front"]);
  assert.deepEqual(names({ type: ["builtin"], driver: ["bridge"] }), ["bridge"]);
  assert.deepEqual(names({ name: ["front", "back"] }), ["back", "front"], "one key's values are OR'ed");
  assert.deepEqual(names({ label: ["tier=web"] }), ["front"]);
  assert.deepEqual(names({ dangling: ["true"] }), ["back", "front"]);
  assert.throws(() => names({ type: ["other"] }), (e: BerthError) => e.message.endsWith("invalid filter: 'type'='other'"));
  assert.throws(() => names({ colour: ["red"] }), (e: BerthError) => e.message.endsWith("invalid filter 'colour'"));
});
