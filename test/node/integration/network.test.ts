// Networking on loopback only: the guest's NIC through the relay and passt
// (DHCP, then an HTTP server on the host's 127.0.0.1 reached through passt's
// gateway mapping, allowed here) from the VM, a --network host container and
// a default-bridge one (through the VM's NAT), two VMs in one room, a relay
// that is down (relay-unavailable; the VM and containers still work), bridge
// networks by name, and published ports.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { serve } from "../../../src/server/serve.js";
import { berthDirs, berthSh, type BerthResult } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { spawn } from "node:child_process";
import { berthBin } from "../../helpers/berth.js";

let registry: TestRegistry;
let relayServer: Server;
let isolated: Server;
let web: Server;
let webPort: number;
let relayBase: string;
let isolatedBase: string;
let dir: { dir: string; remove: () => Promise<void> };

const listen = async (s: Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
};

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  web = createServer((_req, res) => res.end("hello from the host\n"));
  webPort = await listen(web);
  // loopback and private destinations allowed: the test's server is on the relay host's 127.0.0.1
  relayServer = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { allowLoopback: true, allowPrivate: true } });
  relayBase = `http://127.0.0.1:${(relayServer.address() as { port: number }).port}`;
  isolated = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { uplink: false } });
  isolatedBase = `http://127.0.0.1:${(isolated.address() as { port: number }).port}`;
  dir = await tempDir("berth-net-");
});
after(async () => {
  for (const s of [web, relayServer, isolated]) await new Promise((r) => s?.close(r));
  await registry?.stop();
  await dir?.remove();
});

function berthNet(relay: string, script: string): Promise<BerthResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [berthBin, ...berthDirs(dir.dir), "--relay", relay, "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("DHCP through the relay and passt; the host's HTTP server from the VM and from a --network host container", async () => {
  const img = `${registry.host}/test/busybox`;
  const out = await berthNet(relayBase, `gw=$(ip route | awk '/default/ {print $3}')
echo "addr: $(ip -4 addr show eth0 | awk '/inet / {print $2}')"
echo "vm: $(wget -qO- http://$gw:${webPort}/)"
docker pull -q ${img} >/dev/null
docker run --rm --network host ${img} busybox wget -qO- http://$gw:${webPort}/ | sed 's/^/host network: /'
docker run --rm ${img} busybox wget -qO- http://$gw:${webPort}/ | sed 's/^/default network: /'
docker run --rm --network none ${img} busybox ip -o link | awk '{print $2}' | tr -d : | sed 's/^/none: /'`);
  assert.equal(out.code, 0, out.stderr);
  const t = (k: string): string[] => out.stdout.split("\n").filter((l) => l.startsWith(k)).map((l) => l.slice(k.length).trim());
  assert.match(t("addr:")[0]!, /^\d+\.\d+\.\d+\.\d+\/\d+$/, `no DHCP address: ${out.stderr}`);
  assert.deepEqual(t("vm:"), ["hello from the host"]);
  assert.deepEqual(t("host network:"), ["hello from the host"]);
  assert.deepEqual(t("default network:"), ["hello from the host"], "through the bridge and the VM's NAT");
  assert.deepEqual(t("none:"), ["lo"]);
});

test("two VMs in one room reach each other; a relay that is down is a warning, and the VM works", async () => {
  const r = (await (await fetch(`${isolatedBase}/relay-room`)).json()) as { path: string };
  const room = `${isolatedBase.replace("http", "ws")}${r.path}`;
  const a = berthNet(room, "ip addr add 10.77.0.1/24 dev eth0; ip link set eth0 up; sleep 12; echo a-done");
  await new Promise((res) => setTimeout(res, 4000));
  const b = await berthNet(room, "ip addr add 10.77.0.2/24 dev eth0; ip link set eth0 up; for i in 1 2 3 4 5 6 7 8; do ping -c 1 -W 1 10.77.0.1 >/dev/null 2>&1 && { echo ping-ok; break; }; done");
  assert.match(b.stdout, /ping-ok/, b.stderr);
  assert.match((await a).stdout, /a-done/);
  const down = await berthNet("ws://127.0.0.1:9/relay/nowhere?token=x", `docker run --rm ${registry.host}/test/busybox echo still-works`);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /still-works/);
  assert.match(down.stderr, /Warning \[relay-unavailable\]: Cannot reach the network relay at ws:\/\/127\.0\.0\.1:9\/relay\/nowhere/);
});

test("bridge networks: containers reach each other by name and alias on a user-defined network, links on the default one; docker network commands", async () => {
  const img = `${registry.host}/test/busybox`;
  const out = await berthSh(dir.dir, `docker pull -q ${img} >/dev/null
docker run --rm ${img} sh -c 'ip -4 -o addr show eth0 | busybox awk "{print \\$4}"; ip route | busybox awk "/default/ {print \\$3}"' | sed 's/^/default: /'
docker network create appnet | wc -c | sed 's/^/id chars: /'
docker network create appnet; echo "twice: $?"
docker run -d --name db --network appnet --network-alias database ${img} busybox httpd -f -p 80 -h /etc >/dev/null
docker run --rm --network appnet ${img} sh -c 'busybox wget -qO- http://db/passwd | head -1; busybox wget -qO- http://database/group | head -1' | sed 's/^/by name: /'
docker run --rm ${img} sh -c 'busybox ping -c1 -W1 db >/dev/null 2>&1 || echo "default network: db unknown"'
docker run -d --name lone ${img} sleep 100 >/dev/null
docker run --rm --link lone:buddy ${img} sh -c 'busybox ping -c1 -W1 buddy >/dev/null && echo "link: ok"'
docker network connect appnet lone && docker exec lone sh -c 'busybox wget -qO- http://db/passwd | head -1' | sed 's/^/connected: /'
docker network disconnect appnet lone && docker exec lone sh -c 'grep -q " db" /etc/hosts || echo "disconnected: yes"; ip -o link | grep -c eth1' | sed 's/^0$/disconnected: no eth1/'
docker network ls --format '{{.Name}} {{.Driver}}' | sed 's/^/ls: /'
docker run --rm --network container:db ${img} sh -c 'busybox wget -qO- http://127.0.0.1/passwd | head -1' | sed 's/^/shared: /'
docker network rm appnet; echo "rm in use: $?"
docker network inspect -f '{{.Name}} {{len .Containers}}' appnet | sed 's/^/inspect: /'
docker run --rm --network nosuch ${img} true; echo "no such network: $?"
docker rm -f db lone >/dev/null; docker network rm appnet | sed 's/^/removed: /'`);
  assert.equal(out.code, 0, out.stderr);
  const t = (k: string): string[] => out.stdout.split("\n").filter((l) => l.startsWith(k)).map((l) => l.slice(k.length).trim());
  assert.deepEqual(t("default:"), ["172.17.0.2/16", "172.17.0.1"]);
  assert.deepEqual(t("id chars:"), ["65"]);
  assert.deepEqual(t("twice:"), ["1"]);
  assert.deepEqual(t("by name:"), ["root:x:0:0:root:/root:/bin/sh", "root:x:0:"]);
  assert.deepEqual(t("default network:"), ["db unknown"]);
  assert.deepEqual(t("link:"), ["ok"]);
  assert.deepEqual(t("connected:"), ["root:x:0:0:root:/root:/bin/sh"]);
  assert.deepEqual(t("disconnected:"), ["yes", "no eth1"]);
  assert.deepEqual(t("ls:"), ["appnet bridge", "bridge bridge", "host host", "none null"]);
  assert.deepEqual(t("shared:"), ["root:x:0:0:root:/root:/bin/sh"], "--network container:db sees db's own loopback");
  assert.deepEqual(t("rm in use:"), ["1"]);
  assert.deepEqual(t("inspect:"), ["appnet 1"]);
  assert.deepEqual(t("no such network:"), ["125"]);
  assert.deepEqual(t("removed:"), ["appnet"]);
  assert.match(out.stderr, /Error response from daemon: network nosuch not found/);
  assert.match(out.stderr, /network with name appnet already exists/);
});

test("addresses as asked: --subnet of any size, --gateway, --ip-range, --ip, --mac-address, --dns-search and --dns-option", async () => {
  const img = `${registry.host}/test/busybox`;
  const out = await berthSh(dir.dir, `docker pull -q ${img} >/dev/null
docker network create --subnet 10.9.0.0/24 --gateway 10.9.0.254 --ip-range 10.9.0.128/25 lab >/dev/null
docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}' lab | sed 's/^/ipam: /'
docker run --rm --network lab ${img} sh -c 'ip -4 -o addr show eth0 | busybox awk "{print \\$4}"; ip route | busybox awk "/default/ {print \\$3}"' | sed 's/^/auto: /'
docker run -d --name fixed --network lab --ip 10.9.0.200 --mac-address 02:42:0a:09:00:c8 ${img} sleep 100 >/dev/null
docker exec fixed sh -c 'ip -4 -o addr show eth0 | busybox awk "{print \\$4}"; cat /sys/class/net/eth0/address' | sed 's/^/fixed: /'
docker run --rm --network lab ${img} busybox ping -c1 -W2 10.9.0.200 >/dev/null && echo "reach: ok"
docker run --rm --network lab --ip 10.9.0.200 ${img} true; echo "taken: $?"
docker run --rm --network lab --ip 10.9.0.5 ${img} true; echo "outside: $?"
docker run --rm --ip 172.17.0.50 ${img} true; echo "default bridge: $?"
docker network create --gateway 10.8.0.1 nogw; echo "gateway alone: $?"
docker run --rm --dns-search example.org --dns-option ndots:2 ${img} cat /etc/resolv.conf | grep -v '^nameserver' | sed 's/^/resolv: /'
docker rm -f fixed >/dev/null; docker network rm lab >/dev/null`);
  assert.equal(out.code, 0, out.stderr);
  const t = (k: string): string[] => out.stdout.split("\n").filter((l) => l.startsWith(k)).map((l) => l.slice(k.length).trim());
  assert.deepEqual(t("ipam:"), ["10.9.0.0/24 10.9.0.254 10.9.0.128/25"]);
  assert.deepEqual(t("auto:"), ["10.9.0.128/24", "10.9.0.254"]);
  assert.deepEqual(t("fixed:"), ["10.9.0.200/24", "02:42:0a:09:00:c8"]);
  assert.deepEqual(t("reach:"), ["ok"]);
  assert.deepEqual([t("taken:"), t("outside:"), t("default bridge:"), t("gateway alone:")], [["125"], ["125"], ["125"], ["1"]]);
  assert.match(out.stderr, /^docker: Error response from daemon: Address already in use$/m);
  assert.match(out.stderr, /^docker: Error response from daemon: invalid config for network lab: invalid endpoint settings:\nno configured subnet or ip-range contain the IP address 10\.9\.0\.5$/m);
  assert.match(out.stderr, /user specified IP address is supported on user defined networks only/);
  assert.match(out.stderr, /^every ip-range or gateway must have a corresponding subnet$/m);
  assert.deepEqual(t("resolv:"), ["search example.org", "options ndots:2"]);
});

test("berth forwards a published port to the host's 127.0.0.1; a port already published is refused", async () => {
  const img = `${registry.host}/test/busybox`;
  const script = berthSh(dir.dir, `docker pull -q ${img} >/dev/null
docker run -d --name web -p 18096:80 ${img} busybox httpd -f -p 80 -h /etc >/dev/null
docker run -d -p 18096:80 ${img} sleep 1; echo "conflict: $?"
docker ps --format 'ports: {{.Names}} {{.Ports}}' --filter name=web
sleep 8; docker rm -f web >/dev/null`);
  let body = "";
  for (let i = 0; i < 60 && !body.startsWith("root:"); i++) {
    await new Promise((r) => setTimeout(r, 250));
    body = await fetch("http://127.0.0.1:18096/passwd").then((r) => r.text(), () => "");
  }
  const out = await script;
  assert.match(body, /^root:x:0:0/);
  const t = (k: string): string[] => out.stdout.split("\n").filter((l) => l.startsWith(k)).map((l) => l.slice(k.length).trim());
  assert.deepEqual(t("conflict:"), ["125"]);
  assert.deepEqual(t("ports:"), ["web 0.0.0.0:18096->80/tcp"]);
  assert.match(out.stderr, /driver failed programming external connectivity on endpoint \S+ \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:18096 failed: port is already allocated/);
});

test("a published UDP port: datagrams to the host's 127.0.0.1 reach the container and its answers come back", async () => {
  const { createSocket } = await import("node:dgram");
  const img = `${registry.host}/test/busybox`;
  // busybox has no UDP server: the guest's berth-fwd has an echo mode, copied into the container
  const script = berthSh(dir.dir, `docker pull -q ${img} >/dev/null
docker run -d --name udp -p 18194:7/udp ${img} sleep 60 >/dev/null
docker cp /sbin/berth-fwd udp:/bin/berth-fwd && docker exec -d udp /bin/berth-fwd --echo udp 7
docker port udp | sed 's/^/port: /'
sleep 8; docker rm -f udp >/dev/null`);
  const sock = createSocket("udp4");
  const answers: string[] = [];
  sock.on("message", (m) => answers.push(String(m)));
  for (let i = 0; i < 40 && answers.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    sock.send(`ping-${i}`, 18194, "127.0.0.1");
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  const out = await script;
  assert.ok(answers.some((a) => /^ping-\d+$/.test(a)), `answers: ${JSON.stringify(answers)} ${out.stderr}`);
  assert.match(out.stdout, /port: 7\/udp -> 0\.0\.0\.0:18194/);
});
