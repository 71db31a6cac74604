#!/usr/bin/env node
// The `berth` command: the compiled CLI in dist/ (npm run build makes it).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/src/node/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('berth: Error [vm-asset-missing]: Cannot start: the project is not built (run "npm run build")\n');
  process.exit(125);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
