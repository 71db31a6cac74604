// The network service against a fake guest (no VM): Docker's predefined
// networks, subnets, names and removal rules, endpoints at a container's
// start, /etc/hosts by name and alias, and the events it publishes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, type BerthError } from "../../../../src/common/errors.js";
import { ContainerService } from "../../../../src/engine/containers/containers.js";
import { EventBus } from "../../../../src/engine/daemon/events.js";
import { NetworkService } from "../../../../src/engine/networks/networks.js";
import { FakeGuest } from "../../../helpers/fake-guest.js";

function setup(): { guest: FakeGuest; containers: ContainerService; networks: NetworkService; events: string[] } {
  const guest = new FakeGuest();
  const bus = new EventBus();
  const events: string[] = [];
  bus.subscribe((e) => e.Type === "network" && events.push(`${e.Action} ${e.Actor.Attributes["name"]}`));
  const containers = new ContainerService(guest, bus);
  const networks = new NetworkService(containers);
  containers.networks = networks;
  return { guest, containers, networks, events };
}

const cfg = { image: "busybox", imageId: "sha256:1", layers: [], entrypoint: [], cmd: ["sleep", "9"], env: [], workingDir: "", user: "", uid: 0, gid: 0, labels: {}, tty: false, openStdin: false, stdinOnce: false, stopSignal: "SIGTERM", stopTimeout: undefined };
const hostCfg = (networks: string[], aliases: Record<string, string[]> = {}) => ({
  memory: 0, memorySwap: 0, nanoCpus: 0, cpuShares: 0, pidsLimit: 0, readonlyRootfs: false, restartPolicy: { name: "no" as const, maximumRetryCount: 0 }, autoRemove: false,
  capAdd: [], capDrop: [], privileged: false, securityOpt: [], init: false, tmpfs: {}, networkMode: networks[0]!, networks, aliases, links: [], extraHosts: [], dns: [],
  portBindings: [], publishAll: false, exposed: [],
});

test("bridge, host and none are there and cannot be removed; a new network gets the next free /16 and its name once", async () => {
  const { networks, events } = setup();
  assert.deepEqual(networks.list().map((n) => `${n.name} ${n.driver}`), ["bridge bridge", "host host", "none null"]);
  const a = networks.create("appnet", {});
  const b = networks.create("other", { subnet: "172.30.0.0/16" });
  assert.deepEqual([a.subnet, a.gateway, b.subnet], ["172.18.0.0/16", "172.18.0.1", "172.30.0.0/16"]);
  assert.throws(() => networks.create("appnet", {}), (e: BerthError) => e.code === ErrorCode.nameInUse && e.message.endsWith("network with name appnet already exists"));
  assert.throws(() => networks.create("x", { subnet: "172.30.0.0/16" }), (e: BerthError) => e.code === ErrorCode.invalidParameter && /Pool overlaps/.test(e.message));
  assert.throws(() => networks.create("y", { driver: "overlay" }), (e: BerthError) => e.code === ErrorCode.invalidParameter);
  await assert.rejects(networks.remove(networks.find("bridge")), (e: BerthError) => /pre-defined network and cannot be removed/.test(e.message));
  assert.throws(() => networks.find("nosuch"), (e: BerthError) => e.code === ErrorCode.networkNotFound);
  assert.equal(networks.find(a.id.slice(0, 5)), a);
  await networks.remove(b);
  assert.deepEqual(events, ["create appnet", "create other", "destroy other"]);
});

test("a started container gets an address on each network; peers find it by name and alias in /etc/hosts; a network in use cannot go", async () => {
  const { guest, containers, networks, events } = setup();
  guest.behave = () => ({ exit: "run" });
  // the guest's pid file, read by the veth script, is the fake's business: every exec succeeds
  const net = networks.create("appnet", {});
  const db = containers.create({ ...cfg, hostname: "dbhost" }, hostCfg(["appnet"], { appnet: ["database"] }), "db");
  const web = containers.create({ ...cfg, hostname: "webhost" }, hostCfg(["appnet"]), "web");
  await containers.start(db);
  await containers.start(web);
  const ipOf = (id: string): string => net.endpoints.get(id)!.ip;
  assert.deepEqual([ipOf(db.id), ipOf(web.id)], ["172.18.0.2", "172.18.0.3"]);
  const hosts = networks.hostsFile(web);
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n/);
  assert.ok(hosts.includes(`172.18.0.3\twebhost\n`));
  assert.ok(hosts.includes(`172.18.0.2\tdb database ${db.shortId}\n`), hosts);
  assert.ok(guest.calls.some((c) => c.includes("berth-veth")), "the veth pair is made in the guest");
  await assert.rejects(networks.remove(net), (e: BerthError) => e.code === ErrorCode.containerWrongState && /has active endpoints/.test(e.message));
  assert.deepEqual(events.filter((e) => e.startsWith("connect")), ["connect appnet", "connect appnet"]);
});
