import type { ContainerService } from "../containers/containers.js";
import type { Network } from "../networks/networks.js";

/** Docker's network inspect document (`GET /networks/{id}`, `docker network inspect`; moby api/types/network.Inspect). */
export function networkJson(d: { containers: ContainerService }, n: Network): Record<string, unknown> {
  return {
    Name: n.name, Id: n.id, Created: new Date(n.created).toISOString(), Scope: "local", Driver: n.driver, EnableIPv6: false,
    IPAM: { Driver: "default", Options: {}, Config: n.subnet ? [{ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), Gateway: n.gateway }] : [] },
    Internal: n.internal, Attachable: false, Ingress: false, ConfigFrom: { Network: "" }, ConfigOnly: false,
    Containers: Object.fromEntries([...n.endpoints].flatMap(([id, ep]) => {
      const c = d.containers.tryFind(id);
      return c ? [[id, { Name: c.name, EndpointID: id.slice(0, 64), MacAddress: ep.mac, IPv4Address: `${ep.ip}/${n.prefix.bits}`, IPv6Address: "" }]] : [];
    })),
    Options: n.name === "bridge" ? { "com.docker.network.bridge.name": n.bridge } : {}, Labels: n.labels,
  };
}
