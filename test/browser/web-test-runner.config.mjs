// Browser tests in Debian's Chromium (never a downloaded browser). The tests are
// transpiled to dist/test/browser by scripts/bundle.mjs and load the real
// bundles (/dist/web) and guest files (/build/guest) from this server.
import { chromeLauncher } from "@web/test-runner-chrome";
import { buildFixtures, pushImage } from "../../dist/test/helpers/images.js";
import { startRegistry } from "../../dist/test/helpers/registry.js";
import { RegistryProxy } from "../../dist/src/server/registry-proxy.js";

// A real registry with the fixture images, reached by the page through the
// registry proxy (mounted below at /registry/, as `berth serve` has it).
const registry = await startRegistry();
for (const image of await buildFixtures()) await pushImage(registry.url, image);
const proxy = new RegistryProxy({ allow: [registry.host], allowPrivate: [registry.host] });
process.on("exit", () => void registry.stop());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => registry.stop().then(() => process.exit(1)));

export default {
  rootDir: new URL("../..", import.meta.url).pathname,
  files: ["dist/test/browser/**/*.test.js"],
  nodeResolve: false,
  middleware: [
    async (ctx, next) => {
      if (ctx.path === "/test-registry.json") {
        ctx.body = { host: registry.host };
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
