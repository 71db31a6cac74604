// The demo site as `berth serve` serves it, in headless Chromium: each page
// renders its content (components included), shows no error, and its
// screenshot is written to $BERTH_SCREENSHOTS (default a temp directory).
import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import puppeteer, { type Browser } from "puppeteer-core";
import { serve } from "../../../src/server/serve.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let server: Server;
let browser: Browser;
let registry: TestRegistry;
let base: string;
const shots = process.env["BERTH_SCREENSHOTS"] ?? join(tmpdir(), "berth-screenshots");

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  server = await serve({ port: 0, host: "127.0.0.1", quiet: true, proxy: { allow: [registry.host], allowPrivate: [registry.host] } });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await puppeteer.launch({
    executablePath: process.env["CHROME_PATH"] ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  await mkdir(shots, { recursive: true });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await registry?.stop();
});

/** The page's text, shadow roots included (components render there). */
function deepText(): string {
  const walk = (n: Node): string => {
    let s = n.nodeType === Node.TEXT_NODE ? n.textContent ?? "" : "";
    if (n instanceof Element && n.shadowRoot) s += walk(n.shadowRoot);
    if (n instanceof Element && n.tagName === "BERTH-TERMINAL") s += (n as Element & { screenText(): string }).screenText();
    n.childNodes.forEach((c) => {
      if (!(c instanceof HTMLStyleElement) && !(c instanceof HTMLScriptElement)) s += walk(c);
    });
    return `${s} `;
  };
  return walk(document.body).replace(/\s+/g, " ");
}

const pages: Array<{ path: string; expect: RegExp[]; terminal: boolean }> = [
  { path: "/", expect: [/Docker in a browser tab, with nothing to install/, /Docs embeds/, /Playground/], terminal: true },
  { path: "/docs.html", expect: [/\$ docker run --rm busybox echo hello from a container Run/, /docker run --rm -e GREETING=hi -m 64m busybox/, /docker run --rm alpine cat \/etc\/os-release/], terminal: false },
  { path: "/playground.html", expect: [/A shell in the guest, with docker on the PATH/], terminal: true },
  { path: "/lab.html", expect: [/1 ?\. Pull an image/, /docker pull busybox Run/, /Check/, /Next step/], terminal: true },
];

for (const p of pages) {
  test(`demo page ${p.path} renders its content and no error`, async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const res = await page.goto(`${base}${p.path}`, { waitUntil: "load" });
    assert.equal(res?.status(), 200);
    await page.waitForFunction(() => customElements.get("berth-run") !== undefined, { timeout: 30000 });
    // a page with a terminal is done when the guest's prompt is on it
    if (p.terminal) await page.waitForFunction(() => /~ # /.test((document.querySelector("berth-terminal") ?? document.querySelector("berth-lab")?.shadowRoot?.querySelector("berth-terminal")) ? ((document.querySelector("berth-terminal") ?? document.querySelector("berth-lab")!.shadowRoot!.querySelector("berth-terminal")) as Element & { screenText(): string }).screenText() : ""), { timeout: 180000 });
    const text = await page.evaluate(deepText);
    for (const re of p.expect) assert.match(text, re, `${p.path}: ${text.slice(0, 400)}`);
    assert.doesNotMatch(text, /Error \[|Error:|Cannot /, `${p.path} shows an error: ${text.slice(0, 400)}`);
    assert.deepEqual(errors, []);
    const file = join(shots, `${p.path === "/" ? "index" : p.path.slice(1).replace(/\.html$/, "")}.png`);
    await page.screenshot({ path: file as `${string}.png`, fullPage: true });
    assert.ok((await stat(file)).size > 10_000, "the screenshot is empty");
    await page.close();
  });
}

test("a published port opens in the page at /port/<n>/ (Service Worker -> engine -> container), with a link in the terminal", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/playground.html`);
  const term = "document.querySelector('berth-terminal')";
  await page.waitForFunction(`/~ # /.test(${term}.screenText())`, { timeout: 180000 });
  await page.waitForFunction("navigator.serviceWorker.controller !== null", { timeout: 30000 }).catch(async () => {
    await page.reload();
    await page.waitForFunction(`/~ # /.test(${term}.screenText())`, { timeout: 180000 });
  });
  await page.evaluate(`${term}.type("docker run -d --name web -p 18097:80 ${registry.host}/test/busybox busybox httpd -f -p 80 -h /etc\\r")`);
  await page.waitForFunction(`(${term}.shadowRoot.querySelector('.ports')?.textContent ?? '').includes('18097 → web:80')`, { timeout: 60000 });
  const tab = await browser.newPage();
  let text = "";
  for (let i = 0; i < 20 && !text.startsWith("root:x:0:0"); i++) {
    const res = await tab.goto(`${base}/port/18097/passwd`);
    text = (await res?.text()) ?? "";
    if (!text.startsWith("root:x:0:0")) await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(text, /^root:x:0:0/);
  const missing = await tab.goto(`${base}/port/18097/nothing`);
  assert.equal(missing?.status(), 404);
  await tab.close();
  await page.close();
});

test("offline after a first visit: the Service Worker's cache and the saved VM state start the playground without a network", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/playground.html`);
  const term = "document.querySelector('berth-terminal')";
  await page.waitForFunction(`/~ # /.test(${term}.screenText())`, { timeout: 180000 });
  await page.waitForFunction("navigator.serviceWorker.controller !== null", { timeout: 30000 });
  await page.evaluate(`import("/dist/web/berth.js").then((m) => m.sharedEngine().saved())`);
  await page.setOfflineMode(true);
  await page.reload();
  await page.waitForFunction(`/~ # /.test(${term}.screenText())`, { timeout: 180000 });
  await page.evaluate(`${term}.type("echo offline-$((2 + 3))\\r")`);
  await page.waitForFunction(`/offline-5/.test(${term}.screenText())`, { timeout: 30000 });
  await page.setOfflineMode(false);
  await page.close();
});
