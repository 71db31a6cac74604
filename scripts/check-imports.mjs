// Checks the layering rules of STYLE.md that the compiler cannot:
// - src/common imports only src/common (no DOM, no Node, no packages);
// - src/ui imports src/common values and its own files, never src/engine;
// - src/engine imports no node: modules (it runs in a Worker too);
// - each adapted third-party package is imported by its one adapter file;
// - no import cycles among src's files (type imports count: a cycle is a cycle).
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, dirname, normalize } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const adapters = {
  v86: ["src/engine/vm/vm-host.ts"],
  fflate: ["src/engine/unpack/gunzip.ts"],
  fzstd: ["src/engine/unpack/decompress.ts"],
  "idb-keyval": ["src/engine/store/idb-snapshot-store.ts", "src/engine/store/idb-blob-store.ts"],
  comlink: ["src/engine/worker.ts", "src/ui/engine-client.ts"],
  "@xterm/xterm": ["src/ui/berth-terminal.ts"],
  "@xterm/addon-fit": ["src/ui/berth-terminal.ts"],
  ws: ["src/server/relay.ts", "src/node/websocket.ts"],
};
const problems = [];
/** file -> the src files it imports (relative specifiers, .js -> .ts) */
const graph = new Map();

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) yield p;
  }
}

for (const file of files(join(root, "src"))) {
  const rel = relative(root, file);
  const layer = rel.split("/")[1];
  const src = readFileSync(file, "utf8");
  for (const m of src.matchAll(/\b(import|export)\s+(type\s+)?[^;"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = m[3] ?? m[4];
    const typeOnly = Boolean(m[2]);
    if (spec.startsWith(".")) {
      const target = normalize(join(dirname(rel), spec));
      if (!graph.has(rel)) graph.set(rel, new Set());
      graph.get(rel).add(target.replace(/\.js$/, ".ts"));
      const targetLayer = target.split("/")[1];
      if (layer === "common" && targetLayer !== "common") problems.push(`${rel}: src/common may not import ${target}`);
      if (layer === "ui" && !["ui", "common"].includes(targetLayer)) problems.push(`${rel}: src/ui may import only src/common and src/ui, not ${target}`);
      if (layer === "engine" && !["engine", "common"].includes(targetLayer)) problems.push(`${rel}: src/engine may not import ${target}`);
      continue;
    }
    if (spec.startsWith("node:")) {
      if (["common", "engine", "ui"].includes(layer)) problems.push(`${rel}: src/${layer} may not import ${spec}`);
      continue;
    }
    if (layer === "common" && !typeOnly) problems.push(`${rel}: src/common may not import the package ${spec}`);
    const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    const allowed = adapters[pkg];
    if (allowed && !allowed.includes(rel)) problems.push(`${rel}: ${pkg} is imported only by ${allowed.join(" or ")}`);
  }
}

// cycles: a depth-first walk; each cycle is reported once, from its smallest file
const state = new Map();
const stack = [];
const seenCycles = new Set();
function visit(f) {
  state.set(f, "open");
  stack.push(f);
  for (const t of graph.get(f) ?? []) {
    if (state.get(t) === "open") {
      const cycle = stack.slice(stack.indexOf(t));
      const start = cycle.indexOf([...cycle].sort()[0]);
      const key = [...cycle.slice(start), ...cycle.slice(0, start)].join(" -> ");
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        problems.push(`import cycle: ${key} -> ${cycle[start]}`);
      }
    } else if (!state.has(t)) visit(t);
  }
  stack.pop();
  state.set(f, "done");
}
for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);

if (problems.length) {
  console.error(problems.join("\n"));
  console.error(`check-imports: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log("check-imports: layering, adapters and no cycles ok");
