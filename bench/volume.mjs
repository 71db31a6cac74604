// bench/volume: what a container gets from a named volume next to its own
// writable layer — sequential write and read of one 20 MB file, and of 2,000
// small files — timed inside the container (date +%s%N around each step, the
// write followed by sync so the data has reached its store, the read after the
// guest's caches are dropped); and a restart: a new engine on the same state,
// from its start until a `--restart always` container is Up again and
// `docker ps` has answered. Needs Debian's docker-registry (the busybox fixture
// on 127.0.0.1). Then the same restart as a page reload in headless Chromium
// (bench/reload.html), and a reload with persist="session" (the running VM
// restored). Usage: node bench/volume.mjs [--runs N] [--page-only (Chromium's reloads only)]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../dist/src/engine/engine.js";
import { RegistryClient } from "../dist/src/engine/registry/registry-client.js";
import { DirBlobStore } from "../dist/src/node/dir-blob-store.js";
import { DirSnapshotStore } from "../dist/src/node/dir-snapshot-store.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { buildFixtures, pushImage } from "../dist/test/helpers/images.js";
import { startRegistry } from "../dist/test/helpers/registry.js";
import { createServer } from "node:http";
import puppeteer from "puppeteer-core";
import { RegistryProxy } from "../dist/src/server/registry-proxy.js";
import { defaultMounts } from "../dist/src/server/serve.js";
import { serveStatic } from "../dist/src/server/static-files.js";
import { median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" }, "page-only": { type: "boolean" } } });
const RUNS = Number(o.runs ?? 5);

const registry = await startRegistry();
for (const i of await buildFixtures()) await pushImage(registry.url, i);
const img = `${registry.host}/test/busybox`;
const dir = await mkdtemp(join(tmpdir(), "berth-bench-volume-"));
const assets = await loadGuestAssets();
const start = () => Engine.start({ assets, snapshots: new DirSnapshotStore(join(dir, "snapshots")), docker: { client: new RegistryClient(), store: new DirBlobStore(join(dir, "images")), stateStore: new DirBlobStore(join(dir, "state")) } });

/** `docker …` typed in the guest; its stdout. */
async function docker(e, args) {
  let out = "";
  let err = "";
  const dec = new TextDecoder();
  const code = await e.vm.channel.exec({ argv: ["/usr/bin/docker", ...args], env: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"] }, { onStdout: (b) => (out += dec.decode(b)), onStderr: (b) => (err += dec.decode(b)) }).exit;
  if (code !== 0) throw new Error(`docker ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

// each step prints "name ms"; $1 is where the files go
// the fixture's busybox has few applet links and no %N in date: busybox's own applets, and
// /proc/uptime's hundredths of a second
const STEPS = String.raw`
ms() { busybox awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
drop() { busybox sync; echo 3 > /proc/sys/vm/drop_caches; }
D=$1; busybox rm -rf $D/b; busybox mkdir -p $D/b; drop
t=$(ms); busybox dd if=/dev/zero of=$D/b/big bs=1M count=20 2>/dev/null; busybox sync; echo "big-write $(( $(ms) - t ))"
drop; t=$(ms); cat $D/b/big > /dev/null; echo "big-read $(( $(ms) - t ))"
busybox mkdir $D/b/small; t=$(ms); i=0; while [ $i -lt 2000 ]; do echo "file $i" > $D/b/small/f$i; i=$((i+1)); done; busybox sync; echo "small-write $(( $(ms) - t ))"
drop; t=$(ms); cat $D/b/small/* > /dev/null; echo "small-read $(( $(ms) - t ))"
busybox rm -rf $D/b`;

if (!o["page-only"]) {
const e = await start();
await e.daemon.ready();
await docker(e, ["pull", "-q", img]);
const runs = { volume: {}, layer: {} };
for (let i = 0; i < RUNS; i++) {
  for (const [where, path] of [["volume", "/vol"], ["layer", "/layer"]]) {
    const out = await docker(e, ["run", "--rm", "--privileged", "-v", "benchvol:/vol", img, "sh", "-c", STEPS, "bench", path]);
    for (const line of out.trim().split("\n")) {
      const [name, ms] = line.split(" ");
      (runs[where][name] ??= []).push(Number(ms));
    }
  }
}
const mbps = (ms, mb) => (mb * 1000) / Math.max(ms, 1);
console.log(`bench/volume — ${RUNS} runs each, inside a container (20 MB = one file; 2,000 files of ~9 bytes)\n`);
for (const step of ["big-write", "big-read", "small-write", "small-read"]) {
  const v = runs.volume[step];
  const l = runs.layer[step];
  report(`${step} named volume`, v);
  report(`${step} writable layer`, l);
  const ratio = median(l) / Math.max(median(v), 1);
  const extra = step.startsWith("big") ? `  (${mbps(median(v), 20).toFixed(1)} vs ${mbps(median(l), 20).toFixed(1)} MB/s)` : `  (${Math.round(2000 * 1000 / Math.max(median(v), 1))} vs ${Math.round(2000 * 1000 / Math.max(median(l), 1))} files/s)`;
  const target = step === "big-write" || step === "big-read" ? `  target ≥ 50 %: ${ratio >= 0.5 ? "met" : "NOT met"}` : "";
  console.log(`${step.padEnd(44)} volume at ${Math.round(ratio * 100)} % of the writable layer${extra}${target}\n`);
}

// a restart: the state of this engine, read by the next one
await docker(e, ["run", "-d", "--name", "always", "--restart", "always", img, "sleep", "3600"]);
await e.stop();
const restarts = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  const next = await start();
  await next.daemon.ready();
  const ps = await docker(next, ["ps", "--format", "{{.Names}} {{.State}}"]);
  restarts.push(performance.now() - t);
  if (!ps.includes("always running")) throw new Error(`not restored: ${ps}`);
  await next.stop();
}
report("Node: new engine → restored container Up, ps answered", restarts);

// the same with a saved session: the running VM kept, the container never stopped
const withSession = () => Engine.start({ assets, snapshots: new DirSnapshotStore(join(dir, "snapshots")), session: new DirSnapshotStore(join(dir, "session")), docker: { client: new RegistryClient(), store: new DirBlobStore(join(dir, "images")), stateStore: new DirBlobStore(join(dir, "state")) } });
let live = await withSession();
await live.daemon.ready();
await docker(live, ["run", "-d", "--name", "live", img, "sleep", "3600"]);
const resumed = [];
for (let i = 0; i < RUNS; i++) {
  const { bytes } = await live.saveSession();
  await live.vm.destroy();
  const t = performance.now();
  live = await withSession();
  const ps = await docker(live, ["ps", "--format", "{{.Names}} {{.State}}"]);
  resumed.push(performance.now() - t);
  if (!live.info.session || !ps.includes("live running")) throw new Error(`session not restored: ${ps}`);
  if (i === RUNS - 1) console.log(`  session stored: ${(bytes / 1e6).toFixed(1)} MB; restore parts (ms): ${JSON.stringify(live.info.timings)}`);
}
report("Node: new engine → session restored (Up), ps answered", resumed);
await live.stop();
}

// the same in Chromium: a page reload (same profile) → the container Up again, `docker ps` answered
const proxy = new RegistryProxy({ allow: [registry.host], allowPrivate: [registry.host] });
const mounts = [{ prefix: "/bench/", dir: new URL(".", import.meta.url).pathname }, ...defaultMounts()];
const server = createServer((req, res) => {
  proxy.handle(req, res).then((done) => done || serveStatic(req, res, mounts)).then((ok) => ok || res.writeHead(404).end());
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}/bench/reload.html?image=${registry.host}/test/busybox`;
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const result = async (page) => {
  await page.waitForFunction(() => window.benchResult, { timeout: 300000, polling: 20 });
  const r = await page.evaluate(() => window.benchResult);
  if (!r.ok) throw new Error(`the page failed: ${r.out}`);
  return r;
};
const page = await browser.newPage();
await page.goto(`${base}&phase=setup`);
await result(page);
const reloads = [];
for (let i = 0; i < RUNS; i++) {
  await page.goto(`${base}&phase=measure`);
  reloads.push((await result(page)).ms);
}
report("Chromium: reload → container Up, ps answered", reloads, 1500);

// persist="session": the running VM saved, a reload goes on from it (the container never stopped)
const sbase = `${base}&persist=session`;
await page.goto(`${sbase}&phase=setup`);
const setup = await result(page);
const sessions = [];
const parts = [];
for (let i = 0; i < RUNS; i++) {
  await page.goto(`${sbase}&phase=measure`);
  const r = await result(page);
  if (!r.session) throw new Error(`the session was not restored: ${JSON.stringify(r)}`);
  sessions.push(r.ms);
  parts.push(r.timings);
}
report("Chromium: reload → session restored (Up), ps answered", sessions, 1500);
console.log(`  session stored: ${(setup.bytes / 1e6).toFixed(1)} MB; restore parts (last run, ms): ${JSON.stringify(parts.at(-1))}`);
// without the page's explicit save: a change (a container made), then a reload 3 s later (the
// engine saves the session by itself after a change) or at once (only pagehide's save is left)
for (const mode of ["auto", "unload"]) {
  await page.goto(`${sbase}&phase=measure&save=${mode}`);
  await result(page);
  let kept = 0;
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${sbase}&phase=measure&save=${mode}`);
    if ((await result(page)).session) kept++;
  }
  console.log(`Chromium: a change, then a reload ${mode === "auto" ? "3 s later" : "at once"}: the session restored ${kept} of ${RUNS} times`);
}
await browser.close();
server.close();
await rm(dir, { recursive: true, force: true });
await registry.stop();
process.exit(0);
