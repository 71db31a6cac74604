import { BERTH_VERSION } from "../../common/version.js";
import type { Daemon, SystemFacts } from "../daemon/daemon.js";
import type { Engine } from "../engine.js";
import { containerRoutes } from "./container-routes.js";
import { containerDataRoutes } from "./container-data-routes.js";
import { execRoutes } from "./exec-routes.js";
import { imageRoutes } from "./image-routes.js";
import { networkRoutes } from "./network-routes.js";
import { volumeRoutes } from "./volume-routes.js";
import { ApiRouter } from "./router.js";
import { systemRoutes } from "./system-routes.js";

/**
 * The Docker Engine API over a daemon: what `berth daemon`'s socket and the
 * page's `engine.api()` answer. Paths and bodies are Docker's (API 1.24–1.47).
 */
export function engineApi(d: Daemon, facts: SystemFacts): ApiRouter {
  return new ApiRouter([...systemRoutes(d, facts), ...containerRoutes(d), ...containerDataRoutes(d), ...execRoutes(d), ...imageRoutes(d), ...networkRoutes(d), ...volumeRoutes(d)]);
}

/**
 * The API of a started engine with its docker layer (`berth daemon`, the page's
 * `engine.api()`): the guest's kernel release is asked for once, here.
 */
export async function startedEngineApi(engine: Engine, memoryMB: number): Promise<ApiRouter> {
  if (!engine.daemon) throw new TypeError("the engine was started without its daemon");
  const docker = engine.daemon;
  const uname = await engine.run(["uname", "-r"]).catch(() => ({ stdout: "" }));
  return engineApi(docker, { memTotal: memoryMB * 1024 * 1024, kernelVersion: uname.stdout.trim(), version: BERTH_VERSION });
}
