// Browser tests in Debian's Chromium (never a downloaded browser). The tests are
// transpiled to dist/test/browser by scripts/bundle.mjs and load the real
// bundles (/dist/web) and guest files (/build/guest) from this server.
import { chromeLauncher } from "@web/test-runner-chrome";
import { buildFixtures, pushImage } from "../../dist/test/helpers/images.js";
import { startRegistry } from "../../dist/test/helpers/registry.js";
import { RegistryProxy } from "../../dist/src/server/registry-proxy.js";
import { serve } from "../../dist/src/server/serve.js";
import { createServer } from "node:http";

// A real registry with the fixture images, reached by the page through the
// registry proxy (mounted below at /registry/, as `berth serve` has it).
const registry = await startRegistry();
for (const image of await buildFixtures()) await pushImage(registry.url, image);
const proxy = new RegistryProxy({ allow: [registry.host], allowPrivate: [registry.host] });
// a network relay (with passt's uplink; the relay host's loopback allowed) and a web server on 127.0.0.1 for the page's VM to reach
const relayServer = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { allowLoopback: true, allowPrivate: true } });
const relayBase = `127.0.0.1:${relayServer.address().port}`;
const web = createServer((_req, res) => res.end("hello from the host\n"));
await new Promise((r) => web.listen(0, "127.0.0.1", r));
process.on("exit", () => { relayServer.close(); web.close(); });
process.on("exit", () => void registry.stop());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => registry.stop().then(() => process.exit(1)));

export default {
  rootDir: new URL("../..", import.meta.url).pathname,
  files: ["dist/test/browser/**/*.test.js"],
  nodeResolve: false,
  middleware: [
    async (ctx, next) => {
      if (ctx.path === "/test-registry.json") {
        ctx.body = { host: registry.host, webPort: web.address().port };
        return;
      }
      if (ctx.path === "/test-relay-room.json") {
        const room = await (await fetch(`http://${relayBase}/relay-room`)).json();
        ctx.body = { url: `ws://${relayBase}${room.path}` };
        return;
      }
      if (ctx.path.startsWith("/registry/") || ctx.path === "/registry-token") {
        ctx.respond = false;
        await proxy.handle(ctx.req, ctx.res);
        return;
      }
      return next();
    },
  ],
  concurrency: 1,
  concurrentBrowsers: 1,
  browserStartTimeout: 60000,
  testsStartTimeout: 60000,
  testsFinishTimeout: 600000,
  testFramework: { config: { timeout: 240000 } },
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
      },
    }),
  ],
};
