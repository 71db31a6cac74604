import { BerthError, ErrorCode } from "../../common/errors.js";
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
  subnet: string;
  gateway: string;
  created: number;
  labels: Record<string, string>;
  internal: boolean;
  /** container ID -> its address and aliases here */
  endpoints: Map<string, { ip: string; aliases: string[]; mac: string }>;
  /** the guest has the bridge */
  up: boolean;
  next: number;
}


const ipOf = (base: number[], n: number): string => [base[0], base[1], (n >> 8) & 255, n & 255].join(".");

export class NetworkService {
  readonly #containers: ContainerService;
  readonly #networks = new Map<string, Network>();
  #nextSubnet = 18;
  #nat = false;

  constructor(containers: ContainerService) {
    this.#containers = containers;
    this.#add({ name: "bridge", driver: "bridge", bridge: "docker0", subnet: "172.17.0.0/16" });
    this.#add({ name: "host", driver: "host", bridge: "", subnet: "" });
    this.#add({ name: "none", driver: "null", bridge: "", subnet: "" });
  }

  #add(o: { name: string; driver: Network["driver"]; bridge: string; subnet: string; labels?: Record<string, string>; internal?: boolean }): Network {
    const id = randomId();
    const [a, b] = o.subnet ? o.subnet.split(".").map(Number) : [0, 0];
    const n: Network = {
      id, name: o.name, driver: o.driver, bridge: o.bridge || `br-${id.slice(0, 12)}`, subnet: o.subnet, gateway: o.subnet ? `${a}.${b}.0.1` : "",
      created: Date.now(), labels: o.labels ?? {}, internal: o.internal ?? false, endpoints: new Map(), up: false, next: 2,
    };
    this.#networks.set(id, n);
    return n;
  }

  list(): Network[] {
    return [...this.#networks.values()];
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

  create(name: string, o: { subnet?: string; labels?: Record<string, string>; internal?: boolean; driver?: string }): Network {
    if (this.list().some((x) => x.name === name)) throw new BerthError(ErrorCode.nameInUse, `Cannot create network "${name}": network with name ${name} already exists`);
    if (o.driver && o.driver !== "bridge") throw new BerthError(ErrorCode.invalidParameter, `Cannot create network "${name}": plugin "${o.driver}" not found (Berth has the bridge driver)`);
    let subnet = o.subnet;
    if (subnet) {
      const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(subnet);
      if (!m) throw new BerthError(ErrorCode.invalidParameter, `Cannot create network "${name}": Berth takes a /16 subnet ending in .0.0 (e.g. 172.30.0.0/16), not "${subnet}"`);
      if (this.list().some((x) => x.subnet === subnet)) throw new BerthError(ErrorCode.invalidParameter, `Cannot create network "${name}": Pool overlaps with other one on this address space`);
    } else {
      while (this.list().some((x) => x.subnet === `172.${this.#nextSubnet}.0.0/16`)) this.#nextSubnet++;
      subnet = `172.${this.#nextSubnet++}.0.0/16`;
    }
    const n = this.#add({ name, driver: "bridge", bridge: "", subnet, ...(o.labels ? { labels: o.labels } : {}), ...(o.internal ? { internal: true } : {}) });
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
      const ep = n.endpoints.get(c.id) ?? { ip: ipOf(n.subnet.split(".").map(Number), n.next++), aliases: [], mac: `02:42:${Array.from(crypto.getRandomValues(new Uint8Array(4)), (x) => x.toString(16).padStart(2, "0")).join(":")}` };
      ep.aliases = [...new Set([...ep.aliases, ...(c.hostConfig.aliases[n.name] ?? [])])];
      n.endpoints.set(c.id, ep);
      if (!n.up) lines.push(`{ ip link show ${n.bridge} >/dev/null 2>&1 || { ip link add ${n.bridge} type bridge && ip addr add ${n.gateway}/16 dev ${n.bridge} && ip link set ${n.bridge} up; }; }`);
      // Docker's NAT out of the VM, once, when there is a NIC: rootfs/agent/nat.c
      if (!this.#nat && !n.internal) {
        lines.push("{ [ ! -e /sys/class/net/eth0 ] || berth-nat eth0; }");
        this.#nat = true;
      }
      n.up = true;
      // the pair made with its peer in the container's namespace, addressed and routed: rootfs/agent/veth.c
      lines.push(`berth-veth "$pid" ${n.bridge} v${c.id.slice(0, 9)}${i} eth${i} ${ep.mac} ${ep.ip}/16${i === 0 ? ` ${n.gateway}` : ""}`);
    });
    // its own /etc/hosts in the same go (in place: the file is bind-mounted)
    lines.push('printf %s "$2" > "$1/hosts"');
    const r = await this.#sh(lines.join(" && \\\n"), [c.bundle, this.hostsFile(c)]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": cannot connect it to its network: ${r.stderr.trim()}`);
    for (const n of nets) this.#event(n, "connect", c);
    await this.refreshHosts(nets, c);
  }

  /** `docker network connect`: on the network from now (and at its next starts). */
  async connect(n: Network, c: Container, aliases: string[]): Promise<void> {
    if (n.driver !== "bridge") throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": container cannot be disconnected from host network or connected to host network`);
    if (c.hostConfig.networks.includes(n.name)) throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": endpoint with name ${c.name} already exists in network ${n.name}`);
    if (c.hostConfig.networkMode === "host" || c.hostConfig.networkMode === "none") throw new BerthError(ErrorCode.invalidParameter, `Cannot connect "${c.name}" to "${n.name}": container sharing network namespace with another container or host cannot be connected to any other network`);
    c.hostConfig.networks.push(n.name);
    if (aliases.length) c.hostConfig.aliases[n.name] = aliases;
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

  async #sh(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
    return this.#containers.guest(["/bin/sh", "-c", script, "net", ...args]);
  }
}
