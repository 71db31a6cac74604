import type { Daemon } from "../daemon/daemon.js";
import { listVolumes, pruneVolumes } from "../daemon/volume-ops.js";
import { boolParam, empty, json } from "./api-types.js";
import { filtersParam } from "./container-routes.js";
import { jsonBody, route, type Route } from "./router.js";

/** `POST /volumes/create`'s body (moby api/types/volume.CreateOptions). */
interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Engine API routes for volumes: list (Docker's filters), create, inspect, remove, prune. */
export function volumeRoutes(d: Daemon): Route[] {
  return [
    route("GET", "/volumes", (req) => json({ Volumes: listVolumes(d, filtersParam(req.query)).map((v) => d.volumes.doc(v)), Warnings: null })),
    route("POST", "/volumes/create", async (req) => {
      const body = jsonBody<VolumeCreateBody>(req);
      const v = await d.volumes.create(body.Name || undefined, { labels: body.Labels ?? {}, options: body.DriverOpts ?? {}, ...(body.Driver ? { driver: body.Driver } : {}) });
      return json(d.volumes.doc(v), 201);
    }),
    route("POST", "/volumes/prune", async (req) => json(await pruneVolumes(d, filtersParam(req.query)))),
    route("GET", "/volumes/{name}", (_req, [name]) => json(d.volumes.doc(d.volumes.get(name!)))),
    route("DELETE", "/volumes/{name}", async (req, [name]) => {
      // force: a missing volume is no error (moby's volume service)
      if (boolParam(req.query, "force") && !d.volumes.tryGet(name!)) return empty();
      await d.volumes.remove(name!);
      return empty();
    }),
  ];
}
