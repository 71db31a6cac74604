import { pruneVolumes } from "../daemon/volume-ops.js";
import { isRunning, parseRestartPolicy } from "../../common/container-state.js";
import { bytesSize, columns, ellipsis, humanAgo, humanSize } from "../../common/docker-format.js";
import { usageError, last, parseBytes, parseCpus, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { renderTemplate } from "../../common/go-template.js";
import { BERTH_VERSION } from "../../common/version.js";
import { API_VERSION } from "../api/api-types.js";
import type { SystemFacts } from "../daemon/daemon.js";
import { infoDoc, versionDoc } from "../daemon/system-info.js";
import type { Container } from "../containers/containers.js";
import { containerChanges } from "../daemon/container-changes.js";
import { exportContainer, guestPathOf } from "../daemon/container-archive.js";
import { containerStats } from "../daemon/container-stats.js";
import type { StatsResponse } from "../../common/api/container-data.js";
import type { DiskUsage } from "../../common/api/system-data.js";
import { containerTop } from "../daemon/container-top.js";
import { commitContainer, importImage } from "../daemon/image-commit.js";
import { pruneContainers, pruneImages, pruneNetworks } from "../daemon/prune.js";
import { diskUsage } from "../daemon/system-df.js";
import { updateContainer } from "../daemon/container-update.js";
import type { ContainerUpdateBody } from "../../common/api/container-update.js";
import { events } from "./docker-events-cli.js";
import { confirm, eachArgument, filtersOf, imagePruneText, printFormat, readAllStdin, readClientFile, writeClientFile, type CliContext, type Handler } from "./docker-cli-context.js";

const dec = new TextDecoder();

/** `CONTAINER:PATH` or a guest path (relative to the client's cwd), or "-". */
function cpArg(ctx: CliContext, a: string): { c?: Container; path: string } {
  const m = /^([^/:][^:]*):(.*)$/.exec(a);
  if (!m) return { path: a };
  return { c: ctx.containers.find(m[1]!), path: m[2]!.startsWith("/") ? m[2]! : `/${m[2]}` };
}

const cp: Handler = async (ctx, args) => {
  // -a: ownership is kept always (the guest's user is root, as the container's); -L is not done yet, and so refused
  const { opts, rest } = parseFlags(args, { "a,archive": "bool", "q,quiet": "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 2 }, ctx.path);
  const src = cpArg(ctx, rest[0]!);
  const dest = cpArg(ctx, rest[1]!);
  if (!!src.c === !!dest.c) throw usageError(src.c ? "copying between containers is not supported" : "must specify at least one container source");
  const c = (src.c ?? dest.c)!;
  await ctx.containers.mount(c);
  // a path under a volume or bind mount is in the mount's source (Docker's cp goes through volumes)
  const inside = async (p: string): Promise<string> => (await guestPathOf(ctx, c, p)).full + (/\/\.?$/.exec(p)?.[0] ?? "");
  let r: { code: number; stdout: Uint8Array; stderr: string };
  if (dest.path === "-") {
    const p = (await inside(src.path)).replace(/\/+$/, "") || "/";
    const base = p.slice(p.lastIndexOf("/") + 1);
    const parent = p.slice(0, p.lastIndexOf("/")) || "/";
    r = await ctx.containers.guest(["/bin/tar", "-C", parent, "-cf", "-", base]);
    if (r.code === 0) ctx.s.stdout(r.stdout);
  } else if (src.path === "-") {
    const input = await readAllStdin(ctx);
    r = await ctx.containers.guest(["/bin/tar", "-C", await inside(dest.path), "-xf", "-"], { stdin: input });
  } else {
    const from = src.c ? await inside(src.path) : src.path;
    const to = dest.c ? await inside(dest.path) : dest.path;
    if (src.c) {
      const probe = await ctx.containers.guest(["/bin/sh", "-c", 'test -e "$1" || test -L "$1"', "probe", from]);
      if (probe.code !== 0) throw new BerthError(ErrorCode.containerNotFound, `Cannot copy from "${rest[0]}": Could not find the file ${src.path} in container ${c.name}`);
    }
    r = await ctx.containers.guest(["/bin/cp", "-a", from.replace(/\/\.$/, "/."), to], { cwd: ctx.s.cwd });
    // on a terminal Docker's CLI ends with the size of what it copied (the tar stream's bytes)
    if (r.code === 0 && ctx.s.tty && !opts.has("quiet")) {
      const sized = await ctx.containers.guest(["/bin/sh", "-c", 'cd "$(dirname "$1")" && tar -cf - "$(basename "$1")" | wc -c', "cp", from.replace(/\/+$/, "") || "/"], { cwd: ctx.s.cwd });
      const n = Number(new TextDecoder().decode(sized.stdout).trim()) || 0;
      ctx.s.stderr(`Successfully copied ${humanSize(n)} to ${dest.c ? rest[1]! : dest.path}\n`);
    }
  }
  if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot copy: ${r.stderr.trim().replaceAll(c.rootfs, "") || `exit ${r.code}`}`);
  ctx.containers.event(c, dest.c ? "extract-to-dir" : "archive-path");
  return 0;
};

const diff: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 1 }, ctx.path);
  const changes = await containerChanges(ctx, ctx.containers.find(rest[0]!));
  ctx.s.stdout(changes.map((ch) => `${"CAD"[ch.Kind]} ${ch.Path}\n`).join(""));
  return 0;
};

const commit: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,author": "value", "c,change": "value", "m,message": "value", "p,pause": "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1, max: 2 }, ctx.path);
  const c = ctx.containers.find(rest[0]!);
  const author = last(opts, "author");
  const comment = last(opts, "message");
  const local = await commitContainer(ctx, c, { ...(rest[1] ? { repo: rest[1] } : {}), ...(author !== undefined ? { author } : {}), ...(comment !== undefined ? { comment } : {}), changes: opts.get("change") ?? [] });
  ctx.s.stdout(`${local.id}\n`);
  return 0;
};

const exportCmd: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "o,output": "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 1 }, ctx.path);
  const c = ctx.containers.find(rest[0]!);
  const out = last(opts, "output");
  if (!out && ctx.s.tty) throw new BerthError(ErrorCode.usage, "Cannot export: cowardly refusing to save to a terminal. Use the -o flag or redirect");
  const tar = await exportContainer(ctx, c);
  if (!out) {
    ctx.s.stdout(tar);
    return 0;
  }
  await writeClientFile(ctx, out, tar, `export "${c.name}"`);
  return 0;
};

const importCmd: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "c,change": "value", "m,message": "value", platform: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1, max: 2 }, ctx.path);
  const platform = last(opts, "platform");
  if (platform !== undefined && !/^linux\/(386|i386)$/.test(platform)) throw new BerthError(ErrorCode.invalidParameter, `Cannot import as ${platform}: Berth's guest runs linux/386 images, and imports them so`);
  let tar: Uint8Array;
  if (rest[0] === "-") tar = await readAllStdin(ctx);
  else tar = await readClientFile(ctx, rest[0]!, `import "${rest[0]}"`);
  const message = last(opts, "message");
  const local = await importImage(ctx, tar, { ...(rest[1] ? { repo: rest[1] } : {}), ...(message !== undefined ? { message } : {}), changes: opts.get("change") ?? [] });
  ctx.s.stdout(`${local.id}\n`);
  return 0;
};

const top: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, ctx.path);
  requireArgs(rest, { min: 1 }, ctx.path);
  const r = await containerTop(ctx, ctx.containers.find(rest[0]!), rest.slice(1).join(" ") || "-ef");
  ctx.s.stdout(columns([r.Titles, ...r.Processes]));
  return 0;
};

/** A stats row as the docker CLI computes it from two samples (cli/command/container/stats_helpers.go). */
export function statsRow(c: Container, s: StatsResponse): Record<string, string> {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * (s.cpu_stats.online_cpus ?? 1) * 100 : 0;
  const usage = s.memory_stats.usage ?? 0;
  const inactive = s.memory_stats.stats?.["inactive_file"] ?? 0;
  const mem = inactive < usage ? usage - inactive : usage;
  const limit = s.memory_stats.limit ?? 0;
  const net = Object.values(s.networks ?? {}).reduce((a, n) => [a[0]! + n.rx_bytes, a[1]! + n.tx_bytes], [0, 0]);
  const running = isRunning(c.state);
  return {
    ID: c.shortId, Container: c.shortId, Name: c.name,
    CPUPerc: running ? `${cpu.toFixed(2)}%` : "0.00%",
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${limit ? ((mem / limit) * 100).toFixed(2) : "0.00"}%`,
    NetIO: `${humanSize(net[0]!)} / ${humanSize(net[1]!)}`, BlockIO: "0B / 0B",
    PIDs: String(s.pids_stats.current ?? 0),
  };
}

const stats: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,all": "bool", "no-stream": "bool", "no-trunc": "bool", format: "value" }, ctx.path, { interspersed: true });
  const pick = (): Container[] => (rest.length ? rest.map((r) => ctx.containers.find(r)) : ctx.containers.list().filter((c) => opts.has("all") || isRunning(c.state)));
  let closed = false;
  ctx.s.onClose(() => (closed = true));
  let before = new Map<string, StatsResponse>();
  for (const c of pick()) before.set(c.id, await containerStats(ctx, c));
  for (;;) {
    await new Promise((r) => setTimeout(r, opts.has("no-stream") ? 500 : 1000));
    const rows: Array<Record<string, string>> = [];
    const now = new Map<string, StatsResponse>();
    for (const c of pick()) {
      const s = await containerStats(ctx, c, before.get(c.id));
      now.set(c.id, s);
      rows.push({ ...statsRow(c, s), ...(opts.has("no-trunc") ? { ID: c.id } : {}) });
    }
    before = now;
    if (!opts.has("no-stream")) ctx.s.stdout("\x1b[2J\x1b[H");
    printFormat(ctx, last(opts, "format") ?? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}", rows, {
      ID: "CONTAINER ID", Container: "CONTAINER", Name: "NAME", CPUPerc: "CPU %", MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS",
    });
    if (opts.has("no-stream") || closed) return 0;
  }
};

const update: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "m,memory": "value", "memory-swap": "value", cpus: "value", "c,cpu-shares": "value", "pids-limit": "value", restart: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  const memory = opts.has("memory") ? parseBytes(last(opts, "memory")!, "-m, --memory") : undefined;
  const cpus = opts.has("cpus") ? parseCpus(last(opts, "cpus")!) : undefined;
  const pids = last(opts, "pids-limit");
  const swap = last(opts, "memory-swap");
  const shares = last(opts, "cpu-shares");
  const restart = opts.has("restart") ? parseRestartPolicy(last(opts, "restart")!) : undefined;
  const body: ContainerUpdateBody = {
    ...(memory !== undefined ? { Memory: memory } : {}),
    ...(swap !== undefined ? { MemorySwap: swap === "-1" ? -1 : parseBytes(swap, "--memory-swap") } : {}),
    ...(cpus !== undefined ? { NanoCpus: cpus } : {}),
    ...(pids !== undefined ? { PidsLimit: Number(pids) } : {}),
    ...(shares !== undefined ? { CpuShares: Number(shares) } : {}),
    ...(restart ? { RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount } } : {}),
  };
  return eachArgument(ctx, rest, async (ref) => {
    const warnings = await updateContainer(ctx, ctx.containers.find(ref), body);
    for (const w of warnings) ctx.s.stderr(`WARNING: ${w}\n`);
    ctx.s.stdout(`${ref}\n`);
  });
};

/** The machine's facts the daemon reports (GET /info, /version), read from the guest. */
async function guestFacts(ctx: CliContext): Promise<SystemFacts & { ncpu: number }> {
  const r = await ctx.containers.guest(["/bin/sh", "-c", "uname -r; awk '/MemTotal/{print $2 * 1024}' /proc/meminfo; grep -c ^processor /proc/cpuinfo"]);
  const [kernel = "", mem = "0", cpus = "1"] = dec.decode(r.stdout).trim().split("\n");
  return { kernelVersion: kernel, memTotal: Number(mem), version: BERTH_VERSION, ncpu: Number(cpus) || 1 };
}

/** The client's part of `docker info` and `docker version` (the guest's docker is Berth's). */
const CLIENT = { Version: BERTH_VERSION, ApiVersion: API_VERSION, Os: "linux", Arch: "386", Context: "default" };

/** `docker info [--format]`: the daemon's GET /info document, as text or through the template (docker/cli's info context: the document's fields and .ClientInfo). */
const info: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "f,format": "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const facts = await guestFacts(ctx);
  const doc = { ...infoDoc(ctx, facts), NCPU: facts.ncpu };
  const format = last(opts, "format");
  if (format !== undefined) {
    ctx.s.stdout(`${renderTemplate(format === "json" ? "{{json .}}" : format, { ...doc, ClientInfo: { Debug: false, Context: "default", Plugins: [], Warnings: null } })}\n`);
    return 0;
  }
  const n = (k: string): string => String(doc[k as keyof typeof doc]);
  ctx.s.stdout([
    "Client:", ` Version:    ${BERTH_VERSION}`, " Context:    default", " Debug Mode: false", "",
    "Server:",
    ` Containers: ${n("Containers")}`, `  Running: ${n("ContainersRunning")}`, `  Paused: ${n("ContainersPaused")}`, `  Stopped: ${n("ContainersStopped")}`,
    ` Images: ${n("Images")}`,
    ` Server Version: ${n("ServerVersion")}`,
    ` Storage Driver: ${n("Driver")}`, ` Logging Driver: ${n("LoggingDriver")}`, ` Cgroup Driver: ${n("CgroupDriver")}`, ` Cgroup Version: ${n("CgroupVersion")}`,
    " Runtimes: crun runc", ` Default Runtime: ${n("DefaultRuntime")}`,
    ` Kernel Version: ${n("KernelVersion")}`, ` Operating System: ${n("OperatingSystem")}`, ` OSType: ${n("OSType")}`, ` Architecture: ${n("Architecture")}`,
    ` CPUs: ${n("NCPU")}`, ` Total Memory: ${bytesSize(facts.memTotal)}`, ` Name: ${n("Name")}`, ` ID: ${n("ID")}`, ` Docker Root Dir: ${n("DockerRootDir")}`, "",
  ].join("\n") + "\n");
  return 0;
};

/** `docker version [--format]`: the client's part and the daemon's GET /version, as docker/cli's version template prints them. */
const version: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "f,format": "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const server = versionDoc(await guestFacts(ctx)) as { Version: string; ApiVersion: string; MinAPIVersion: string; Os: string; Arch: string; KernelVersion: string };
  const format = last(opts, "format");
  if (format !== undefined) {
    ctx.s.stdout(`${renderTemplate(format === "json" ? "{{json .}}" : format, { Client: CLIENT, Server: server })}\n`);
    return 0;
  }
  ctx.s.stdout([
    "Client:", ` Version:           ${CLIENT.Version}`, ` API version:       ${CLIENT.ApiVersion}`, ` OS/Arch:           ${CLIENT.Os}/${CLIENT.Arch}`, ` Context:           ${CLIENT.Context}`, "",
    "Server: Berth Engine", " Engine:", `  Version:          ${server.Version}`, `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})`,
    `  OS/Arch:          ${server.Os}/${server.Arch}`, " crun:", "  Version:          1.8.1", "",
  ].join("\n"));
  return 0;
};

/** docker/cli's Local Volumes row (diskUsageVolumesContext): in use = RefCount > 0; reclaimable = unused volumes' bytes. */
function volumeRow(u: DiskUsage): { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string } {
  const total = u.Volumes.reduce((n, v) => n + v.UsageData.Size, 0);
  const free = u.Volumes.filter((v) => v.UsageData.RefCount === 0).reduce((n, v) => n + v.UsageData.Size, 0);
  return {
    Type: "Local Volumes", TotalCount: String(u.Volumes.length), Active: String(u.Volumes.filter((v) => v.UsageData.RefCount > 0).length),
    Size: humanSize(total), Reclaimable: total > 0 ? `${humanSize(free)} (${Math.floor((free * 100) / total)}%)` : humanSize(free),
  };
}

/** `docker system df -v`: each kind's own table (docker/cli formatter/disk_usage.go verboseWriteTable). */
function diskUsageVerbose(u: DiskUsage): string {
  const ago = (s: number): string => humanAgo(new Date(s * 1000));
  // one row per image, by its first tag; go-units' HumanSize (4 significant digits)
  const size = (n: number): string => humanSize(n, 4);
  const images = u.Images.map((i) => {
    const t = i.RepoTags[0] ?? "<none>:<none>";
    const at = t.lastIndexOf(":");
    return [t.slice(0, at), t.slice(at + 1), i.Id.slice(7, 19), ago(i.Created), size(i.Size), size(i.SharedSize), size(i.Size - i.SharedSize), String(i.Containers)];
  });
  const containers = u.Containers.map((c) => [c.Id.slice(0, 12), c.Image, JSON.stringify(ellipsis(c.Command, 20)), String(c.Mounts.filter((m) => (m as { Type?: string }).Type === "volume").length), size(c.SizeRw), ago(c.Created), c.Status, c.Names[0]!.replace(/^\//, "")]);
  const volumes = u.Volumes.map((v) => [v.Name, String(v.UsageData.RefCount), size(v.UsageData.Size)]);
  return [
    "Images space usage:\n\n", columns([["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"], ...images]),
    "\nContainers space usage:\n\n", columns([["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"], ...containers]),
    "\nLocal Volumes space usage:\n\n", columns([["VOLUME NAME", "LINKS", "SIZE"], ...volumes]),
    "\nBuild cache usage: 0B\n\n", columns([["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"]]),
  ].join("");
}

/** `docker system df`'s table, computed from the API's document as the docker CLI does (cli/command/formatter/disk_usage.go). */
export function diskUsageTable(u: DiskUsage): string {
  return columns([["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], ...diskUsageRows(u).map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])]);
}

/** `docker system df`'s rows by Docker's template names (.Type, .TotalCount, .Active, .Size, .Reclaimable). */
export function diskUsageRows(u: DiskUsage): Array<{ Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }> {
  const size = (n: number): string => humanSize(n, 4);
  const pct = (part: number, total: number): string => `${size(part)}${total > 0 ? ` (${Math.floor((part * 100) / total)}%)` : ""}`;
  const used = u.Images.filter((i) => i.Containers > 0).reduce((n, i) => n + i.Size - i.SharedSize, 0);
  const cSize = u.Containers.reduce((n, c) => n + c.SizeRw, 0);
  const cFree = u.Containers.filter((c) => c.State !== "running" && c.State !== "paused" && c.State !== "restarting").reduce((n, c) => n + c.SizeRw, 0);
  return [
    { Type: "Images", TotalCount: String(u.Images.length), Active: String(u.Images.filter((i) => i.Containers > 0).length), Size: size(u.LayersSize), Reclaimable: pct(u.LayersSize - used, u.LayersSize) },
    { Type: "Containers", TotalCount: String(u.Containers.length), Active: String(u.Containers.filter((c) => c.State === "running" || c.State === "paused" || c.State === "restarting").length), Size: size(cSize), Reclaimable: pct(cFree, cSize) },
    volumeRow(u),
    { Type: "Build Cache", TotalCount: "0", Active: "0", Size: "0B", Reclaimable: "0B" },
  ];
}

const systemDf: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { format: "value", "v,verbose": "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const format = last(opts, "format");
  const u = await diskUsage(ctx);
  if (opts.has("verbose") && format === undefined) ctx.s.stdout(diskUsageVerbose(u));
  else if (format === undefined) ctx.s.stdout(diskUsageTable(u));
  else printFormat(ctx, format, diskUsageRows(u), { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" });
  // in a browser, what the site may store: on stderr, so the table stays Docker's
  if (format === undefined) {
    const quota = await storageQuota();
    if (quota) ctx.s.stderr(`\nBrowser storage: ${humanSize(quota.usage, 4)} used of ${humanSize(quota.quota, 4)} (this site's quota; images, volumes, containers and the VM state are stored there)\n`);
  }
  return 0;
};

/** The browser's storage estimate for this origin (bytes), where there is one (a page or worker; not Node). */
async function storageQuota(): Promise<{ usage: number; quota: number } | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
  const e = await storage?.estimate?.().catch(() => undefined);
  return e?.quota ? { usage: e.usage ?? 0, quota: e.quota } : undefined;
}

const containerPrune: Handler = async (ctx, args) => {
  const { opts } = parseFlags(args, { "f,force": "bool", filter: "value" }, ctx.path, { interspersed: true });
  if (!(await confirm(ctx, "WARNING! This will remove all stopped containers.", opts.has("force")))) return 0;
  const r = await pruneContainers(ctx, filtersOf(opts));
  ctx.s.stdout(`${r.ContainersDeleted ? `Deleted Containers:\n${r.ContainersDeleted.join("\n")}\n\n` : ""}Total reclaimed space: 0B\n`);
  return 0;
};

const systemPrune: Handler = async (ctx, args) => {
  const { opts } = parseFlags(args, { "a,all": "bool", "f,force": "bool", volumes: "bool", filter: "value" }, ctx.path, { interspersed: true });
  if (opts.has("volumes") && opts.get("filter")?.some((f) => f.startsWith("until="))) throw usageError('ERROR: The "until" filter is not supported with "--volumes"');
  const warning = `WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n${opts.has("volumes") ? "  - all anonymous volumes not used by at least one container\n" : ""}  - ${opts.has("all") ? "all images without at least one container associated to them" : "all dangling images"}\n  - ${opts.has("all") ? "all build cache" : "unused build cache"}\n`;
  if (!(await confirm(ctx, warning, opts.has("force")))) return 0;
  // the filters apply to each kind (docker/cli system prune passes them on)
  const filters = filtersOf(opts);
  const gone = await pruneContainers(ctx, filters);
  if (gone.ContainersDeleted) ctx.s.stdout(`Deleted Containers:\n${gone.ContainersDeleted.join("\n")}\n\n`);
  const networks = await pruneNetworks(ctx, filters);
  if (networks.length) ctx.s.stdout(`Deleted Networks:\n${networks.join("\n")}\n\n`);
  if (opts.has("volumes")) {
    const v = await pruneVolumes(ctx, Object.fromEntries(Object.entries(filters).filter(([k]) => k.startsWith("label"))));
    if (v.VolumesDeleted) ctx.s.stdout(`Deleted Volumes:\n${v.VolumesDeleted.join("\n")}\n\n`);
  }
  ctx.s.stdout(imagePruneText(await pruneImages(ctx, opts.has("all"), filters)));
  return 0;
};

export const EXTRA_COMMANDS: Record<string, Handler> = {
  cp, diff, commit, events, version, "system-events": events, export: exportCmd, import: importCmd, top, stats, update, info, "system-df": systemDf, "system-prune": systemPrune,
  "container-prune": containerPrune, "image-import": importCmd, "container-export": exportCmd,
};
