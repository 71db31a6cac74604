// Browser tests in Debian's Chromium (never a downloaded browser). The tests are
// transpiled to dist/test/browser by scripts/bundle.mjs and load the real
// bundles (/dist/web) and guest files (/build/guest) from this server.
import { chromeLauncher } from "@web/test-runner-chrome";

export default {
  rootDir: new URL("../..", import.meta.url).pathname,
  files: ["dist/test/browser/**/*.test.js"],
  nodeResolve: false,
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
