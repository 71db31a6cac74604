import { DEFAULT_PATH_ENV } from "../../common/oci-spec.js";
import { runtimeOptions } from "./host-options.js";
import { staticAddressError } from "../networks/networks.js";
import { strSlice, type ContainerCreateBody } from "../../common/api/container-create.js";
import type { RestartPolicy } from "../../common/container-state.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { VALID_NAME } from "../../common/names.js";
import type { PortBinding } from "../../common/port-spec.js";
import type { Container, ContainerConfig, ContainerService, HostConfig } from "../containers/containers.js";
import type { ImageStore, LocalImage } from "../images/images.js";
import type { NetworkService } from "../networks/networks.js";
import type { VolumeService } from "../volumes/volumes.js";
import { populateVolumes, resolveMounts } from "./container-mounts.js";

/** What creating a container needs of the daemon's services. */
export interface CreateDeps {
  images: ImageStore;
  containers: ContainerService;
  networks: NetworkService;
  volumes: VolumeService;
  /** guest directories of an image's layers, top first (unpacked on first use) */
  layers(local: LocalImage): Promise<string[]>;
  /** a regular file of the image, or undefined */
  imageFile(local: LocalImage, path: string): Promise<Uint8Array | undefined>;
  /** the image's merged tree (paths without the leading "/"), to see whether the working directory exists */
  imageView?(local: LocalImage): Promise<ReadonlyMap<string, unknown>>;
}

export interface CreateResult {
  container: Container;
  /** Docker's create warnings (the CLI prints each as "WARNING: …") */
  warnings: string[];
}

/** HostConfig fields kept as given for inspect (the rest are read into HostConfig's own fields). */
const GIVEN = [
  "Ulimits", "Sysctls", "GroupAdd", "MemoryReservation", "OomKillDisable", "PidMode", "IpcMode", "UTSMode", "CgroupnsMode", "UsernsMode", "ShmSize",
  "CpusetCpus", "CpusetMems", "Runtime", "Isolation", "LogConfig", "Devices", "CpuPeriod", "CpuQuota", "OomScoreAdj", "MemorySwappiness",
  "BlkioWeight", "Annotations", "Binds", "Mounts", "VolumesFrom", "VolumeDriver",
] as const;

const SECURITY_OPT = /^(no-new-privileges(=true|:true|=false|:false)?|seccomp[=:]unconfined|apparmor[=:]unconfined|label[=:]disable)$/;
const dec = new TextDecoder();

/**
 * Creates a container from Docker's create body: the operation behind
 * `POST /containers/create` and the guest's `docker create`/`run`. The image
 * must be held already (Docker's daemon does not pull on create; its CLI
 * does). The image's config fills what the body leaves out, as Docker's does
 * (Cmd is dropped when Entrypoint is given; Env entries of the body win).
 *
 * @param o.name the container's name (none: a generated one)
 * @param o.action the verb for error messages ("create", "run")
 * @throws BerthError image-not-found ("No such image: X"), network-not-found,
 *   container-not-found (a link or `container:` network), name-in-use, and
 *   usage for what Docker's daemon refuses (bad names, limits, options)
 */
export async function createContainer(d: CreateDeps, body: ContainerCreateBody, o: { name?: string; action?: string } = {}): Promise<CreateResult> {
  const fail = (why: string): BerthError => new BerthError(ErrorCode.invalidParameter, `Cannot ${o.action ?? "create"} the container: ${why}`);
  const h = body.HostConfig ?? {};
  if (o.name !== undefined) checkContainerName(o.name, o.action);
  const name = o.name?.replace(/^\//, "");

  const mode = h.NetworkMode ?? "default";
  const joins = mode.startsWith("container:") ? d.containers.find(mode.slice("container:".length)) : undefined;
  const net = d.networks.find(mode === "default" || joins ? "bridge" : mode); // network-not-found, in Docker's words
  const ports = portBindings(h.PortBindings);
  if (joins && (ports.length || h.PublishAllPorts || body.Hostname || h.Dns?.length || h.DnsSearch?.length || h.DnsOptions?.length || h.ExtraHosts?.length)) {
    throw fail("conflicting options: publish, hostname, dns and add-host cannot be used with --network container:");
  }
  if (net.driver !== "bridge" && !joins && (ports.length || h.PublishAllPorts)) throw fail("published ports are discarded when using host network mode or none");
  const endpoint = Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {}).find(([k]) => k === net.name || k === mode)?.[1];
  const aliases = endpoint?.Aliases ?? [];
  if (aliases.length && (net.name === "bridge" || net.driver !== "bridge")) throw fail("network-scoped alias is supported only for containers in user defined networks");
  // --ip and --mac-address, checked as Docker's daemon does (daemon/create.go: "invalid config for network N: invalid endpoint settings: …")
  const staticIp = endpoint?.IPAMConfig?.IPv4Address ?? "";
  if (staticIp) {
    const bad = net.driver === "bridge" ? staticAddressError(net, staticIp) : "user specified IP address is supported on user defined networks only";
    if (bad) throw fail(`invalid config for network ${net.name}: invalid endpoint settings:\n${bad}`);
  }
  const mac = endpoint?.MacAddress || body.MacAddress || "";
  if (mac && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw fail(`invalid MAC address: ${mac}`);

  const restartPolicy = restartOf(h.RestartPolicy, fail);
  if (h.AutoRemove && restartPolicy.name !== "no") throw fail("can't create 'AutoRemove' container with restart policy");
  const memory = h.Memory ?? 0;
  if (memory && memory < 6 * 1024 * 1024) throw fail("Minimum memory limit allowed is 6MB");
  const memorySwap = h.MemorySwap ?? 0;
  if (memorySwap > 0 && memorySwap < memory) throw fail("Minimum memoryswap limit should be larger than memory limit, see usage");
  const warnings: string[] = [];
  // the guest kernel has no swap (CONFIG_SWAP off), as Docker says of such hosts
  if (memorySwap !== 0) warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.");
  for (const dest of Object.keys(h.Tmpfs ?? {})) {
    if (!dest.startsWith("/")) throw fail(`invalid mount path: '${dest}' mount path must be absolute`);
  }
  for (const opt of h.SecurityOpt ?? []) if (!SECURITY_OPT.test(opt)) throw fail(`invalid --security-opt: "${opt}"`);
  const links = (h.Links ?? []).map((l) => {
    const [linked, alias] = l.split(":") as [string, string?];
    d.containers.find(linked);
    return { name: linked.replace(/^\//, ""), alias: alias?.replace(/^.*\//, "") ?? linked };
  });

  const local = d.images.find(body.Image);
  if (!local) throw new BerthError(ErrorCode.imageNotFound, `Cannot ${o.action ?? "create"} the container: No such image: ${body.Image}`);
  const ic = local.image.config.config ?? {};
  const groups = h.GroupAdd?.some((g) => !/^\d+$/.test(g)) ? dec.decode((await d.imageFile(local, "etc/group")) ?? new Uint8Array()).split("\n").map((l) => l.split(":")) : [];
  const runtime = runtimeOptions(body, { fail, warnings, group: (n) => { const g = groups.find((f) => f[0] === n); return g ? Number(g[2]) : undefined; } });
  const entrypoint = strSlice(body.Entrypoint);
  const cmd = strSlice(body.Cmd);
  const userSpec = body.User || ic.User || "";
  const config: ContainerConfig = {
    image: body.Image,
    imageId: local.id,
    layers: await d.layers(local),
    entrypoint: entrypoint !== undefined ? entrypoint.filter((x, i) => i > 0 || x !== "") : ic.Entrypoint ?? [],
    cmd: cmd?.length ? cmd : entrypoint !== undefined ? [] : ic.Cmd ?? [],
    env: mergeEnv(ic.Env ?? [DEFAULT_PATH_ENV], body.Env ?? []),
    workingDir: body.WorkingDir || ic.WorkingDir || "",
    user: userSpec,
    ...(await resolveUser(d, local, userSpec, fail)),
    hostname: "",
    labels: { ...(ic.Labels ?? {}), ...(body.Labels ?? {}) },
    tty: body.Tty ?? false,
    openStdin: body.OpenStdin ?? false,
    stdinOnce: body.StdinOnce ?? false,
    stopSignal: body.StopSignal || ic.StopSignal || "SIGTERM",
    stopTimeout: body.StopTimeout ?? undefined,
  };
  if (config.entrypoint.length + config.cmd.length === 0) throw fail("no command specified");
  if (config.workingDir && !config.workingDir.startsWith("/")) throw fail(`the working directory '${config.workingDir}' is invalid, it needs to be an absolute path`);
  // Docker makes a working directory the image has not got (in its init layer)
  const wd = config.workingDir.replace(/^\/+|\/+$/g, "");
  if (wd && d.imageView && !(await d.imageView(local)).has(wd)) config.createWorkdir = true;
  const host: HostConfig = {
    memory,
    memorySwap,
    nanoCpus: h.NanoCpus ?? 0,
    cpuShares: h.CpuShares ?? 0,
    pidsLimit: h.PidsLimit ?? 0,
    readonlyRootfs: h.ReadonlyRootfs ?? false,
    restartPolicy,
    autoRemove: h.AutoRemove ?? false,
    capAdd: h.CapAdd ?? [],
    capDrop: h.CapDrop ?? [],
    privileged: h.Privileged ?? false,
    securityOpt: h.SecurityOpt ?? [],
    init: h.Init ?? false,
    tmpfs: { ...(h.Tmpfs ?? {}) },
    networkMode: joins ? `container:${joins.id}` : net.driver === "host" ? "host" : net.driver === "null" ? "none" : net.name,
    networks: joins ? [] : net.driver === "bridge" ? [net.name] : [],
    aliases: aliases.length ? { [net.name]: aliases } : {},
    links,
    extraHosts: (h.ExtraHosts ?? []).map((e) => {
      const i = e.indexOf(":");
      const ip = e.slice(i + 1);
      return `${ip === "host-gateway" ? "172.17.0.1" : ip}\t${e.slice(0, i)}`;
    }),
    dns: h.Dns ?? [],
    ...(h.DnsSearch?.length ? { dnsSearch: h.DnsSearch } : {}),
    ...(h.DnsOptions?.length ? { dnsOptions: h.DnsOptions } : {}),
    portBindings: ports,
    publishAll: h.PublishAllPorts ?? false,
    exposed: [...new Set([...Object.keys(ic.ExposedPorts ?? {}), ...Object.keys(body.ExposedPorts ?? {})])],
    ...(staticIp ? { staticIps: { [net.name]: staticIp } } : {}),
    ...(mac ? { macAddress: mac.toLowerCase() } : {}),
    runtime,
    given: Object.fromEntries(GIVEN.flatMap((k) => (h[k] !== undefined && h[k] !== null ? [[k, h[k]]] : []))),
  };
  if (name !== undefined) d.containers.checkName(name);
  Object.assign(config, await resolveMounts(d, body, Object.keys(ic.Volumes ?? {}), fail));
  const c = d.containers.create(config, host, name);
  // Docker's default hostname is the short ID; with the host's network, the host's name
  config.hostname = body.Hostname || (host.networkMode === "host" ? "berth" : c.shortId);
  try {
    await populateVolumes(d, c);
  } catch (e) {
    await d.containers.remove(c, { force: true, volumes: true }).catch(() => {});
    throw e;
  }
  return { container: c, warnings };
}

/**
 * Docker's rule for container names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, a leading "/" allowed).
 * @throws BerthError usage "Invalid container name (…)"
 */
export function checkContainerName(name: string, action = "create"): void {
  if (!VALID_NAME.test(name)) throw new BerthError(ErrorCode.invalidParameter, `Cannot ${action} the container: Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}

function restartOf(p: { Name?: string; MaximumRetryCount?: number } | null | undefined, fail: (why: string) => BerthError): RestartPolicy {
  const name = p?.Name || "no";
  if (!["no", "always", "on-failure", "unless-stopped"].includes(name)) throw fail(`invalid restart policy '${name}'`);
  const count = p?.MaximumRetryCount ?? 0;
  if (count && name !== "on-failure") throw fail(`maximum retry count can only be used with 'on-failure'`);
  if (count < 0) throw fail("maximum retry count cannot be negative");
  return { name: name as RestartPolicy["name"], maximumRetryCount: count };
}

/** Docker's PortBindings map to one binding per port. */
function portBindings(pb: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, binds] of Object.entries(pb ?? {})) {
    const [port, proto = "tcp"] = key.split("/") as [string, string?];
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new BerthError(ErrorCode.invalidParameter, `Cannot publish "${key}": invalid containerPort: ${port}`);
    if (proto !== "tcp" && proto !== "udp") throw new BerthError(ErrorCode.invalidParameter, `Cannot publish "${key}": invalid proto: ${proto}`);
    for (const b of binds?.length ? binds : [{}]) {
      const hostPort = b.HostPort ? Number(b.HostPort) : 0;
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw new BerthError(ErrorCode.invalidParameter, `Cannot publish "${key}": invalid hostPort: ${b.HostPort}`);
      out.push({ hostIp: b.HostIp ?? "", hostPort, containerPort: Number(port), proto });
    }
  }
  return out;
}

/**
 * The container's Config.Env as Docker's daemon merges it (daemon/create.go
 * mergeAndVerifyConfig): the user's entries first, then the image's that the
 * user did not name. A user's "NAME" without "=" stays here and removes NAME
 * from the process's environment (runtimeEnv).
 */
function mergeEnv(image: string[], user: string[]): string[] {
  if (!user.length) return image;
  const named = new Set(user.map((e) => e.split("=")[0]!));
  return [...user, ...image.filter((e) => !named.has(e.split("=")[0]!))];
}

/** /etc/passwd and /etc/group lookups in the image, for a user given by name. */
export async function resolveUser(d: Pick<CreateDeps, "imageFile">, image: LocalImage, spec: string, fail: (why: string) => BerthError): Promise<{ uid: number; gid: number }> {
  if (!spec) return { uid: 0, gid: 0 };
  const [user, group] = spec.split(":") as [string, string?];
  const file = async (p: string): Promise<string[][]> => {
    const data = await d.imageFile(image, p);
    return data ? dec.decode(data).split("\n").filter(Boolean).map((l) => l.split(":")) : [];
  };
  const numeric = (s: string): boolean => /^\d+$/.test(s);
  const pw = numeric(user) ? (await file("etc/passwd")).find((f) => f[2] === user) : (await file("etc/passwd")).find((f) => f[0] === user);
  if (!pw && !numeric(user)) throw fail(`unable to find user ${user}: no matching entries in passwd file`);
  const uid = pw ? Number(pw[2]) : Number(user);
  let gid = pw ? Number(pw[3]) : 0;
  if (group !== undefined) {
    const gr = numeric(group) ? undefined : (await file("etc/group")).find((f) => f[0] === group);
    if (!gr && !numeric(group)) throw fail(`unable to find group ${group}: no matching entries in group file`);
    gid = gr ? Number(gr[2]) : Number(group);
  }
  return { uid, gid };
}
