import { cleanPath, parseMountFlag, splitVolumeFlag, type Mount } from "./mounts.js";
import { commandName } from "../cli/cli-errors.js";
import { parseRestartPolicy } from "../container-state.js";
import { flagError, last, parseBytes, parseCpus, parseFlags, requireArgs, usageError, type FlagSpec } from "../docker-flags.js";
import { BerthError, ErrorCode } from "../errors.js";
import { parsePlatform, DEFAULT_PLATFORM, type Platform } from "../oci-image.js";
import { parsePublish } from "../port-spec.js";
import type { ContainerCreateBody, HostConfigBody } from "./container-create.js";

/** The flags of `docker run` and `docker create` (Docker 28's, those Berth reads). */
export const RUN_FLAGS: FlagSpec = {
  "d,detach": "bool", "i,interactive": "bool", "t,tty": "bool", rm: "bool", name: "value", "e,env": "value", "env-file": "value",
  "w,workdir": "value", "u,user": "value", entrypoint: "value", "h,hostname": "value", "read-only": "bool", "l,label": "value",
  restart: "value", "m,memory": "value", "memory-swap": "value", cpus: "value", "c,cpu-shares": "value", "pids-limit": "value",
  "cap-add": "value", "cap-drop": "value", privileged: "bool", "security-opt": "value", "stop-signal": "value",
  "stop-timeout": "value", init: "bool", pull: "value", platform: "value", "a,attach": "value", "sig-proxy": "bool",
  tmpfs: "value", network: "value", net: "value", "p,publish": "value", "P,publish-all": "bool", "v,volume": "value",
  mount: "value", "detach-keys": "value", "q,quiet": "bool", "network-alias": "value", "net-alias": "value", link: "value",
  "add-host": "value", dns: "value", "dns-search": "value", "dns-option": "value", "dns-opt": "value", ip: "value",
  expose: "value", device: "value", "cpuset-cpus": "value", "cpuset-mems": "value", ulimit: "value", "shm-size": "value", sysctl: "value",
  "group-add": "value", "memory-reservation": "value", "oom-kill-disable": "bool", pid: "value", ipc: "value", uts: "value", cidfile: "value",
  "label-file": "value", "log-driver": "value", "log-opt": "value", "health-cmd": "value", "health-interval": "value", "health-retries": "value",
  "health-timeout": "value", "health-start-period": "value", "health-start-interval": "value", "no-healthcheck": "bool", "mac-address": "value",
  runtime: "value", cgroupns: "value", userns: "value", isolation: "value", gpus: "value", domainname: "value",
  "cpu-period": "value", "cpu-quota": "value", "oom-score-adj": "value", "memory-swappiness": "value", "kernel-memory": "value",
  "blkio-weight": "value", "blkio-weight-device": "value", "device-read-bps": "value", "device-write-bps": "value", "device-read-iops": "value",
  "device-write-iops": "value", "cgroup-parent": "value", annotation: "value", "volumes-from": "value", "volume-driver": "value",
  "storage-opt": "value", "device-cgroup-rule": "value", "cpu-rt-period": "value", "cpu-rt-runtime": "value", "disable-content-trust": "bool",
};

/** "k=v" flag values (--label, --sysctl, --log-opt, …) as a map; "k" alone is k="" and a later k wins (docker/cli's ConvertKVStringsToMap). */
export function keyValues(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const [k, v = ""] = l.split(/=(.*)/s) as [string, string?];
    out[k] = v;
  }
  return out;
}

/** A Go duration ("30s", "1m30s") in nanoseconds (the flag's value is checked already). */
function durationNs(s: string | undefined): number {
  if (s === undefined) return 0;
  const unit: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let ns = 0;
  for (const m of s.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * unit[m[2]!]!;
  return Math.round(ns);
}

/** The names go-units' ParseUlimit knows (the CLI's --ulimit and the daemon's Ulimits check them). */
export const ULIMIT_TYPES = new Set(["as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"]);

/** `--ulimit nofile=1024[:2048]` (docker/cli opts.UlimitOpt, go-units ParseUlimit, and their words). */
function parseUlimit(v: string, cmd: string): { Name: string; Soft: number; Hard: number } {
  const bad = (why: string): BerthError => flagError(`invalid argument "${v}" for "--ulimit" flag: ${why}`, cmd);
  const eq = v.indexOf("=");
  if (eq < 0) throw bad(`invalid ulimit argument: ${v}`);
  const name = v.slice(0, eq);
  if (!ULIMIT_TYPES.has(name)) throw bad(`invalid ulimit type: ${name}`);
  const parts = v.slice(eq + 1).split(":");
  if (parts.length > 2) throw bad(`too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const [soft, hard] = parts.map((p) => {
    if (!/^[+-]?\d+$/.test(p)) throw bad(`strconv.ParseInt: parsing "${p}": invalid syntax`);
    return Number(p);
  }) as [number, number?];
  if (hard !== undefined && soft > hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard ?? soft };
}

/** `--gpus all|N|device=…` → Docker's DeviceRequests (cli/opts/gpus.go). */
function parseGpus(v: string): { Driver: string; Count: number; Capabilities: string[][] } {
  const count = v === "all" ? -1 : /^\d+$/.test(v) ? Number(v) : /(^|,)count=(all|\d+)/.exec(v)?.[2] === "all" ? -1 : Number(/(^|,)count=(\d+)/.exec(v)?.[2] ?? 0);
  return { Driver: /(^|,)driver=([^,]+)/.exec(v)?.[2] ?? "", Count: count, Capabilities: [["gpu"]] };
}

/**
 * `-e NAME` takes NAME from the client's environment; when the client has no
 * NAME, the entry stays "NAME" and the daemon removes NAME from the container
 * (the image's value too), as Docker's opts.ValidateEnv and the daemon's env
 * merge do.
 */
export function envValues(values: string[], clientEnv: readonly string[]): string[] {
  return values.map((v) => {
    if (v.includes("=")) return v;
    return clientEnv.find((e) => e.startsWith(`${v}=`)) ?? v;
  });
}

/** A `-e` value Docker's CLI refuses (pflag, via opts.ValidateEnv): an empty name. */
export function envError(v: string): string | undefined {
  return v.startsWith("=") || v === "" ? `invalid environment variable: ${v}` : undefined;
}

/** What `docker run`/`create` flags ask of the daemon and of the client. */
export interface RunRequest {
  /** `POST /containers/create`'s body (its Env without --env-file's lines: the client reads those) */
  body: ContainerCreateBody;
  /** every flag given, by long name */
  opts: Map<string, string[]>;
  /** bools set false explicitly (--sig-proxy=false) */
  negated: Set<string>;
  /** --name */
  name: string | undefined;
  /** --platform, or linux/386 */
  platform: Platform;
  /** --pull: "missing", "always" or "never" */
  pull: string;
}

/**
 * `docker run`/`docker create` arguments to Docker's create request, as the
 * docker CLI builds it (cli/command/container/opts.go): pure, so the guest's
 * CLI and the page's `run()` share it and tables test it.
 * @param clientEnv the client's environment, for `-e NAME` without a value
 * @param cmd the command path as typed ("run", "container create")
 * @throws BerthError usage (Docker's flag errors: bad values, conflicting options, missing IMAGE)
 */
export function parseRunArgs(cmd: string, args: string[], clientEnv: readonly string[]): RunRequest {
  const { opts, rest, negated } = parseFlags(args, RUN_FLAGS, cmd);
  for (const v of opts.get("env") ?? []) {
    const bad = envError(v);
    if (bad) throw flagError(`invalid argument "${v}" for "-e, --env" flag: ${bad}`, cmd);
  }
  requireArgs(rest, { min: 1 }, cmd);
  const extraHosts = (opts.get("add-host") ?? []).map((h) => {
    const m = /^([^:]+):(.+)$/.exec(h);
    if (!m || !/^(\d+\.\d+\.\d+\.\d+|[0-9a-fA-F:]+|host-gateway)$/.test(m[2]!)) throw usageError(`invalid argument "${h}" for "--add-host" flag: invalid IP address in add-host: "${m?.[2] ?? h}"`);
    return `${m[1]}:${m[2]}`;
  });
  if (opts.has("rm") && opts.has("restart") && last(opts, "restart") !== "no") throw usageError("conflicting options: cannot specify both --restart and --rm"); // Docker 28's words (cli/command/container/opts.go)
  const swap = last(opts, "memory-swap");
  const pids = last(opts, "pids-limit");
  const shares = last(opts, "cpu-shares");
  const stopTimeout = last(opts, "stop-timeout");
  const restart = parseRestartPolicy(last(opts, "restart") ?? "no");
  const tmpfs: Record<string, string> = {};
  for (const t of opts.get("tmpfs") ?? []) {
    const [dest, o = ""] = t.split(/:(.*)/s) as [string, string?];
    tmpfs[dest] = o;
  }
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const b of (opts.get("publish") ?? []).flatMap(parsePublish)) {
    (ports[`${b.containerPort}/${b.proto}`] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : "" });
  }
  const labels = keyValues(opts.get("label") ?? []);
  // docker/cli makes a bind source starting with "." absolute, from the client's directory
  const cwd = clientEnv.find((e) => e.startsWith("PWD="))?.slice(4) || "/";
  const volumes = volumeFlags(opts.get("volume") ?? [], cwd);
  const tty = opts.has("tty");
  const network = last(opts, "network") ?? last(opts, "net");
  const aliases = [...(opts.get("network-alias") ?? []), ...(opts.get("net-alias") ?? [])];
  const entry = last(opts, "entrypoint");
  const ip = last(opts, "ip");
  const mac = last(opts, "mac-address");
  const [imageName, ...command] = rest as [string, ...string[]];
  const body: ContainerCreateBody = {
    Image: imageName,
    ...(command.length ? { Cmd: command } : {}),
    ...(entry !== undefined ? { Entrypoint: [entry] } : {}),
    Env: envValues(opts.get("env") ?? [], clientEnv),
    WorkingDir: last(opts, "workdir") ?? "",
    User: last(opts, "user") ?? "",
    Hostname: last(opts, "hostname") ?? "",
    Labels: labels,
    Tty: tty,
    OpenStdin: opts.has("interactive"),
    // Docker's CLI: stdin given to an attached container closes with the client's (cli/command/container/opts.go)
    StdinOnce: opts.has("interactive") && !(commandName(cmd) === "run" && opts.has("detach")),
    StopSignal: last(opts, "stop-signal") ?? "",
    StopTimeout: stopTimeout === undefined ? null : Number(stopTimeout),
    HostConfig: {
      Memory: opts.has("memory") ? parseBytes(last(opts, "memory")!, "-m, --memory") : 0,
      MemorySwap: swap === undefined ? 0 : swap === "-1" ? -1 : parseBytes(swap, "--memory-swap"),
      NanoCpus: opts.has("cpus") ? parseCpus(last(opts, "cpus")!) : 0,
      CpuShares: shares === undefined ? 0 : Number(shares),
      PidsLimit: pids === undefined ? null : Number(pids),
      ReadonlyRootfs: opts.has("read-only"),
      RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount },
      AutoRemove: opts.has("rm"),
      CapAdd: opts.get("cap-add") ?? [],
      CapDrop: opts.get("cap-drop") ?? [],
      Privileged: opts.has("privileged"),
      SecurityOpt: opts.get("security-opt") ?? [],
      Init: opts.has("init"),
      Tmpfs: tmpfs,
      NetworkMode: network ?? "default",
      Links: opts.get("link") ?? [],
      ExtraHosts: extraHosts,
      Dns: opts.get("dns") ?? [],
      ...(opts.has("dns-search") ? { DnsSearch: opts.get("dns-search")! } : {}),
      ...(opts.has("dns-option") || opts.has("dns-opt") ? { DnsOptions: [...(opts.get("dns-option") ?? []), ...(opts.get("dns-opt") ?? [])] } : {}),
      PortBindings: ports,
      PublishAllPorts: opts.has("publish-all"),
      Binds: volumes.binds,
      Mounts: (opts.get("mount") ?? []).map((v) => {
        const m = parseMountFlag(v) as Mount;
        return m.Source?.startsWith(".") ? { ...m, Source: absolute(m.Source, cwd) } : m;
      }),
      ...runtimeFlags(opts, cmd),
    },
    ...(volumes.anonymous.length ? { Volumes: Object.fromEntries(volumes.anonymous.map((v) => [v, {}])) } : {}),
    ...(opts.has("expose") ? { ExposedPorts: Object.fromEntries((opts.get("expose") ?? []).flatMap((e) => exposed(e, cmd)).map((p) => [p, {}])) } : {}),
    ...(opts.has("mac-address") ? { MacAddress: last(opts, "mac-address")! } : {}),
    ...(opts.has("domainname") ? { Domainname: last(opts, "domainname")! } : {}),
    ...(healthcheck(opts) ? { Healthcheck: healthcheck(opts)! } : {}),
    ...(aliases.length || ip ? { NetworkingConfig: { EndpointsConfig: { [network ?? "default"]: { ...(aliases.length ? { Aliases: aliases } : {}), ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}) } } } } : {}),
  };
  if (mac !== undefined && !/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(mac)) throw usageError(`${mac} is not a valid mac address`);
  if (aliases.length && !network) throw new BerthError(ErrorCode.usage, `Cannot ${cmd} the container: network-scoped alias is supported only for containers in user defined networks`);
  const pull = last(opts, "pull") ?? "missing";
  if (!["missing", "always", "never"].includes(pull)) throw usageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  const p = last(opts, "platform");
  return { body, opts, negated, name: last(opts, "name"), platform: p ? parsePlatform(p) : DEFAULT_PLATFORM, pull };
}

/** `--expose 80`, `--expose 8000-8010/udp` → "80/tcp", … */
function exposed(e: string, cmd: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(e);
  if (!m) throw usageError(`invalid range format for --expose: ${e}, error: invalid port`);
  const out: string[] = [];
  for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) out.push(`${p}/${(m[3] ?? "tcp").toLowerCase()}`);
  void cmd;
  return out;
}

/** The --health-* flags → Config.Healthcheck (durations in ns), or undefined when none is given. */
function healthcheck(opts: Map<string, string[]>): ContainerCreateBody["Healthcheck"] | undefined {
  if (opts.has("no-healthcheck")) return { Test: ["NONE"] };
  const keys = ["health-cmd", "health-interval", "health-retries", "health-timeout", "health-start-period", "health-start-interval"];
  if (!keys.some((k) => opts.has(k))) return undefined;
  const cmd = last(opts, "health-cmd");
  return {
    ...(cmd !== undefined ? { Test: ["CMD-SHELL", cmd] } : {}),
    Interval: durationNs(last(opts, "health-interval")), Timeout: durationNs(last(opts, "health-timeout")),
    StartPeriod: durationNs(last(opts, "health-start-period")), StartInterval: durationNs(last(opts, "health-start-interval")),
    Retries: Number(last(opts, "health-retries") ?? 0),
  };
}

/** The runtime flags → HostConfig fields, as docker/cli's opts.go sends them (the daemon checks them: host-options.ts). */
function runtimeFlags(opts: Map<string, string[]>, cmd: string): Partial<HostConfigBody> {
  const one = (k: string): string | undefined => last(opts, k);
  const logOpts = keyValues(opts.get("log-opt") ?? []);
  return {
    ...(opts.has("ulimit") ? { Ulimits: opts.get("ulimit")!.map((u) => parseUlimit(u, cmd)) } : {}),
    ...(opts.has("sysctl") ? { Sysctls: keyValues(opts.get("sysctl")!) } : {}),
    ...(opts.has("group-add") ? { GroupAdd: opts.get("group-add")! } : {}),
    ...(opts.has("memory-reservation") ? { MemoryReservation: parseBytes(one("memory-reservation")!, "--memory-reservation") } : {}),
    ...(opts.has("oom-kill-disable") ? { OomKillDisable: true } : {}),
    ...(opts.has("pid") ? { PidMode: one("pid")! } : {}),
    ...(opts.has("ipc") ? { IpcMode: one("ipc")! } : {}),
    ...(opts.has("uts") ? { UTSMode: one("uts")! } : {}),
    ...(opts.has("cgroupns") ? { CgroupnsMode: one("cgroupns")! } : {}),
    ...(opts.has("userns") ? { UsernsMode: one("userns")! } : {}),
    ...(opts.has("shm-size") ? { ShmSize: parseBytes(one("shm-size")!, "--shm-size") } : {}),
    ...(opts.has("cpuset-cpus") ? { CpusetCpus: one("cpuset-cpus")! } : {}),
    ...(opts.has("cpuset-mems") ? { CpusetMems: one("cpuset-mems")! } : {}),
    ...(opts.has("runtime") ? { Runtime: one("runtime")! } : {}),
    ...(opts.has("isolation") ? { Isolation: one("isolation")! } : {}),
    ...(opts.has("log-driver") || opts.has("log-opt") ? { LogConfig: { Type: one("log-driver") ?? "", Config: logOpts } } : {}),
    ...(opts.has("cpu-period") ? { CpuPeriod: Number(one("cpu-period")) } : {}),
    ...(opts.has("cpu-quota") ? { CpuQuota: Number(one("cpu-quota")) } : {}),
    ...(opts.has("oom-score-adj") ? { OomScoreAdj: Number(one("oom-score-adj")) } : {}),
    ...(opts.has("memory-swappiness") ? { MemorySwappiness: Number(one("memory-swappiness")) } : {}),
    ...(opts.has("kernel-memory") ? { KernelMemory: parseBytes(one("kernel-memory")!, "--kernel-memory") } : {}),
    ...(opts.has("blkio-weight") ? { BlkioWeight: Number(one("blkio-weight")) } : {}),
    ...(opts.has("blkio-weight-device") ? { BlkioWeightDevice: opts.get("blkio-weight-device")! } : {}),
    ...(opts.has("device-read-bps") ? { BlkioDeviceReadBps: opts.get("device-read-bps")! } : {}),
    ...(opts.has("device-write-bps") ? { BlkioDeviceWriteBps: opts.get("device-write-bps")! } : {}),
    ...(opts.has("device-read-iops") ? { BlkioDeviceReadIOps: opts.get("device-read-iops")! } : {}),
    ...(opts.has("device-write-iops") ? { BlkioDeviceWriteIOps: opts.get("device-write-iops")! } : {}),
    ...(opts.has("cgroup-parent") ? { CgroupParent: one("cgroup-parent")! } : {}),
    ...(opts.has("annotation") ? { Annotations: keyValues(opts.get("annotation")!) } : {}),
    ...(opts.has("volumes-from") ? { VolumesFrom: opts.get("volumes-from")! } : {}),
    ...(opts.has("volume-driver") ? { VolumeDriver: one("volume-driver")! } : {}),
    ...(opts.has("storage-opt") ? { StorageOpt: keyValues(opts.get("storage-opt")!) } : {}),
    ...(opts.has("device-cgroup-rule") ? { DeviceCgroupRules: opts.get("device-cgroup-rule")! } : {}),
    ...(opts.has("cpu-rt-period") ? { CpuRealtimePeriod: Number(one("cpu-rt-period")) } : {}),
    ...(opts.has("cpu-rt-runtime") ? { CpuRealtimeRuntime: Number(one("cpu-rt-runtime")) } : {}),
    ...(opts.has("gpus") ? { DeviceRequests: opts.get("gpus")!.map(parseGpus) } : {}),
    ...(opts.has("device") ? {
      Devices: opts.get("device")!.map((d) => {
        const [src, dst, perms] = d.split(":") as [string, string?, string?];
        return { PathOnHost: src, PathInContainer: dst ?? src, CgroupPermissions: perms ?? "rwm" };
      }),
    } : {}),
  };
}

/**
 * `-v` values as docker/cli sorts them (cli/command/container/opts.go): with a
 * source to HostConfig.Binds (a source starting with "." made absolute from
 * `cwd`), a path alone to Config.Volumes (an anonymous volume).
 * @throws BerthError usage: compose's ParseVolume words ("invalid spec: a::b: empty section between colons")
 */
export function volumeFlags(values: readonly string[], cwd = "/"): { binds: string[]; anonymous: string[] } {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const v of values) {
    const r = splitVolumeFlag(v);
    if (typeof r === "string") throw usageError(r);
    if (!r.source) anonymous.push(v);
    else binds.push(r.source.startsWith(".") ? `${absolute(r.source, cwd)}${v.slice(r.source.length)}` : v);
  }
  return { binds, anonymous };
}

/** Go's filepath.Abs of `p` from `cwd`. */
function absolute(p: string, cwd: string): string {
  return cleanPath(`/${cwd}/${p}`);
}
