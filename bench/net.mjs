// bench/net: the network path on loopback. A container (--network host) fetching
// from an HTTP server on the host's 127.0.0.1 through the relay and passt
// (throughput and request latency), the engine reaching a published port
// (what the page's /port/<n>/ uses, without the Service Worker), and the CPU
// the relay (with its passt) spends per MB.
// Needs Debian's docker-registry and passt. Usage: node bench/net.mjs [--runs N]
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Engine } from "../dist/src/engine/engine.js";
import { RegistryClient } from "../dist/src/engine/registry/registry-client.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { installWebSocket } from "../dist/src/node/websocket.js";
import { buildFixtures, pushImage } from "../dist/test/helpers/images.js";
import { startRegistry } from "../dist/test/helpers/registry.js";
import { median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(o.runs ?? 20);
const BIG = 16 * 1024 * 1024;

const registry = await startRegistry();
for (const i of await buildFixtures()) await pushImage(registry.url, i);
const img = `${registry.host}/test/busybox`;
const big = Buffer.alloc(BIG, 7);
const web = createServer((req, res) => (req.url === "/big" ? res.end(big) : res.end("ok\n")));
await new Promise((r) => web.listen(0, "127.0.0.1", r));
const webPort = web.address().port;

// the relay in a process of its own, so its CPU (and its passt's) can be counted
const serveScript = `import { serve } from ${JSON.stringify(fileURLToPath(new URL("../dist/src/server/serve.js", import.meta.url)))};
const s = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { allowLoopback: true, allowPrivate: true } });
console.log(s.address().port);`;
const relayProc = spawn(process.execPath, ["--input-type=module", "-e", serveScript], { stdio: ["ignore", "pipe", "inherit"] });
const relayPort = await new Promise((r) => relayProc.stdout.once("data", (d) => r(Number(String(d).trim()))));
const room = await (await fetch(`http://127.0.0.1:${relayPort}/relay-room`)).json();
installWebSocket();

function cpuSeconds(pid) {
  const stats = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ");
      stats.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {}
  }
  const mine = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, s] of stats) if (!mine.has(p) && mine.has(s.ppid)) { mine.add(p); grew = true; }
  }
  return [...mine].reduce((n, p) => n + (stats.get(p)?.cpu ?? 0), 0);
}

const e = await Engine.start({ assets: await loadGuestAssets(), relayUrl: `ws://127.0.0.1:${relayPort}${room.path}`, docker: { client: new RegistryClient() } });
if (!(await e.network())) throw new Error("the guest got no address from the relay");
const sh = async (script) => {
  const r = await e.run(["/bin/sh", "-c", script]);
  if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
};
const gw = (await sh("ip route | awk '/default/ {print $3}'")).trim();
await sh(`docker pull -q ${img}`);
console.log(`## Node ${process.version}, loopback, ${RUNS} runs each`);

const mbps = [];
const cpuStart = cpuSeconds(relayProc.pid);
let moved = 0;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await sh(`docker run --rm --network host ${img} busybox wget -qO /dev/null http://${gw}:${webPort}/big`);
  const ms = performance.now() - t;
  mbps.push(BIG / 1e6 / (ms / 1000));
  moved += BIG;
}
const relayCpu = cpuSeconds(relayProc.pid) - cpuStart;
console.log(`${"container <- host HTTP, 16 MB (relay + passt)".padEnd(44)} median ${median(mbps).toFixed(1)} MB/s (min ${Math.min(...mbps).toFixed(1)}, max ${Math.max(...mbps).toFixed(1)}, 5 runs, container start included)`);
console.log(`${"relay + passt CPU per MB".padEnd(44)} ${((relayCpu * 1000) / (moved / 1e6)).toFixed(1)} ms`);

// request latency: many small requests from one container, timed in the guest
const loop = await sh(`docker run --rm --network host ${img} sh -c 'a=$(cat /proc/uptime); for i in $(seq ${RUNS}); do busybox wget -qO /dev/null http://${gw}:${webPort}/small; done; b=$(cat /proc/uptime); echo "$a $b"'`);
const [a, , b] = loop.trim().split(/\s+/).map(Number);
console.log(`${"container -> host HTTP request (small)".padEnd(44)} mean ${Math.round(((b - a) * 1000) / RUNS)} ms (a wget process each, guest clock, ${RUNS} requests)`);

// the engine to a published port (the page's /port/<n>/ path, less the Service Worker)
await sh(`docker run -d --name pub -p 18190:80 ${img} busybox httpd -f -p 80 -h /etc`);
await new Promise((r) => setTimeout(r, 500));
const lat = [];
for (let i = 0; i < RUNS + 5; i++) {
  const t = performance.now();
  const r = await e.daemon.httpRequest(18190, { method: "GET", target: "/passwd", headers: [] });
  if (r.status !== 200) throw new Error(`published port answered ${r.status}`);
  if (i >= 5) lat.push(performance.now() - t);
}
report("engine -> published port, GET (no relay)", lat);

await e.stop();
relayProc.kill();
web.close();
await registry.stop();
