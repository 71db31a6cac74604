// bench/api: the Engine API next to the guest's docker, on one engine. Each
// command is timed from the host until it exits: once through the socket of
// `berth daemon` with the machine's docker CLI (the CLI's own start, ~30 ms of
// Go, is part of what a user waits for), once typed in the guest.
// Needs Debian's docker-registry (the busybox fixture is served from 127.0.0.1)
// and a docker CLI on the PATH. Usage: node bench/api.mjs [--runs N]
import { execFile } from "node:child_process";
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { Engine } from "../dist/src/engine/engine.js";
import { engineApi } from "../dist/src/engine/api/engine-api.js";
import { RegistryClient } from "../dist/src/engine/registry/registry-client.js";
import { DaemonServer } from "../dist/src/node/daemon-server.js";
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
const dir = await mkdtemp(join(tmpdir(), "berth-bench-api-"));
const e = await Engine.start({ assets: await loadGuestAssets(), docker: { client: new RegistryClient() } });
const server = new DaemonServer(engineApi(e.daemon, { memTotal: 256 << 20, kernelVersion: "", version: "bench" }));
const sock = join(dir, "docker.sock");
await server.listen({ kind: "unix", path: sock });
const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, "config") };

const viaSocket = async (args) => {
  const t = performance.now();
  await promisify(execFile)("docker", args, { env });
  return performance.now() - t;
};
/** One request on the socket, no CLI: the API's own time for GET /containers/json. */
const viaHttp = (path) => new Promise((resolve, reject) => {
  const t = performance.now();
  const req = request({ socketPath: sock, path }, (res) => {
    res.resume();
    res.on("end", () => resolve(performance.now() - t));
  });
  req.on("error", reject);
  req.end();
});
const inGuest = async (script) => {
  const t = performance.now();
  let err = "";
  const code = await e.vm.channel.exec({ argv: ["/bin/sh", "-c", script], env: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"] }, { onStderr: (b) => (err += new TextDecoder().decode(b)) }).exit;
  if (code !== 0) throw new Error(`${script} exited ${code}: ${err}`);
  return performance.now() - t;
};
const measure = async (name, f, target) => {
  for (let i = 0; i < WARMUP; i++) await f();
  const xs = [];
  for (let i = 0; i < RUNS; i++) xs.push(await f());
  return report(name, xs, target);
};

console.log(`## Node ${process.version}, one engine: the socket (docker CLI) and the guest's docker (${RUNS} runs each after ${WARMUP} warm-up)`);
await viaSocket(["pull", "-q", img]);
await viaSocket(["run", "-d", "--name", "bench-sleeper", img, "sleep", "100000"]);
const psSocket = await measure("docker ps, through the socket", () => viaSocket(["ps"]), 30);
const psHttp = await measure("GET /containers/json, one request (no CLI)", () => viaHttp("/v1.47/containers/json"), 30);
const psGuest = await measure("docker ps, in the guest", () => inGuest("docker ps >/dev/null"));
const runSocket = await measure("docker run --rm busybox true, socket", () => viaSocket(["run", "--rm", img, "true"]));
const runGuest = await measure("docker run --rm busybox true, guest", () => inGuest(`docker run --rm ${img} true`));
const execSocket = await measure("docker exec <c> true, through the socket", () => viaSocket(["exec", "bench-sleeper", "true"]));
const execGuest = await measure("docker exec <c> true, in the guest", () => inGuest("docker exec bench-sleeper true"));
const noop = await measure("docker version (CLI start + a request)", () => viaSocket(["version"]));
const diff = (a, b) => Math.round(a.median - b.median);
console.log(`${"run: socket minus guest".padEnd(44)} ${diff(runSocket, runGuest)} ms  target ≤ 50 ms: ${diff(runSocket, runGuest) <= 50 ? "met" : "NOT met"}`);
console.log(`${"ps: socket minus guest".padEnd(44)} ${diff(psSocket, psGuest)} ms`);
console.log(`${"exec: socket minus guest".padEnd(44)} ${diff(execSocket, execGuest)} ms`);
console.log(`${"docker version (the CLI's own floor)".padEnd(44)} ${Math.round(noop.median)} ms`);
console.log(`${"ps: the API's share (one request)".padEnd(44)} ${Math.round(psHttp.median)} ms`);
await server.close();
await e.stop();
await registry.stop();
await rm(dir, { recursive: true, force: true });
