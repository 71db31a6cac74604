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

test("--subnet of any size, --gateway, --ip-range and --ip: Docker's checks and words, addresses in turn from the range", async () => {
  const { guest, containers, networks } = setup();
  guest.behave = () => ({ exit: "run" });
  const bad = (o: Parameters<NetworkService["create"]>[1], words: string): void => {
    assert.throws(() => networks.create(`n${Math.random()}`, o), (e: BerthError) => e.code === ErrorCode.invalidParameter && e.message.endsWith(words), words);
  };
  bad({ subnet: "10.9.0.0/33" }, "invalid network config:\ninvalid subnet 10.9.0.0/33: invalid CIDR block notation");
  bad({ subnet: "10.9.0.1/24" }, "invalid network config:\ninvalid subnet 10.9.0.1/24: it should be 10.9.0.0/24");
  bad({ subnet: "10.9.0.0/24", gateway: "10.8.0.1" }, "invalid network config:\ninvalid gateway 10.8.0.1: parent subnet 10.9.0.0/24 doesn't contain this address");
  bad({ subnet: "10.9.0.0/24", ipRange: "10.9.0.0/23" }, "invalid network config:\ninvalid ip-range 10.9.0.0/23: CIDR block is bigger than its parent subnet 10.9.0.0/24");
  bad({ subnet: "10.9.0.0/24", ipRange: "10.9.1.0/25" }, "invalid network config:\ninvalid ip-range 10.9.1.0/25: parent subnet 10.9.0.0/24 doesn't contain ip-range");
  bad({ gateway: "10.9.0.1" }, "every ip-range or gateway must have a corresponding subnet");
  const n = networks.create("lab", { subnet: "10.9.0.0/24", gateway: "10.9.0.254", ipRange: "10.9.0.128/25" });
  assert.deepEqual([n.subnet, n.gateway, n.ipRange, n.prefix.bits], ["10.9.0.0/24", "10.9.0.254", "10.9.0.128/25", 24]);
  bad({ subnet: "10.9.0.0/16" }, "invalid pool request: Pool overlaps with other one on this address space");
  const a = containers.create({ ...cfg, hostname: "a" }, hostCfg(["lab"]), "a");
  const b = containers.create({ ...cfg, hostname: "b" }, { ...hostCfg(["lab"]), staticIps: { lab: "10.9.0.200" } }, "b");
  const c = containers.create({ ...cfg, hostname: "c" }, { ...hostCfg(["lab"]), staticIps: { lab: "10.9.0.200" } }, "c");
  await containers.start(a);
  await containers.start(b);
  assert.deepEqual([n.endpoints.get(a.id)!.ip, n.endpoints.get(b.id)!.ip], ["10.9.0.128", "10.9.0.200"]);
  await assert.rejects(containers.start(c), (e: BerthError) => /Address already in use/.test(e.message));
  assert.ok(guest.calls.some((x) => x.includes("10.9.0.254/24")), "the bridge has the gateway with the subnet's length");
  const { staticAddressError } = await import("../../../../src/engine/networks/networks.js");
  assert.equal(staticAddressError(networks.find("bridge"), "172.17.0.9"), "user specified IP address is supported on user defined networks only");
  assert.equal(staticAddressError(networks.create("auto", {}), "172.19.0.9"), "user specified IP address is supported only when connecting to networks with user configured subnets");
  assert.equal(staticAddressError(n, "10.9.0.5"), "no configured subnet or ip-range contain the IP address 10.9.0.5");
  assert.equal(staticAddressError(n, "10.9.0.129"), undefined);
});
