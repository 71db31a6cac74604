import type { Daemon, SystemFacts } from "../daemon/daemon.js";
import { containerRoutes } from "./container-routes.js";
import { execRoutes } from "./exec-routes.js";
import { imageRoutes } from "./image-routes.js";
import { networkRoutes } from "./network-routes.js";
import { ApiRouter } from "./router.js";
import { systemRoutes } from "./system-routes.js";

/**
 * The Docker Engine API over a daemon: what `berth daemon`'s socket and the
 * page's `engine.api()` answer. Paths and bodies are Docker's (API 1.24–1.47).
 */
export function engineApi(d: Daemon, facts: SystemFacts): ApiRouter {
  return new ApiRouter([...systemRoutes(d, facts), ...containerRoutes(d), ...execRoutes(d), ...imageRoutes(d), ...networkRoutes(d)]);
}
