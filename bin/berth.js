#!/usr/bin/env node
// The `berth` command: the compiled CLI in dist/ (npm run build makes it).
// dist/node/berth.js is the same CLI bundled into one file (faster to load);
// when tsc has written newer files since it was bundled, those are used instead.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/src/node/cli.js", import.meta.url);
const bundle = new URL("../dist/node/berth.js", import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('berth: Error [vm-asset-missing]: Cannot start: the project is not built (run "npm run build")\n');
  process.exit(125);
}

function newestUnder(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    t = Math.max(t, e.isDirectory() ? newestUnder(p) : e.name.endsWith(".js") ? statSync(p).mtimeMs : 0);
  }
  return t;
}

const bundled = existsSync(fileURLToPath(bundle)) && statSync(bundle).mtimeMs >= newestUnder(fileURLToPath(new URL("../dist/src", import.meta.url)));
const { main } = await import((bundled ? bundle : cli).href);
await main(process.argv.slice(2));
