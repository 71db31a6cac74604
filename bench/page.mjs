// bench/page: a docs page with one <berth-run autorun> — from navigation to
// the container's output, on a first visit (nothing cached: guest files, VM
// snapshot and image blobs all fetched) and a later one (everything cached),
// and the tab's memory and CPU while idle and while running, in headless
// Chromium. Needs Debian's docker-registry (the busybox fixture on 127.0.0.1).
// Usage: node bench/page.mjs [--runs N]
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";
import { RegistryProxy } from "../dist/src/server/registry-proxy.js";
import { defaultMounts } from "../dist/src/server/serve.js";
import { serveStatic } from "../dist/src/server/static-files.js";
import { buildFixtures, pushImage } from "../dist/test/helpers/images.js";
import { startRegistry } from "../dist/test/helpers/registry.js";
import { median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(o.runs ?? 3);

const registry = await startRegistry();
for (const i of await buildFixtures()) await pushImage(registry.url, i);
const proxy = new RegistryProxy({ allow: [registry.host], allowPrivate: [registry.host] });
const mounts = [{ prefix: "/bench/", dir: new URL(".", import.meta.url).pathname }, ...defaultMounts()];
const server = createServer((req, res) => {
  proxy.handle(req, res).then((done) => done || serveStatic(req, res, mounts)).then((ok) => ok || res.writeHead(404).end());
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/bench/page.html?image=${registry.host}/test/busybox`;

/** RSS of the browser and all its processes, in MB; and their CPU seconds so far. */
function usage(pid) {
  const stats = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ");
      stats.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100, rss: (Number(f[21]) * 4096) / 1048576 });
    } catch {
      // a process that ended meanwhile
    }
  }
  const mine = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, s] of stats) if (!mine.has(p) && mine.has(s.ppid)) { mine.add(p); grew = true; }
  }
  let rss = 0;
  let cpu = 0;
  for (const p of mine) {
    rss += stats.get(p)?.rss ?? 0;
    cpu += stats.get(p)?.cpu ?? 0;
  }
  return { rss, cpu };
}

const launch = () => puppeteer.launch({
  executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

const visit = async (browser) => {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult, { timeout: 300000, polling: 50 });
  const r = await page.evaluate(() => window.benchResult);
  if (r.code !== 0 || !r.out.includes("ready")) throw new Error(`the run failed: ${JSON.stringify(r)}`);
  return { page, ms: r.firstOutputMs };
};

const cold = [];
const warm = [];
let memory;
for (let i = 0; i < RUNS; i++) {
  // a fresh profile each time: nothing in the HTTP cache or IndexedDB
  const browser = await launch();
  const pid = browser.process().pid;
  const blank = await browser.newPage();
  await new Promise((r) => setTimeout(r, 1000));
  const base0 = usage(pid);
  await new Promise((r) => setTimeout(r, 5000));
  const base = usage(pid);
  const first = await visit(browser);
  cold.push(first.ms);
  // the snapshot is saved in the background after a cold boot: let it land before the next visit
  await first.page.evaluate(async () => { const { sharedEngine } = await import("/dist/web/berth.js"); await sharedEngine().saved(); });
  const running = usage(pid);
  await new Promise((r) => setTimeout(r, 5000));
  const idle = usage(pid);
  await first.page.close();
  const second = await visit(browser);
  warm.push(second.ms);
  if (i === 0) {
    memory = { base: base.rss, running: running.rss, idle: idle.rss, idleCpu: ((idle.cpu - running.cpu) / 5) * 100, blankCpu: ((base.cpu - base0.cpu) / 5) * 100 };
  }
  await second.page.close();
  await blank.close();
  await browser.close();
}
console.log(`## ${await (async () => { const b = await launch(); const v = await b.version(); await b.close(); return v; })()}, headless (${RUNS} runs)`);
report("first visit: load -> first <berth-run> output", cold);
report("later visit: load -> first <berth-run> output", warm);
console.log(`${"browser RSS: blank tab".padEnd(44)} ${Math.round(memory.base)} MB`);
console.log(`${"browser RSS: after the first run".padEnd(44)} ${Math.round(memory.running)} MB (+${Math.round(memory.running - memory.base)} MB for the page, 256 MB guest)`);
console.log(`${"browser RSS: idle 5 s later".padEnd(44)} ${Math.round(memory.idle)} MB`);
console.log(`${"CPU, blank tab idling (all processes)".padEnd(44)} ${memory.blankCpu.toFixed(0)}% of one core`);
console.log(`${"CPU, the page idling after its run".padEnd(44)} ${memory.idleCpu.toFixed(0)}% of one core`);
console.log(`${"median first/later".padEnd(44)} ${(median(cold) / median(warm)).toFixed(1)}x`);
server.close();
await registry.stop();
