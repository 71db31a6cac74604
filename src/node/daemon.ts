import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { startedEngineApi } from "../engine/api/engine-api.js";
import type { Engine } from "../engine/engine.js";
import { DaemonServer, type DaemonHost } from "./daemon-server.js";

/**
 * `berth daemon`: the engine's Docker Engine API on each of `hosts` until
 * SIGINT or SIGTERM; then the sockets are closed and removed and the VM stops.
 * The guest's `docker` keeps working on the same containers meanwhile.
 * @throws BerthError usage when an address cannot be listened on
 */
export async function runDaemon(engine: Engine, hosts: DaemonHost[], memoryMB: number): Promise<void> {
  await engine.daemon!.ready();
  const server = new DaemonServer(await startedEngineApi(engine, memoryMB));
  for (const h of hosts) {
    if (h.kind === "unix") mkdirSync(dirname(h.path), { recursive: true });
    const at = await server.listen(h);
    process.stderr.write(`berth: API listening on ${at}\n`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  await engine.stop().catch(() => {});
  process.exit(0);
}
