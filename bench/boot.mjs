// bench/boot: cold boot, warm start (restore), first container and crun run of
// busybox `true`, in Node and in headless Chromium, and the bytes a first visit
// downloads before it has a shell. Prints figures; BENCHMARKS.md records them.
// Usage: node bench/boot.mjs [--runs N] [--node-only | --browser-only]
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../dist/src/engine/engine.js";
import { containerSpec } from "../dist/src/common/oci-spec.js";
import { makeBusyboxLayer } from "../dist/src/engine/containers/container-runner.js";
import { DirSnapshotStore } from "../dist/src/node/dir-snapshot-store.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { defaultMounts } from "../dist/src/server/serve.js";
import { serveStatic } from "../dist/src/server/static-files.js";
import { breakdown, median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" }, "node-only": { type: "boolean" }, "browser-only": { type: "boolean" } } });
const RUNS = Number(o.runs ?? 5);
const CRUN_RUNS = 20;
const WARMUP = 10;

async function nodeBench() {
  console.log(`## Node ${process.version} (${RUNS} runs each)`);
  const assets = await loadGuestAssets();
  const cold = [];
  const coldT = [];
  for (let i = 0; i < RUNS; i++) {
    const e = await Engine.start({ assets });
    cold.push(e.info.readyMs);
    coldT.push(e.info.timings);
    await e.stop();
  }
  report("cold boot (start -> agent ready)", cold, 3000);
  console.log(breakdown(coldT));

  const dir = await mkdtemp(join(tmpdir(), "berth-bench-"));
  const store = new DirSnapshotStore(dir);
  await (await Engine.start({ assets, snapshots: store })).stop();
  const warm = [];
  const warmT = [];
  for (let i = 0; i < RUNS; i++) {
    const e = await Engine.start({ assets, snapshots: store });
    if (!e.info.restored) throw new Error("warm start did not restore");
    warm.push(e.info.readyMs);
    warmT.push(e.info.timings);
    await e.stop();
  }
  report("warm start (restore -> agent answers)", warm, 500);
  console.log(breakdown(warmT));

  const e = await Engine.start({ assets, snapshots: store });
  const ch = e.vm.channel;
  await makeBusyboxLayer(ch, "/run/bench/rootfs");
  await ch.writeFile("/run/bench/config.json", JSON.stringify(containerSpec({ args: ["true"], readonlyRootfs: true, cgroupsPath: "/bench" })));
  const time = async (argv) => {
    const t = performance.now();
    const p = ch.exec({ argv, env: ["PATH=/usr/bin:/bin"] });
    const code = await p.exit;
    if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}`);
    return performance.now() - t;
  };
  const first = await time(["crun", "run", "--bundle", "/run/bench", "first"]);
  console.log(`${"first container (crun run busybox true)".padEnd(44)} ${Math.round(first)} ms`);
  // "median after warm-up" (the words): v86 compiles hot guest code as it goes
  for (let i = 0; i < WARMUP; i++) await time(["crun", "run", "--bundle", "/run/bench", `w${i}`]);
  const runs = [];
  const bare = [];
  for (let i = 0; i < CRUN_RUNS; i++) {
    runs.push(await time(["crun", "run", "--bundle", "/run/bench", `c${i}`]));
    bare.push(await time(["true"]));
  }
  report("crun run busybox true, after 10 warm-up runs", runs, 300);
  report("agent exec of `true` (the channel's share)", bare);
  console.log(`${"crun run minus the channel's share".padEnd(44)} median ${Math.round(median(runs) - median(bare))} ms`);
  await e.stop();
  await rm(dir, { recursive: true, force: true });
}

async function browserBench() {
  const { default: puppeteer } = await import("puppeteer-core");
  const mounts = [{ prefix: "/bench/", dir: new URL(".", import.meta.url).pathname }, ...defaultMounts()];
  let bytes = 0;
  const server = createServer((req, res) => {
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = (chunk, ...a) => ((bytes += chunk?.length ?? 0), write(chunk, ...a));
    res.end = (chunk, ...a) => ((bytes += typeof chunk === "function" ? 0 : chunk?.length ?? 0), end(chunk, ...a));
    serveStatic(req, res, mounts).then((ok) => ok || res.writeHead(404).end());
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/bench/boot.html`;
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  const browserVersion = await browser.version();
  console.log(`## ${browserVersion}, headless (${RUNS} runs each)`);
  const visit = async (fresh, cacheDisabled, inPage) => {
    const page = await browser.newPage();
    await page.setCacheEnabled(!cacheDisabled);
    const response = await page.goto(`${url}${fresh ? "?fresh=1" : ""}`);
    if (!response || (!response.ok() && response.status() !== 304)) throw new Error(`the bench page answered ${response?.status()}`);
    const r = await page.evaluate(() => window.benchResult);
    if (!r) throw new Error("the bench page did not run");
    if (inPage) r.extra = await page.evaluate(inPage, JSON.stringify(containerSpec({ args: ["true"], readonlyRootfs: true, cgroupsPath: "/bench" })));
    await page.close();
    return r;
  };
  // crun run of busybox true, as in Node, timed in the page: page -> Worker -> agent -> crun and back
  const crunInPage = async (config) => {
    const e = window.engine;
    const setup = 'set -e; b=/run/bench/rootfs; mkdir -p $b/bin $b/proc $b/dev $b/sys; cp /bin/busybox $b/bin/; ' +
      'for a in $(busybox --list); do [ -e $b/bin/$a ] || ln -s busybox $b/bin/$a; done; printf %s "$1" > /run/bench/config.json';
    await e.guest(["sh", "-c", setup, "-", config]);
    const time = async (argv) => { const t = performance.now(); const r = await e.guest(argv); if (r.code !== 0) throw new Error(r.stderr); return performance.now() - t; };
    const first = await time(["crun", "run", "--bundle", "/run/bench", "first"]);
    for (let i = 0; i < 10; i++) await time(["crun", "run", "--bundle", "/run/bench", `w${i}`]);
    const runs = [];
    const bare = [];
    for (let i = 0; i < 20; i++) {
      runs.push(await time(["crun", "run", "--bundle", "/run/bench", `c${i}`]));
      bare.push(await time(["true"]));
    }
    return { first, runs, bare };
  };
  bytes = 0;
  const firstVisit = await visit(true, true);
  const firstBytes = bytes;
  const cold = [firstVisit.readyMs];
  const coldT = [firstVisit.timings];
  for (let i = 1; i < RUNS; i++) {
    const r = await visit(true, false);
    cold.push(r.readyMs);
    coldT.push(r.timings);
  }
  report("cold boot in a Worker (start -> agent ready)", cold, 3000);
  console.log(breakdown(coldT));
  const warm = [];
  const warmT = [];
  const page = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await visit(false, false);
    if (!r.restored) throw new Error("warm visit did not restore");
    warm.push(r.readyMs);
    warmT.push(r.timings);
    page.push(r.pageToReadyMs);
  }
  report("warm start in a Worker (restore -> answers)", warm, 500);
  console.log(breakdown(warmT));
  report("warm page: new Worker -> agent answers", page);
  const { extra } = await visit(false, false, crunInPage);
  console.log(`${"first container (crun run busybox true)".padEnd(44)} ${Math.round(extra.first)} ms`);
  report("crun run busybox true, page, after warm-up", extra.runs, 300);
  report("exec of `true` (page -> agent)", extra.bare);
  console.log(`${"first visit download before a shell".padEnd(44)} ${(firstBytes / 1e6).toFixed(2)} MB compressed  target ≤ 8 MB: ${firstBytes <= 8e6 ? "met" : "NOT met"}`);
  await browser.close();
  server.close();
}

if (!o["browser-only"]) await nodeBench();
if (!o["node-only"]) await browserBench();
process.exit(0);
