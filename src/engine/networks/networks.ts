import { labelMatch } from "../daemon/container-list.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { contains, formatIpv4, formatPrefix, lastAddress, masked, overlaps, parseIpv4, parsePrefix, type Prefix } from "../../common/ipv4.js";
import { randomId } from "../random-id.js";
import type { Container, ContainerService } from "../containers/containers.js";

/**
 * Docker's container networks inside the VM: a Linux bridge per network
 * (`bridge` is docker0, 172.17.0.0/16), a veth per container moved into its
 * network namespace, addresses handed out in order. On user-defined networks
 * containers find each other by name, alias and short ID: each container's
 * /etc/hosts (a bind-mounted file in its bundle) is rewritten as peers come
 * and go. What leaves the VM through its NIC is masqueraded (berth-nat).
 */
export interface Network {
  id: string;
  name: string;
  driver: "bridge" | "host" | "null";
  /** the guest's bridge device */
  bridge: string;
  /** "172.18.0.0/16"; "" for host and none */
  subnet: string;
  /** the subnet as a number and length */
  prefix: Prefix;
  gateway: string;
  /** --ip-range: where addresses are handed out ("" : the whole subnet) */
  ipRange: string;
  /** the subnet was given (--subnet): only then may a container ask for its address (--ip), as Docker's rule */
  userSubnet: boolean;
  created: number;
  labels: Record<string, string>;
  internal: boolean;
  /** container ID -> its address and aliases here */
  endpoints: Map<string, { ip: string; aliases: string[]; mac: string }>;
  /** the guest has the bridge */
  up: boolean;
  /** where the next address is looked for (Docker hands them out in turn, not the lowest free) */
  next: number;
}

/** A user's network as the daemon's state keeps it (no endpoints, no bridge: made again as containers join). */
export type NetworkRecord = Pick<Network, "id" | "name" | "subnet" | "gateway" | "ipRange" | "userSubnet" | "created" | "labels" | "internal">;

/** Every network as it is in a running VM (endpoints, bridges made), kept with a saved session. */
export interface NetworkSession {
  networks: Array<Omit<Network, "endpoints"> & { endpoints: Array<[string, { ip: string; aliases: string[]; mac: string }]> }>;
  nextSubnet: number;
  nat: boolean;
}

/** What `docker network create` asks for (--subnet, --gateway, --ip-range, --label, --internal, --driver). */
export interface NetworkOptions {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  labels?: Record<string, string>;
  internal?: boolean;
  driver?: string;
}

export class NetworkService {
  readonly #containers: ContainerService;
  readonly #networks = new Map<string, Network>();
  #nextSubnet = 18;
  #nat = false;

  constructor(containers: ContainerService) {
    this.#containers = containers;
    this.#add({ name: "bridge", driver: "bridge", bridge: "docker0", subnet: "172.17.0.0/16", userSubnet: false });
    this.#add({ name: "host", driver: "host", bridge: "", subnet: "" });
    this.#add({ name: "none", driver: "null", bridge: "", subnet: "" });
  }

  #add(o: { name: string; driver: Network["driver"]; bridge: string; subnet: string; gateway?: string; ipRange?: string; userSubnet?: boolean; labels?: Record<string, string>; internal?: boolean }, given?: string): Network {
    const id = given ?? randomId();
    const prefix = o.subnet ? masked(parsePrefix(o.subnet)!) : { addr: 0, bits: 0 };
    const range = o.ipRange ? masked(parsePrefix(o.ipRange)!) : prefix;
    const n: Network = {
      id, name: o.name, driver: o.driver, bridge: o.bridge || `br-${id.slice(0, 12)}`, subnet: o.subnet, prefix,
      gateway: o.gateway ?? (o.subnet ? formatIpv4(prefix.addr + 1) : ""), ipRange: o.ipRange ?? "", userSubnet: o.userSubnet ?? false,
      created: Date.now(), labels: o.labels ?? {}, internal: o.internal ?? false, endpoints: new Map(), up: false, next: range.addr,
    };
    this.#networks.set(id, n);
    return n;
  }

  list(): Network[] {
    return [...this.#networks.values()];
  }

  /** The user's networks as kept in the daemon's state (no endpoints: containers join again when they start). */
  records(): NetworkRecord[] {
    return this.list().filter((n) => n.driver === "bridge" && n.name !== "bridge").map((n) => ({
      id: n.id, name: n.name, subnet: n.subnet, gateway: n.gateway, ipRange: n.ipRange, userSubnet: n.userSubnet, created: n.created, labels: n.labels, internal: n.internal,
    }));
  }

  /** Puts back a network kept by an earlier engine (its bridge is made when a container first joins it). */
  restore(r: NetworkRecord): void {
    if (this.list().some((x) => x.name === r.name || x.id === r.id)) return;
    const n = this.#add({ name: r.name, driver: "bridge", bridge: "", subnet: r.subnet, gateway: r.gateway, ipRange: r.ipRange, userSubnet: r.userSubnet, labels: r.labels, internal: r.internal }, r.id);
    n.created = r.created;
  }

  /** The networks now, with their endpoints and bridges, for a saved session. */
  session(): NetworkSession {
    return { networks: this.list().map((n) => ({ ...n, endpoints: [...n.endpoints] })), nextSubnet: this.#nextSubnet, nat: this.#nat };
  }

  /** Takes over the networks of a restored VM (its bridges, veths and NAT are there): they replace any put back by restore(). */
  adoptSession(s: NetworkSession): void {
    this.#networks.clear();
    for (const n of s.networks) this.#networks.set(n.id, { ...n, endpoints: new Map(n.endpoints) });
    this.#nextSubnet = s.nextSubnet;
    this.#nat = s.nat;
  }

  /** Publishes a network event (create, destroy, connect, disconnect) with Docker's attributes. */
  #event(n: Network, action: string, c?: Container): void {
    this.#containers.events.publish("network", action, n.id, { ...(c ? { container: c.id } : {}), name: n.name, type: n.driver });
  }

  find(ref: string): Network {
    const all = this.list();
    const n = all.find((x) => x.id === ref) ?? all.find((x) => x.name === ref) ?? (() => {
      const byPrefix = all.filter((x) => x.id.startsWith(ref));
      return byPrefix.length === 1 ? byPrefix[0] : undefined;
    })();
    if (!n) throw new BerthError(ErrorCode.networkNotFound, `Cannot find network "${ref}": network ${ref} not found`);
    return n;
  }

  /**
   * `docker network create`: a bridge network with its subnet (given, or the
   * next free 172.N.0.0/16), gateway (given, or the subnet's first address) and
   * the range addresses are handed out from (--ip-range).
   * @throws BerthError name-in-use; invalid-parameter in Docker's words ("invalid network config:\ninvalid subnet …", "Pool overlaps with other one on this address space")
   */
  create(name: string, o: NetworkOptions): Network {
    const fail = (why: string): BerthError => new BerthError(ErrorCode.invalidParameter, `Cannot create network "${name}": ${why}`);
    if (this.list().some((x) => x.name === name)) throw new BerthError(ErrorCode.nameInUse, `Cannot create network "${name}": network with name ${name} already exists`);
    if (o.driver && o.driver !== "bridge") throw fail(`plugin "${o.driver}" not found (Berth has the bridge driver)`);
    if ((o.gateway || o.ipRange) && !o.subnet) throw fail("every ip-range or gateway must have a corresponding subnet");
    let subnet = o.subnet;
    if (subnet) {
      const errs = ipamErrors(subnet, o);
      if (errs.length) throw fail(`invalid network config:\n${errs.join("\n")}`);
      const p = parsePrefix(subnet)!;
      if (this.list().some((x) => x.subnet && overlaps(x.prefix, p))) throw fail("invalid pool request: Pool overlaps with other one on this address space");
    } else {
      while (this.list().some((x) => x.subnet && overlaps(x.prefix, parsePrefix(`172.${this.#nextSubnet}.0.0/16`)!))) this.#nextSubnet++;
      subnet = `172.${this.#nextSubnet++}.0.0/16`;
    }
    const n = this.#add({
      name, driver: "bridge", bridge: "", subnet, userSubnet: o.subnet !== undefined, ...(o.gateway ? { gateway: o.gateway } : {}), ...(o.ipRange ? { ipRange: o.ipRange } : {}),
      ...(o.labels ? { labels: o.labels } : {}), ...(o.internal ? { internal: true } : {}),
    });
    this.#event(n, "create");
    return n;
  }

  async remove(n: Network): Promise<void> {
    if (n.driver !== "bridge" || n.name === "bridge") throw new BerthError(ErrorCode.invalidParameter, `Cannot remove network "${n.name}": ${n.name} is a pre-defined network and cannot be removed`);
    if (n.endpoints.size) throw new BerthError(ErrorCode.containerWrongState, `Cannot remove network "${n.name}": error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    this.#networks.delete(n.id);
    this.#event(n, "destroy");
    if (n.up) await this.#sh(`ip link del "$1"`, [n.bridge]);
  }

  /** The networks a container is on (Docker keeps them in the container's config). */
  of(c: Container): Network[] {
    return c.hostConfig.networks.map((name) => this.find(name)).filter((n) => n.driver === "bridge");
  }

  /**
   * After `crun create` (its namespace exists) and before `crun start`: a veth
   * per network into the container, addresses, the default route through the
   * first network's gateway, and every /etc/hosts on those networks updated.
   */
  async attach(c: Container, only?: Network[]): Promise<void> {
    const all = this.of(c);
    const nets = only ?? all;
    if (nets.length === 0) return;
    const lines: string[] = ['{ read -r pid < "$1/pid" || [ -n "$pid" ]; }'];
    nets.forEach((n) => {
      const i = all.indexOf(n);
      const ep = n.endpoints.get(c.id) ?? { ip: this.#address(n, c), aliases: [], mac: (i === 0 && c.hostConfig.macAddress) || `02:42:${Array.from(crypto.getRandomValues(new Uint8Array(4)), (x) => x.toString(16).padStart(2, "0")).join(":")}` };
      ep.aliases = [...new Set([...ep.aliases, ...(c.hostConfig.aliases[n.name] ?? [])])];
      n.endpoints.set(c.id, ep);
      if (!n.up) lines.push(`{ ip link show ${n.bridge} >/dev/null 2>&1 || { ip link add ${n.bridge} type bridge && ip addr add ${n.gateway}/${n.prefix.bits} dev ${n.bridge} && ip link set ${n.bridge} up; }; }`);
      // Docker's NAT out of the VM, once, when there is a NIC: rootfs/agent/nat.c
      if (!this.#nat && !n.internal) {
        lines.push("{ [ ! -e /sys/class/net/eth0 ] || berth-nat eth0; }");
        this.#nat = true;
      }
      n.up = true;
      // the pair made with its peer in the container's namespace, addressed and routed: rootfs/agent/veth.c
      lines.push(`berth-veth "$pid" ${n.bridge} v${c.id.slice(0, 9)}${i} eth${i} ${ep.mac} ${ep.ip}/${n.prefix.bits}${i === 0 ? ` ${n.gateway}` : ""}`);
    });
    // its own /etc/hosts in the same go (in place: the file is bind-mounted)
    lines.push('printf %s "$2" > "$1/hosts"');
    const r = await this.#sh(lines.join(" && \\\n"), [c.bundle, this.hostsFile(c)]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": cannot connect it to its network: ${r.stderr.trim()}`);
    for (const n of nets) this.#event(n, "connect", c);
    await this.refreshHosts(nets, c);
  }

  /** `docker network connect`: on the network from now (and at its next starts). */
  async connect(n: Network, c: Container, aliases: string[], ip?: string): Promise<void> {
    if (ip) {
      const bad = staticAddressError(n, ip);
      if (bad) throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": invalid endpoint settings:\n${bad}`);
    }
    if (n.driver !== "bridge") throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": container cannot be disconnected from host network or connected to host network`);
    if (c.hostConfig.networks.includes(n.name)) throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": endpoint with name ${c.name} already exists in network ${n.name}`);
    if (c.hostConfig.networkMode === "host" || c.hostConfig.networkMode === "none") throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": container sharing network namespace with another container or host cannot be connected to any other network`);
    c.hostConfig.networks.push(n.name);
    if (aliases.length) c.hostConfig.aliases[n.name] = aliases;
    if (ip) c.hostConfig.staticIps = { ...c.hostConfig.staticIps, [n.name]: ip };
    if (c.state.status === "running") await this.attach(c, [n]);
  }

  /** `docker network disconnect`: off the network now and after. */
  async disconnect(n: Network, c: Container): Promise<void> {
    const i = c.hostConfig.networks.indexOf(n.name);
    if (i < 0) throw new BerthError(ErrorCode.invalidParameter, `Cannot disconnect "${c.name}" from "${n.name}": container ${c.id} is not connected to network ${n.name}`);
    if (c.state.status === "running") await this.#sh('nsenter -t "$(cat "$1/pid")" -n ip link del "$2"', [c.bundle, `eth${this.of(c).indexOf(n)}`]);
    c.hostConfig.networks.splice(i, 1);
    n.endpoints.delete(c.id);
    this.#event(n, "disconnect", c);
    await this.refreshHosts([n, ...this.of(c)]);
    // its own file too: the peers on that network are gone from it
    await this.#writeHosts(c);
  }

  /** The container stopped: its addresses are kept (Docker gives them back at the next start), its veths went with its namespace. */
  async detach(c: Container, o: { forget?: boolean } = {}): Promise<void> {
    const nets = this.of(c);
    if (!o.forget) for (const n of nets) this.#event(n, "disconnect", c);
    if (o.forget) for (const n of nets) n.endpoints.delete(c.id);
    await this.refreshHosts(nets);
  }

  /** /etc/hosts for a container: itself, then (on user-defined networks) every running peer by name, aliases and short ID. */
  hostsFile(c: Container): string {
    const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
    const mine = this.of(c);
    const first = mine[0]?.endpoints.get(c.id);
    if (first) lines.push(`${first.ip}\t${c.config.hostname}`);
    for (const n of mine) {
      if (n.name === "bridge") continue;
      for (const [id, ep] of n.endpoints) {
        const peer = this.#containers.tryFind(id);
        if (!peer || peer.id === c.id || peer.state.status !== "running") continue;
        lines.push(`${ep.ip}\t${[peer.name, ...ep.aliases, peer.shortId].join(" ")}`);
      }
    }
    for (const l of c.hostConfig.links) {
      const peer = this.#containers.tryFind(l.name);
      const ep = peer ? mine.map((n) => n.endpoints.get(peer.id)).find(Boolean) : undefined;
      if (peer && ep) lines.push(`${ep.ip}\t${[l.alias, peer.name, peer.shortId].join(" ")}`);
    }
    for (const h of c.hostConfig.extraHosts) lines.push(h);
    return `${lines.join("\n")}\n`;
  }

  /**
   * Rewrites /etc/hosts of the running containers on these user-defined
   * networks (the default bridge resolves no names), in place: the file is
   * bind-mounted. `except` has just written its own.
   */
  async refreshHosts(nets: Network[], except?: Container): Promise<void> {
    const ids = new Set(nets.filter((n) => n.name !== "bridge").flatMap((n) => [...n.endpoints.keys()]));
    if (except) ids.delete(except.id);
    for (const id of ids) {
      const c = this.#containers.tryFind(id);
      if (c) await this.#writeHosts(c);
    }
  }

  /** A container's /etc/hosts, rewritten in place (`cat >`: the file is bind-mounted, a new inode would not be seen). */
  async #writeHosts(c: Container): Promise<void> {
    if (!c.mounted) return;
    await this.#containers.guest(["/bin/sh", "-c", 'cat > "$1"', "hosts", `${c.bundle}/hosts`], { stdin: new TextEncoder().encode(this.hostsFile(c)) });
  }

  /**
   * The container's address on `n`: the one it asked for (--ip; "Address
   * already in use" when another endpoint has it), or the next free one of the
   * network's range, in turn (not the network's, gateway's or broadcast address).
   * @throws BerthError container-start-failed when taken or the range is full
   */
  #address(n: Network, c: Container): string {
    const used = new Set([...n.endpoints.values()].map((e) => e.ip));
    const wanted = c.hostConfig.staticIps?.[n.name];
    if (wanted) {
      if (used.has(wanted)) throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": Address already in use`);
      return wanted;
    }
    const range = n.ipRange ? masked(parsePrefix(n.ipRange)!) : n.prefix;
    const first = range.addr;
    const size = lastAddress(range) - first + 1;
    const reserved = new Set([n.prefix.addr, lastAddress(n.prefix), parseIpv4(n.gateway)]);
    for (let k = 0; k < size; k++) {
      const ip = first + ((n.next - first + k) % size);
      if (reserved.has(ip) || used.has(formatIpv4(ip))) continue;
      n.next = ip + 1;
      return formatIpv4(ip);
    }
    throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`);
  }

  async #sh(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
    return this.#containers.guest(["/bin/sh", "-c", script, "net", ...args]);
  }
}

/** moby's ValidateIPAM words for a subnet, its gateway and ip-range (api/types/network/ipam.go), IPv4 only. */
export function ipamErrors(subnet: string, o: { gateway?: string; ipRange?: string }): string[] {
  const p = parsePrefix(subnet);
  if (!p) return [subnet.includes(":") ? `invalid subnet ${subnet}: Berth's networks are IPv4 only` : `invalid subnet ${subnet}: invalid CIDR block notation`];
  const errs: string[] = [];
  if (masked(p).addr !== p.addr) errs.push(`invalid subnet ${subnet}: it should be ${formatPrefix(masked(p))}`);
  if (o.ipRange) {
    const r = parsePrefix(o.ipRange);
    if (!r) errs.push(`invalid ip-range ${o.ipRange}: invalid CIDR block notation`);
    else {
      if (r.bits < p.bits) errs.push(`invalid ip-range ${o.ipRange}: CIDR block is bigger than its parent subnet ${subnet}`);
      if (masked(r).addr !== r.addr) errs.push(`invalid ip-range ${o.ipRange}: it should be ${formatPrefix(masked(r))}`);
      if (!overlaps(p, r)) errs.push(`invalid ip-range ${o.ipRange}: parent subnet ${subnet} doesn't contain ip-range`);
    }
  }
  if (o.gateway) {
    const g = parseIpv4(o.gateway);
    if (g === undefined) errs.push(`invalid gateway ${o.gateway}: invalid address`);
    else if (!contains(p, g)) errs.push(`invalid gateway ${o.gateway}: parent subnet ${subnet} doesn't contain this address`);
  }
  return errs;
}

/** moby's words for an address a container asks for on `n` (api/types/network/endpoint.go), or undefined when it may have it. */
export function staticAddressError(n: Network, ip: string): string | undefined {
  // moby daemon/network.go validateEndpointSettings, then api/types/network/endpoint.go
  if (n.name === "bridge") return "user specified IP address is supported on user defined networks only";
  if (!n.userSubnet) return "user specified IP address is supported only when connecting to networks with user configured subnets";
  const a = parseIpv4(ip);
  if (a === undefined) return `invalid IPv4 address: ${ip}`;
  const range = n.ipRange ? parsePrefix(n.ipRange)! : n.prefix;
  return contains(n.prefix, a) && contains(range, a) ? undefined : `no configured subnet or ip-range contain the IP address ${ip}`;
}

/** The keys of `docker network ls --filter` and `GET /networks` (moby daemon/network/filter.go). */
const NETWORK_FILTERS: Record<string, (n: Network, v: string) => boolean> = {
  name: (n, v) => n.name.includes(v),
  id: (n, v) => n.id.startsWith(v),
  driver: (n, v) => n.driver === v,
  label: (n, v) => labelMatch(n.labels, v),
  type: (n, v) => (v === "builtin") === ["bridge", "host", "none"].includes(n.name),
  scope: (_n, v) => v === "local",
  dangling: (n, v) => (v === "true" || v === "1") === (n.endpoints.size === 0 && !["bridge", "host", "none"].includes(n.name)),
};

/**
 * Networks by Docker's filters: one key's values OR'ed (every label must
 * match, moby's MatchKVList), keys AND'ed.
 * @throws BerthError invalid-parameter "invalid filter 'x'"; type other than custom/builtin, dangling other than a bool
 */
export function listNetworks(list: Network[], filters: Record<string, string[]>): Network[] {
  for (const [k, vs] of Object.entries(filters)) {
    if (!NETWORK_FILTERS[k]) throw new BerthError(ErrorCode.invalidParameter, `Cannot list networks: invalid filter '${k}'`);
    if (k === "type") for (const v of vs) if (v !== "custom" && v !== "builtin") throw new BerthError(ErrorCode.invalidParameter, `Cannot list networks: invalid filter: 'type'='${v}'`);
    if (k === "dangling") for (const v of vs) if (!["true", "false", "1", "0"].includes(v)) throw new BerthError(ErrorCode.invalidParameter, `Cannot list networks: invalid filter 'dangling=[${vs.join(" ")}]'`);
  }
  return list.filter((n) => Object.entries(filters).every(([k, vs]) => !vs.length || (k === "label" ? vs.every((v) => NETWORK_FILTERS[k]!(n, v)) : vs.some((v) => NETWORK_FILTERS[k]!(n, v)))));
}
