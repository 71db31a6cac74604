// bench/run: what the engine adds to crun. `docker run --rm busybox true`,
// `docker ps` and `docker exec <c> true`, each typed in the guest and timed
// from the host until the command exits, next to bare `crun run` of the same
// bundle (same image layer on 9p, same config) and an agent exec of `true`.
// Needs Debian's docker-registry (the busybox fixture is served from 127.0.0.1).
// Usage: node bench/run.mjs [--runs N]
import { parseArgs } from "node:util";
import { Engine } from "../dist/src/engine/engine.js";
import { RegistryClient } from "../dist/src/engine/registry/registry-client.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { buildFixtures, pushImage } from "../dist/test/helpers/images.js";
import { startRegistry } from "../dist/test/helpers/registry.js";
import { median, report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(o.runs ?? 20);
const WARMUP = 10;

const registry = await startRegistry();
for (const i of await buildFixtures()) await pushImage(registry.url, i);
const img = `${registry.host}/test/busybox`;
const e = await Engine.start({ assets: await loadGuestAssets(), docker: { client: new RegistryClient() } });
const ch = e.vm.channel;
const sh = async (script) => {
  let out = "";
  let err = "";
  const p = ch.exec({ argv: ["/bin/sh", "-c", script], env: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"] }, { onStdout: (b) => (out += new TextDecoder().decode(b)), onStderr: (b) => (err += new TextDecoder().decode(b)) });
  const code = await p.exit;
  if (code !== 0) throw new Error(`${script} exited ${code}: ${err}`);
  return out;
};
const time = async (script) => {
  const t = performance.now();
  await sh(script);
  return performance.now() - t;
};

console.log(`## Node ${process.version}, docker commands in the guest (${RUNS} runs each after ${WARMUP} warm-up)`);
await sh(`docker pull -q ${img}`);
// the same bundle crun gets from `docker run`, run bare: config from a running container, args `true`
const id = (await sh(`docker run -d --name bench-sleeper ${img} sleep 100000`)).trim();
await sh(`set -e; b=/run/bench; mkdir -p $b/rootfs $b/rw; mount -t tmpfs tmpfs $b/rw; mkdir $b/rw/u $b/rw/w
lower=$(grep " /run/berth/bundles/${id}/rootfs " /proc/mounts | sed 's/.*lowerdir=\\([^,]*\\).*/\\1/')
mount -t overlay overlay -o lowerdir=$lower,upperdir=$b/rw/u,workdir=$b/rw/w $b/rootfs
sed 's/"args":\\[[^]]*\\]/"args":["true"]/; s/"terminal":true/"terminal":false/; s/"cgroupsPath":"[^"]*"/"cgroupsPath":"\\/bench"/' /run/berth/bundles/${id}/config.json > $b/config.json`);

const measure = async (name, script, target) => {
  for (let i = 0; i < WARMUP; i++) await time(script(`w${i}`));
  const xs = [];
  for (let i = 0; i < RUNS; i++) xs.push(await time(script(`r${i}`)));
  report(name, xs, target);
  return xs;
};
const run = await measure("docker run --rm busybox true", () => `docker run --rm ${img} true`, 500);
const crun = await measure("crun run (same bundle) true", (n) => `crun run --bundle /run/bench ${n}`);
const exec = await measure("docker exec <c> true", () => `docker exec bench-sleeper true`, 300);
const crunExec = await measure("crun exec <c> true", () => `crun exec ${id} true`);
const ps = await measure("docker ps", () => "docker ps >/dev/null", 50);
const bare = await measure("agent exec of `true` (the channel's share)", () => "true");
console.log(`${"engine's share of docker run".padEnd(44)} median ${Math.round(median(run) - median(crun))} ms`);
console.log(`${"engine's share of docker exec".padEnd(44)} median ${Math.round(median(exec) - median(crunExec))} ms`);
console.log(`${"docker ps minus the channel's share".padEnd(44)} median ${Math.round(median(ps) - median(bare))} ms`);
await e.stop();
await registry.stop();
