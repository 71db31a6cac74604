import { listNetworks } from "../networks/networks.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Daemon } from "../daemon/daemon.js";
import { networkJson } from "../daemon/network-inspect.js";
import { pruneNetworks } from "../daemon/prune.js";
import { empty, json } from "./api-types.js";
import { filtersParam } from "./container-routes.js";
import { jsonBody, route, type Route } from "./router.js";

/** `POST /networks/create`'s body (moby api/types/network.CreateRequest), the fields Berth reads. */
interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null } | null;
}

/** Engine API routes for networks: list (Docker's filters), inspect, create, remove, connect, disconnect, prune. */
export function networkRoutes(d: Daemon): Route[] {
  return [
    route("GET", "/networks", (req) => {
      const filters = filtersParam(req.query);
      const list = listNetworks(d.networks.list(), filters);
      return json(list.map((n) => networkJson(d, n)));
    }),
    route("GET", "/networks/{id}", (_req, [id]) => json(networkJson(d, d.networks.find(id!)))),
    route("POST", "/networks/create", (req) => {
      const body = jsonBody<NetworkCreateBody>(req);
      if (!body.Name) throw new BerthError(ErrorCode.invalidParameter, "Cannot create the network: network name must not be empty");
      const ipam = body.IPAM?.Config?.[0];
      if ((body.IPAM?.Config?.length ?? 0) > 1) throw new BerthError(ErrorCode.invalidParameter, "Cannot create the network: Berth's networks have one IPv4 subnet");
      const n = d.networks.create(body.Name, {
        ...(ipam?.Subnet ? { subnet: ipam.Subnet } : {}), ...(ipam?.Gateway ? { gateway: ipam.Gateway } : {}), ...(ipam?.IPRange ? { ipRange: ipam.IPRange } : {}),
        labels: body.Labels ?? {}, internal: body.Internal ?? false, ...(body.Driver ? { driver: body.Driver } : {}),
      });
      return json({ Id: n.id, Warning: "" }, 201);
    }),
    route("DELETE", "/networks/{id}", async (_req, [id]) => {
      await d.networks.remove(d.networks.find(id!));
      return empty();
    }),
    route("POST", "/networks/{id}/connect", async (req, [id]) => {
      const body = jsonBody<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null }>(req);
      await d.networks.connect(d.networks.find(id!), d.containers.find(body.Container ?? ""), body.EndpointConfig?.Aliases ?? [], body.EndpointConfig?.IPAMConfig?.IPv4Address || undefined);
      return empty(200);
    }),
    route("POST", "/networks/{id}/disconnect", async (req, [id]) => {
      const body = jsonBody<{ Container?: string }>(req);
      await d.networks.disconnect(d.networks.find(id!), d.containers.find(body.Container ?? ""));
      return empty(200);
    }),
    route("POST", "/networks/prune", async (req) => json({ NetworksDeleted: await pruneNetworks(d, filtersParam(req.query)) })),
  ];
}
