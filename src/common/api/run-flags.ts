import { parseRestartPolicy } from "../container-state.js";
import { last, parseBytes, parseCpus, parseFlags, requireArgs, usageError, type FlagSpec } from "../docker-flags.js";
import { BerthError, ErrorCode } from "../errors.js";
import { parsePlatform, DEFAULT_PLATFORM, type Platform } from "../oci-image.js";
import { parsePublish } from "../port-spec.js";
import type { ContainerCreateBody } from "./container-create.js";

/** The flags of `docker run` and `docker create` (Docker 28's, those Berth reads). */
export const RUN_FLAGS: FlagSpec = {
  "d,detach": "bool", "i,interactive": "bool", "t,tty": "bool", rm: "bool", name: "value", "e,env": "value", "env-file": "value",
  "w,workdir": "value", "u,user": "value", entrypoint: "value", "h,hostname": "value", "read-only": "bool", "l,label": "value",
  restart: "value", "m,memory": "value", "memory-swap": "value", cpus: "value", "c,cpu-shares": "value", "pids-limit": "value",
  "cap-add": "value", "cap-drop": "value", privileged: "bool", "security-opt": "value", "stop-signal": "value",
  "stop-timeout": "value", init: "bool", pull: "value", platform: "value", "a,attach": "value", "sig-proxy": "bool",
  tmpfs: "value", network: "value", net: "value", "p,publish": "value", "P,publish-all": "bool", "v,volume": "value",
  mount: "value", "detach-keys": "value", "q,quiet": "bool", "network-alias": "value", alias: "value", link: "value",
  "add-host": "value", dns: "value", "dns-search": "value", "dns-option": "value", ip: "value",
};

/** `-e NAME` takes NAME from the client's environment (and is dropped when unset there). */
export function envValues(values: string[], clientEnv: readonly string[]): string[] {
  return values.flatMap((v) => {
    if (v.includes("=")) return [v];
    const found = clientEnv.find((e) => e.startsWith(`${v}=`));
    return found ? [found] : [];
  });
}

/** What `docker run`/`create` flags ask of the daemon and of the client. */
export interface RunRequest {
  /** `POST /containers/create`'s body (its Env without --env-file's lines: the client reads those) */
  body: ContainerCreateBody;
  /** every flag given, by long name */
  opts: Map<string, string[]>;
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
 * @throws BerthError usage (Docker's flag errors: bad values, conflicting options, missing IMAGE)
 */
export function parseRunArgs(cmd: "run" | "create", args: string[], clientEnv: readonly string[]): RunRequest {
  const { opts, rest } = parseFlags(args, RUN_FLAGS, cmd);
  requireArgs(rest, { min: 1 }, cmd, `[OPTIONS] IMAGE [COMMAND] [ARG...]\n\n${cmd === "run" ? "Create and run a new container from an image" : "Create a new container"}`);
  const extraHosts = (opts.get("add-host") ?? []).map((h) => {
    const m = /^([^:]+):(.+)$/.exec(h);
    if (!m || !/^(\d+\.\d+\.\d+\.\d+|[0-9a-fA-F:]+|host-gateway)$/.test(m[2]!)) throw usageError(`invalid argument "${h}" for "--add-host" flag: invalid IP address in add-host: "${m?.[2] ?? h}"`);
    return `${m[1]}:${m[2]}`;
  });
  if (opts.has("rm") && opts.has("restart") && last(opts, "restart") !== "no") throw usageError("conflicting options: cannot specify both --restart and --rm"); // Docker 28's words (cli/command/container/opts.go)
  const swap = last(opts, "memory-swap");
  const pids = last(opts, "pids-limit");
  if (pids !== undefined && !/^-?\d+$/.test(pids)) throw usageError(`invalid argument "${pids}" for "--pids-limit" flag: strconv.ParseInt: parsing "${pids}": invalid syntax`);
  const shares = last(opts, "cpu-shares");
  if (shares !== undefined && !/^\d+$/.test(shares)) throw usageError(`invalid argument "${shares}" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "${shares}": invalid syntax`);
  const stopTimeout = last(opts, "stop-timeout");
  if (stopTimeout !== undefined && !/^-?\d+$/.test(stopTimeout)) throw usageError(`invalid argument "${stopTimeout}" for "--stop-timeout" flag: strconv.ParseInt: parsing "${stopTimeout}": invalid syntax`);
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
  const labels: Record<string, string> = {};
  for (const l of opts.get("label") ?? []) {
    const [k, v = ""] = l.split(/=(.*)/s) as [string, string?];
    labels[k] = v;
  }
  const tty = opts.has("tty");
  const network = last(opts, "network") ?? last(opts, "net");
  const aliases = [...(opts.get("network-alias") ?? []), ...(opts.get("alias") ?? [])];
  const entry = last(opts, "entrypoint");
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
    StdinOnce: opts.has("interactive") && !(cmd === "run" && opts.has("detach")),
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
      PortBindings: ports,
      PublishAllPorts: opts.has("publish-all"),
      Binds: opts.get("volume") ?? [],
      Mounts: opts.get("mount") ?? [],
    },
    ...(aliases.length && network ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: aliases } } } } : {}),
  };
  if (aliases.length && !network) throw new BerthError(ErrorCode.usage, `Cannot ${cmd} the container: network-scoped alias is supported only for containers in user defined networks`);
  const p = last(opts, "platform");
  return { body, opts, name: last(opts, "name"), platform: p ? parsePlatform(p) : DEFAULT_PLATFORM, pull: last(opts, "pull") ?? "missing" };
}
