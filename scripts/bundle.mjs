// Bundles the browser side with esbuild: the page bundle, the engine Worker,
// and the browser tests (which import the page bundle by URL).
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, minify: true, logLevel: "warning" };

await build({ ...common, entryPoints: { berth: "src/ui/index.ts" }, outdir: "dist/web", loader: { ".css": "text" } });
// v86's Node-only branches (fs, crypto) are behind runtime checks and dynamic imports
await build({ ...common, entryPoints: { "berth-worker": "src/engine/worker.ts" }, outdir: "dist/web", platform: "browser", external: ["crypto", "node:crypto", "fs", "node:fs/promises", "perf_hooks"] });

// the Service Worker is served from the site's root (a worker's scope is its own directory and below)
await build({ ...common, entryPoints: { "berth-sw": "src/engine/service-worker.ts" }, outdir: "dist/root", platform: "browser" });

const tests = readdirSync("test/browser").filter((f) => f.endsWith(".test.ts")).map((f) => `test/browser/${f}`);
// bundled, so a test can import engine sources (the IndexedDB store); the page bundle stays a URL
if (tests.length) await build({ entryPoints: tests, outdir: "dist/test/browser", format: "esm", target: "es2022", bundle: true, external: ["/dist/web/*"], logLevel: "warning" });

// The `berth` command as one file: loading it costs ~100 ms less than the
// ~60 modules of dist/src/ (bin/berth.js falls back to those when they are newer).
// `ws` is CommonJS: the bundle gets a require() of its own for it.
await build({
  ...common, minify: false, sourcemap: false, entryPoints: { berth: "src/node/cli.ts" }, outdir: "dist/node", platform: "node",
  banner: { js: 'import { createRequire as __berthRequire } from "node:module"; const require = __berthRequire(import.meta.url);' },
});
