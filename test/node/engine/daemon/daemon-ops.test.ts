// The daemon's pure parts, with no VM: the event bus and Docker's event
// filters and lines, the archive routes' stat and path rules, X-Registry-Auth,
// and the system df table the guest CLI prints from the API's document.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventJson, eventLine, parseEvent } from "../../../../src/common/api/events.js";
import { imageRoutes } from "../../../../src/engine/api/image-routes.js";
import { ApiRouter } from "../../../../src/engine/api/router.js";
import { systemRoutes } from "../../../../src/engine/api/system-routes.js";
import { collectReply } from "../../../../src/engine/api/collect.js";
import { diskUsageTable } from "../../../../src/engine/cli/docker-container-extra.js";
import { goFileMode, splitPath } from "../../../../src/engine/daemon/container-archive.js";
import type { Daemon } from "../../../../src/engine/daemon/daemon.js";
import { EventBus, eventMatches, unknownEventFilters } from "../../../../src/engine/daemon/events.js";
import type { DiskUsage } from "../../../../src/common/api/system-data.js";

const dec = new TextDecoder();

test("events: unique increasing nanosecond times, kept for since, Docker's JSON and CLI line", () => {
  const bus = new EventBus();
  const seen: string[] = [];
  const off = bus.subscribe((e) => seen.push(e.Action));
  bus.publish("container", "create", "c1", { image: "busybox", name: "web" });
  bus.publish("container", "start", "c1", { image: "busybox", name: "web" });
  off();
  bus.publish("container", "die", "c1", { exitCode: "0", image: "busybox", name: "web" });
  assert.deepEqual(seen, ["create", "start"], "no events after unsubscribe");
  const kept = bus.since(0);
  assert.deepEqual(kept.map((e) => e.Action), ["create", "start", "die"]);
  const nanos = kept.map((e) => BigInt(e.timeNano));
  assert.ok(nanos[0]! < nanos[1]! && nanos[1]! < nanos[2]!, "times never tie");
  assert.equal(kept[0]!.time, Number(nanos[0]! / 1_000_000_000n));
  const line = eventJson(kept[0]!);
  assert.match(line, /^\{"status":"create","id":"c1","from":"busybox","Type":"container","Action":"create","Actor":\{"ID":"c1","Attributes":\{"image":"busybox","name":"web"\}\},"scope":"local","time":\d+,"timeNano":\d{19}\}$/);
  assert.deepEqual(parseEvent(line).timeNano, kept[0]!.timeNano, "nanoseconds survive the JSON");
  const e = { ...kept[2]!, timeNano: "1764492497123456789" };
  assert.equal(eventLine(e), "2025-11-30T08:48:17.123456789Z container die c1 (exitCode=0, image=busybox, name=web)");
  assert.deepEqual(bus.since(Number(nanos[2]! / 1_000_000n) + 1), []);
});

test("event filters: Docker's keys, OR within a key, AND across keys", () => {
  const bus = new EventBus();
  bus.publish("container", "start", "abc123", { image: "busybox:latest", name: "web", tier: "front" });
  bus.publish("container", "exec_start: sh -c true", "abc123", { image: "busybox:latest", name: "web", execID: "e1" });
  bus.publish("network", "connect", "net9", { container: "abc123", name: "bridge", type: "bridge" });
  bus.publish("image", "tag", "sha256:1", { name: "app:v1" });
  const [start, exec, connect, tag] = bus.since(0) as [never, never, never, never];
  const ok = (e: never, f: Record<string, string[]>): boolean => eventMatches(e, f);
  assert.ok(ok(start, { container: ["web"] }) && ok(start, { container: ["abc"] }), "by name or ID prefix");
  assert.ok(ok(connect, { container: ["abc123"] }), "a network event names its container");
  assert.ok(ok(exec, { event: ["exec_start"] }), "exec events match before the colon");
  assert.ok(ok(start, { image: ["busybox"] }) && ok(tag, { image: ["app"] }) && !ok(tag, { image: ["other"] }));
  assert.ok(ok(start, { label: ["tier"] }) && ok(start, { label: ["tier=front"] }) && !ok(start, { label: ["tier=back"] }));
  assert.ok(ok(start, { type: ["container", "image"] }) && !ok(start, { type: ["network"] }), "values OR'ed");
  assert.ok(!ok(start, { type: ["container"], event: ["die"] }), "keys AND'ed");
  assert.deepEqual(unknownEventFilters({ type: [], colour: [] }), ["colour"]);
});

test("GET /events: since replays, until ends the answer, filters apply, bad ones are 400", async () => {
  const bus = new EventBus();
  bus.publish("container", "create", "c1", { name: "a" });
  bus.publish("image", "pull", "busybox:latest", { name: "busybox" });
  const router = new ApiRouter(systemRoutes({ events: bus } as unknown as Daemon, { memTotal: 0, kernelVersion: "", version: "" }));
  const now = Date.now() / 1000;
  const r = await collectReply(await router.handle({ method: "GET", target: `/v1.47/events?since=0&until=${now}&filters=${encodeURIComponent('{"type":["image"]}')}`, headers: {}, body: new Uint8Array() }));
  assert.equal(r.status, 200);
  const lines = dec.decode(r.body).trim().split("\n").map(parseEvent);
  assert.deepEqual(lines.map((e) => `${e.Type} ${e.Action}`), ["image pull"]);
  const bad = await collectReply(await router.handle({ method: "GET", target: `/events?filters=${encodeURIComponent('{"colour":["x"]}')}`, headers: {}, body: new Uint8Array() }));
  assert.equal(bad.status, 400);
  assert.match(dec.decode(bad.body), /invalid filter 'colour'/);
});

test("archive paths and stats as Docker's: SplitPathDirEntry, Go's FileMode bits", () => {
  assert.deepEqual(splitPath("/etc/hosts"), ["/etc", "hosts"]);
  assert.deepEqual(splitPath("/etc/"), ["/", "etc"]);
  assert.deepEqual(splitPath("/etc/."), ["/etc", "."]);
  assert.deepEqual(splitPath("tmp//x"), ["/tmp", "x"]);
  assert.deepEqual(splitPath("/"), ["/", "."]);
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755, "ModeDir");
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777, "ModeSymlink");
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755, "setuid");
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, "sticky dir");
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666, "char device");
});

test("X-Registry-Auth: the pull logs in to the image's registry first; anonymous headers are ignored; junk is a 400", async () => {
  const logins: Array<[string, string]> = [];
  const fake = {
    events: new EventBus(),
    login: async (server: string, c: { username: string }) => void logins.push([server, c.username]),
    pullImage: async (_name: string, o: { onMessage?: (m: object) => void }) => {
      o.onMessage?.({ status: "Status: Image is up to date" });
      return {};
    },
    persist: async () => {},
  } as unknown as Daemon;
  const router = new ApiRouter(imageRoutes(fake));
  const auth = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  const pull = async (header?: string) => collectReply(await router.handle({ method: "POST", target: "/images/create?fromImage=127.0.0.1:5000/team/app&tag=1", headers: header === undefined ? {} : { "x-registry-auth": header }, body: new Uint8Array() }));
  assert.equal((await pull(auth({ username: "ann", password: "pw", serveraddress: "127.0.0.1:5000" }))).status, 200);
  assert.equal((await pull(auth({}))).status, 200);
  assert.equal((await pull()).status, 200);
  assert.deepEqual(logins, [["127.0.0.1:5000", "ann"]]);
  const junk = await pull("%%%not-base64");
  assert.equal(junk.status, 400);
  assert.match(dec.decode(junk.body), /invalid X-Registry-Auth header/);
});

test("system df: the docker CLI's arithmetic (shared layers counted once, reclaimable of unused images and stopped containers)", () => {
  const u: DiskUsage = {
    LayersSize: 3_000_000,
    Images: [
      { Id: "a", RepoTags: [], Created: 0, Size: 2_000_000, SharedSize: 1_000_000, Containers: 1, RepoDigests: [], ParentId: "", Labels: null, VirtualSize: 2_000_000 },
      { Id: "b", RepoTags: [], Created: 0, Size: 2_000_000, SharedSize: 1_000_000, Containers: 0, RepoDigests: [], ParentId: "", Labels: null, VirtualSize: 2_000_000 },
    ],
    Containers: [
      { Id: "1", Names: [], Image: "", ImageID: "a", Command: "", Created: 0, State: "running", Status: "", SizeRw: 4096, SizeRootFs: 0, Labels: {}, Mounts: [] },
      { Id: "2", Names: [], Image: "", ImageID: "a", Command: "", Created: 0, State: "exited", Status: "", SizeRw: 4096, SizeRootFs: 0, Labels: {}, Mounts: [] },
    ],
    Volumes: [],
    BuildCache: [],
  };
  const rows = diskUsageTable(u).trim().split("\n").map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows[0], ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
  assert.deepEqual(rows[1], ["Images", "2", "1", "3MB", "2MB (66%)"]);
  assert.deepEqual(rows[2], ["Containers", "2", "1", "8.192kB", "4.096kB (50%)"]);
  assert.deepEqual(rows[3], ["Local Volumes", "0", "0", "0B", "0B"]);
});
