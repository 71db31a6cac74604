// bench/pull: cold and warm pulls of the busybox fixture and a Debian i386
// minbase image from docker-registry on 127.0.0.1 through the registry proxy,
// in Node: MB/s compressed, time until runnable (written into the guest's 9p
// share as the layers download), and what that adds to the download alone; then `docker pull` in
// headless Chromium (the Worker's engine, blobs in IndexedDB), cold and warm.
// Usage: node bench/pull.mjs [--runs N] [--node-only]
import { parseArgs } from "node:util";
import { parseReference } from "../dist/src/common/reference.js";
import { Engine } from "../dist/src/engine/engine.js";
import { pullImage } from "../dist/src/engine/images/image-puller.js";
import { LayerStore } from "../dist/src/engine/unpack/layer-store.js";
import { RegistryClient } from "../dist/src/engine/registry/registry-client.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { serve } from "../dist/src/server/serve.js";
import { buildDebianImage, buildFixtures, pushImage } from "../dist/test/helpers/images.js";
import { startRegistry } from "../dist/test/helpers/registry.js";
import { median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" }, "node-only": { type: "boolean" } } });
const RUNS = Number(o.runs ?? 5);
const registry = await startRegistry();
const images = [(await buildFixtures())[0], await buildDebianImage()];
for (const i of images) await pushImage(registry.url, i);
const server = await serve({ port: 0, host: "127.0.0.1", quiet: true, proxy: { allow: [registry.host], allowPrivate: [registry.host] } });
const proxy = `http://127.0.0.1:${server.address().port}`;
const engine = await Engine.start({ assets: await loadGuestAssets() });
const files = engine.vm.shareFiles();
console.log(`## Node ${process.version}, through the registry proxy on loopback (${RUNS} runs each)`);

for (const img of images) {
  const name = `${img.repository}:${img.tag}`;
  const mb = img.layers.reduce((n, l) => n + l.data.length, 0) / 1e6;
  const cold = [];
  const warm = [];
  const rates = [];
  const extra = [];
  for (let i = 0; i < RUNS; i++) {
    // the download alone: manifest, config and layers, verified, nothing unpacked
    const client = new RegistryClient({ endpoint: (r) => ({ url: `${proxy}/registry/${r}`, viaProxy: true }) });
    const t0 = performance.now();
    const m = JSON.parse(new TextDecoder().decode((await client.manifest(registry.host, img.repository, img.tag, name)).body));
    for (const l of m.layers) await client.blob(registry.host, img.repository, l.digest, { what: name, size: l.size });
    await client.blob(registry.host, img.repository, m.config.digest, { what: name });
    const t1 = performance.now();
    // the pull as the engine does it: layers unpacked into the 9p share as they download
    const pullClient = new RegistryClient({ endpoint: (r) => ({ url: `${proxy}/registry/${r}`, viaProxy: true }) });
    const t2 = performance.now();
    await pullImage(pullClient, parseReference(`${registry.host}/${name}`), { layers: new LayerStore(files, `/bench/${i}`) });
    const t3 = performance.now();
    files.remove(`/bench/${i}`);
    cold.push(t3 - t2);
    rates.push(mb / ((t1 - t0) / 1000));
    extra.push(((t3 - t2 - (t1 - t0)) / (t1 - t0)) * 100);
    // warm: everything is kept; a pull is the manifest request alone
    const t4 = performance.now();
    await pullClient.manifest(registry.host, img.repository, img.tag, name);
    warm.push(performance.now() - t4);
  }
  console.log(`### ${name} (${mb.toFixed(2)} MB compressed, ${img.layers.length} layer${img.layers.length > 1 ? "s" : ""})`);
  report(`${name}: cold pull until runnable`, cold);
  console.log(`${`${name}: download rate`.padEnd(44)} median ${median(rates).toFixed(1)} MB/s compressed  target ≥ 30 MB/s: ${median(rates) >= 30 ? "met" : "NOT met"}`);
  console.log(`${`${name}: unpack + write add`.padEnd(44)} median ${Math.round(median(extra))} % of the download  target ≤ 50 %: ${median(extra) <= 50 ? "met" : "NOT met"}`);
  report(`${name}: warm pull (manifest only)`, warm, 100);
}
await engine.stop();

if (!o["node-only"]) {
  // Chromium: a fresh profile per run, so the first pull finds nothing in IndexedDB
  const { default: puppeteer } = await import("puppeteer-core");
  const { serveStatic } = await import("../dist/src/server/static-files.js");
  const { defaultMounts } = await import("../dist/src/server/serve.js");
  const { RegistryProxy } = await import("../dist/src/server/registry-proxy.js");
  const { createServer } = await import("node:http");
  const proxyMw = new RegistryProxy({ allow: [registry.host], allowPrivate: [registry.host] });
  const mounts = [{ prefix: "/bench/", dir: new URL(".", import.meta.url).pathname }, ...defaultMounts()];
  const page = createServer((req, res) => {
    proxyMw.handle(req, res).then((done) => done || serveStatic(req, res, mounts)).then((ok) => ok || res.writeHead(404).end());
  });
  await new Promise((r) => page.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${page.address().port}`;
  const browserRuns = Math.min(RUNS, 3);
  let version = "";
  for (const img of images) {
    const name = `${registry.host}/${img.repository}:${img.tag}`;
    const mb = img.layers.reduce((n, l) => n + l.data.length, 0) / 1e6;
    const cold = [];
    const warm = [];
    const run = [];
    for (let i = 0; i < browserRuns; i++) {
      const browser = await puppeteer.launch({
        executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
      });
      version = await browser.version();
      const tab = await browser.newPage();
      await tab.goto(`${base}/bench/pull.html?image=${encodeURIComponent(name)}`);
      await tab.waitForFunction(() => window.benchResult, { timeout: 600000, polling: 100 });
      const r = await tab.evaluate(() => window.benchResult);
      if (r.code !== 0) throw new Error(`the pulled image did not run: ${JSON.stringify(r)}`);
      cold.push(r.cold);
      warm.push(r.warm);
      run.push(r.run);
      await browser.close();
    }
    console.log(`### ${version}, headless: docker pull ${img.repository}:${img.tag} in the page (${browserRuns} runs, a fresh profile each)`);
    report(`${img.repository}: cold docker pull (to IndexedDB, unpacked)`, cold);
    console.log(`${`${img.repository}: cold rate, unpack included`.padEnd(44)} median ${(mb / (median(cold) / 1000)).toFixed(1)} MB/s compressed`);
    report(`${img.repository}: warm docker pull`, warm, 100);
    report(`${img.repository}: docker run --rm true after it`, run);
  }
  page.close();
}
server.close();
await registry.stop();
process.exit(0);
