import { Status, isRunning, parseRestartPolicy } from "../../common/container-state.js";
import { bytesSize, columns, humanSize } from "../../common/docker-format.js";
import { UsageError, last, parseBytes, parseCpus, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { parseReference } from "../../common/reference.js";
import type { Container } from "../containers/containers.js";
import { confirm, eachArgument, printFormat, readAllStdin, shortName, type CliContext, type Handler } from "./docker-cli-context.js";
import { pruneNetworks } from "./docker-network-cli.js";
import type { PulledImage } from "../images/image-puller.js";
import { sha256Hex } from "../digest.js";
import { readTar, type TarEntry } from "../unpack/tar-reader.js";

const enc = new TextEncoder();
const TAR_LAYER = "application/vnd.oci.image.layer.v1.tar";
const dec = new TextDecoder();

/** `CONTAINER:PATH` or a guest path (relative to the client's cwd), or "-". */
function cpArg(ctx: CliContext, a: string): { c?: Container; path: string } {
  const m = /^([^/:][^:]*):(.*)$/.exec(a);
  if (!m) return { path: a };
  return { c: ctx.containers.find(m[1]!), path: m[2]!.startsWith("/") ? m[2]! : `/${m[2]}` };
}

const cp: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, { "a,archive": "bool", "L,follow-link": "bool", "q,quiet": "bool" }, "cp", { interspersed: true });
  requireArgs(rest, { exact: 2 }, "cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\nCopy files/folders between a container and the local filesystem");
  const src = cpArg(ctx, rest[0]!);
  const dest = cpArg(ctx, rest[1]!);
  if (!!src.c === !!dest.c) throw new BerthError(ErrorCode.usage, `Cannot copy: ${src.c ? "copying between containers is not supported" : "must specify at least one container source"}`);
  const c = (src.c ?? dest.c)!;
  await ctx.containers.mount(c);
  const inside = (p: string): string => `${c.rootfs}${p}`;
  let r: { code: number; stdout: Uint8Array; stderr: string };
  if (dest.path === "-") {
    const p = inside(src.path).replace(/\/+$/, "") || "/";
    const base = p.slice(p.lastIndexOf("/") + 1);
    const parent = p.slice(0, p.lastIndexOf("/")) || "/";
    r = await ctx.containers.guest(["/bin/tar", "-C", parent, "-cf", "-", base]);
    if (r.code === 0) ctx.s.stdout(r.stdout);
  } else if (src.path === "-") {
    const input = await readAllStdin(ctx);
    r = await ctx.containers.guest(["/bin/tar", "-C", inside(dest.path), "-xf", "-"], { stdin: input });
  } else {
    const from = src.c ? inside(src.path) : src.path;
    const to = dest.c ? inside(dest.path) : dest.path;
    if (src.c) {
      const probe = await ctx.containers.guest(["/bin/sh", "-c", 'test -e "$1" || test -L "$1"', "probe", from]);
      if (probe.code !== 0) throw new BerthError(ErrorCode.containerNotFound, `Cannot copy from "${rest[0]}": Could not find the file ${src.path} in container ${c.name}`);
    }
    r = await ctx.containers.guest(["/bin/cp", "-a", from.replace(/\/\.$/, "/."), to], { cwd: ctx.s.cwd });
  }
  if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot copy: ${r.stderr.trim().replaceAll(c.rootfs, "") || `exit ${r.code}`}`);
  return 0;
};

/** The writable layer as tar entries (overlayfs whiteouts, char 0:0, become `.wh.` names). */
async function upperEntries(ctx: CliContext, c: Container): Promise<{ entries: TarEntry[]; tar: Uint8Array }> {
  await ctx.containers.mount(c);
  const r = await ctx.containers.guest(["/bin/tar", "-C", c.upperDir, "-cf", "-", "."]);
  if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot read the changes of "${c.name}": ${r.stderr.trim()}`);
  const entries: TarEntry[] = [];
  // the mount points of the container's /etc/hosts, /etc/resolv.conf and /etc/hostname are not its
  // changes (Docker keeps them in an init layer below the writable one)
  const MOUNT_POINTS = new Set(["etc/hosts", "etc/resolv.conf", "etc/hostname", "sbin/docker-init"]);
  const all = [...readTar(r.stdout, `the changes of "${c.name}"`)];
  const kept = all.filter((e) => !(MOUNT_POINTS.has(e.path) && e.type === "file" && e.data.length === 0));
  const dirs = new Set(kept.filter((e) => e.type === "dir").map((e) => e.path));
  const local = ctx.images.find(c.config.imageId);
  const base = local ? await ctx.imageView(local) : undefined;
  for (const e of all) {
    if (!MOUNT_POINTS.has(e.path) || kept.includes(e)) continue;
    // a directory copied up only to hold a mount point is no change either
    for (let d = e.path.slice(0, e.path.lastIndexOf("/")); d && dirs.has(d) && base?.has(d); d = d.slice(0, Math.max(0, d.lastIndexOf("/")))) {
      if (kept.some((k) => k.path.startsWith(`${d}/`))) break;
      dirs.delete(d);
    }
  }
  for (const e of kept) {
    if (e.path === "" || (e.type === "dir" && !dirs.has(e.path))) continue;
    if (e.type === "char" && e.devmajor === 0 && e.devminor === 0) {
      const slash = e.path.lastIndexOf("/");
      entries.push({ ...e, type: "file", path: `${e.path.slice(0, slash + 1)}.wh.${e.path.slice(slash + 1)}`, data: new Uint8Array(0) });
    } else entries.push(e);
  }
  return { entries, tar: r.stdout };
}

const diff: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, "diff", { interspersed: true });
  requireArgs(rest, { exact: 1 }, "diff", "CONTAINER\n\nInspect changes to files or directories on a container's filesystem");
  const c = ctx.containers.find(rest[0]!);
  const local = ctx.images.find(c.config.imageId);
  const base = local ? await ctx.imageView(local) : undefined;
  const { entries } = await upperEntries(ctx, c);
  const lines: string[] = [];
  for (const e of entries) {
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    if (name.startsWith(".wh.")) lines.push(`D /${e.path.slice(0, e.path.length - name.length)}${name.slice(4)}`);
    else lines.push(`${base?.has(e.path) ? "C" : "A"} /${e.path}`);
  }
  ctx.s.stdout(lines.sort((a, b) => a.slice(2).localeCompare(b.slice(2))).map((l) => `${l}\n`).join(""));
  return 0;
};

/** `--change` instructions commit and import accept. */
function applyChanges(config: NonNullable<PulledImage["config"]["config"]>, changes: string[]): void {
  const list = (v: string): string[] => (v.trim().startsWith("[") ? (JSON.parse(v) as string[]) : ["/bin/sh", "-c", v.trim()]);
  for (const ch of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(ch);
    if (!m) throw new BerthError(ErrorCode.usage, `Cannot apply change "${ch}": dockerfile parse error`);
    const [, op, v] = m as unknown as [string, string, string];
    switch (op.toUpperCase()) {
      case "CMD": config.Cmd = list(v); break;
      case "ENTRYPOINT": config.Entrypoint = list(v); break;
      case "WORKDIR": config.WorkingDir = v.trim(); break;
      case "USER": config.User = v.trim(); break;
      case "ENV": {
        const [k, val] = v.includes("=") ? v.trim().split(/=(.*)/s) as [string, string] : v.trim().split(/\s+(.*)/s) as [string, string];
        config.Env = [...(config.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${val ?? ""}`];
        break;
      }
      case "LABEL": {
        const [k, val = ""] = v.trim().split(/=(.*)/s) as [string, string?];
        config.Labels = { ...(config.Labels ?? {}), [k.replace(/^"|"$/g, "")]: val.replace(/^"|"$/g, "") };
        break;
      }
      case "EXPOSE": config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [v.includes("/") ? v.trim() : `${v.trim()}/tcp`]: {} }; break;
      case "VOLUME": config.Volumes = { ...(config.Volumes ?? {}), [v.trim()]: {} }; break;
      case "STOPSIGNAL": config.StopSignal = v.trim(); break;
      default: throw new BerthError(ErrorCode.usage, `Cannot apply change "${ch}": ${op} is not a valid change command`);
    }
  }
}

/** An image made here (commit, import, load): its config and new layer go to the blob store, so save and a later load find them. */
export async function addImage(ctx: CliContext, image: Omit<PulledImage, "id" | "reference">, repo: string | undefined, blobs: Array<{ digest: string; data: Uint8Array }> = [], knownId?: string): Promise<string> {
  const configBytes = enc.encode(JSON.stringify(image.config));
  const id = knownId ?? `sha256:${await sha256Hex(configBytes)}`;
  // unpacked now, from the bytes at hand (there may be no blob store to unpack from later)
  const neutralised = await ctx.unpackLayers(image, new Map(blobs.map((b) => [b.digest, b.data])));
  for (const b of [...blobs, ...(knownId ? [] : [{ digest: id, data: configBytes }])]) await ctx.store?.put(b.digest, b.data);
  const ref = repo ? parseReference(repo) : undefined;
  const full: PulledImage = { ...image, neutralised, id, reference: ref ?? parseReference("none") };
  ctx.images.add(ref && !ref.tag ? { ...ref, tag: "latest" } : ref, full);
  return id;
}

const commit: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,author": "value", "c,change": "value", "m,message": "value", "p,pause": "bool" }, "commit", { interspersed: true });
  requireArgs(rest, { min: 1, max: 2 }, "commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\nCreate a new image from a container's changes");
  const c = ctx.containers.find(rest[0]!);
  if (rest[1]) parseReference(rest[1]);
  const base = ctx.images.require(c.config.imageId, `commit "${c.name}"`);
  const { tar } = await upperEntries(ctx, c);
  const cfg = { ...(base.image.config.config ?? {}), Env: c.config.env, Cmd: c.config.cmd, Entrypoint: c.config.entrypoint.length ? c.config.entrypoint : undefined, WorkingDir: c.config.workingDir, User: c.config.user, Labels: c.config.labels };
  applyChanges(cfg, opts.get("change") ?? []);
  const now = new Date().toISOString();
  const config = {
    ...base.image.config,
    created: now,
    author: last(opts, "author") ?? "",
    config: cfg,
    rootfs: { type: "layers", diff_ids: [...(base.image.config.rootfs?.diff_ids ?? []), `sha256:${await sha256Hex(tar)}`] },
    history: [...(base.image.config.history ?? []), { created: now, created_by: [...c.config.entrypoint, ...c.config.cmd].join(" "), ...(opts.has("message") ? { comment: last(opts, "message")! } : {}), ...(opts.has("author") ? { author: last(opts, "author")! } : {}) }],
  };
  const layer = { digest: `sha256:${await sha256Hex(tar)}`, mediaType: TAR_LAYER, size: tar.length };
  const id = await addImage(ctx, { manifestDigest: "", config, neutralised: [], layerSizes: [...base.image.layerSizes, tar.length], layers: [...base.image.layers, layer] }, rest[1], [{ digest: layer.digest, data: tar }]);
  ctx.s.stdout(`${id}\n`);
  return 0;
};

const exportCmd: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "o,output": "value" }, "export", { interspersed: true });
  requireArgs(rest, { exact: 1 }, "export", "[OPTIONS] CONTAINER\n\nExport a container's filesystem as a tar archive");
  const c = ctx.containers.find(rest[0]!);
  await ctx.containers.mount(c);
  const out = last(opts, "output");
  if (!out && ctx.s.tty) throw new BerthError(ErrorCode.usage, "Cannot export: cowardly refusing to save to a terminal. Use the -o flag or redirect");
  const r = await ctx.containers.guest(["/bin/tar", "-C", c.rootfs, "-cf", out ?? "-", "."], { cwd: ctx.s.cwd });
  if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot export "${c.name}": ${r.stderr.trim()}`);
  if (!out) ctx.s.stdout(r.stdout);
  return 0;
};

const importCmd: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "c,change": "value", "m,message": "value", platform: "value" }, "import", { interspersed: true });
  requireArgs(rest, { min: 1, max: 2 }, "import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]\n\nImport the contents from a tarball to create a filesystem image");
  let tar: Uint8Array;
  if (rest[0] === "-") tar = await readAllStdin(ctx);
  else {
    const r = await ctx.containers.guest(["/bin/cat", "--", rest[0]!], { cwd: ctx.s.cwd });
    if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot import "${rest[0]}": ${r.stderr.trim().replace(/^cat: /, "")}`);
    tar = r.stdout;
  }
  const cfg: NonNullable<PulledImage["config"]["config"]> = {};
  applyChanges(cfg, opts.get("change") ?? []);
  const now = new Date().toISOString();
  const config = {
    architecture: "386", os: "linux", created: now, config: cfg,
    rootfs: { type: "layers", diff_ids: [`sha256:${await sha256Hex(tar)}`] },
    history: [{ created: now, created_by: "", comment: last(opts, "message") ?? "Imported from -" }],
  };
  const layer = { digest: `sha256:${await sha256Hex(tar)}`, mediaType: TAR_LAYER, size: tar.length };
  const id = await addImage(ctx, { manifestDigest: "", config, neutralised: [], layerSizes: [tar.length], layers: [layer] }, rest[1], [{ digest: layer.digest, data: tar }]);
  ctx.s.stdout(`${id}\n`);
  return 0;
};

const top: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, "top");
  requireArgs(rest, { min: 1 }, "top", "CONTAINER [ps OPTIONS]\n\nDisplay the running processes of a container");
  const c = ctx.containers.find(rest[0]!);
  if (!isRunning(c.state)) throw new BerthError(ErrorCode.containerWrongState, `Cannot show the processes of "${c.name}": container ${c.id} is not running`);
  // the cgroup's processes, as ps -ef shows them: UID PID PPID C STIME TTY TIME CMD
  const script = `for p in $(cat "$1/cgroup.procs"); do
    [ -r /proc/$p/stat ] || continue
    u=$(awk '/^Uid:/{print $2}' /proc/$p/status); set -- "$1" $(cat /proc/$p/stat | sed 's/.*) //')
    printf '%s\\t%s\\t%s\\t%s\\n' "$u" "$p" "$3" "$(tr '\\0' ' ' < /proc/$p/cmdline)"
  done`;
  const r = await ctx.containers.guest(["/bin/sh", "-c", script, "top", c.cgroup]);
  const started = new Date(c.state.startedAt).toISOString().slice(11, 16);
  const rows = [["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]];
  for (const line of dec.decode(r.stdout).split("\n").filter(Boolean)) {
    const [uid, pid, ppid, cmd] = line.split("\t") as [string, string, string, string];
    rows.push([uid === "0" ? "root" : uid, pid, ppid, "0", started, c.config.tty ? "pts/0" : "?", "00:00:00", cmd.trim()]);
  }
  ctx.s.stdout(columns(rows));
  return 0;
};

interface Sample {
  cpu: number;
  mem: number;
  limit: number;
  pids: number;
  at: number;
}

async function sample(ctx: CliContext, c: Container): Promise<Sample> {
  const r = await ctx.containers.guest(["/bin/sh", "-c", 'cd "$1" 2>/dev/null && awk \'/usage_usec/{print $2}\' cpu.stat && cat memory.current memory.max pids.current; awk \'/MemTotal/{print $2 * 1024}\' /proc/meminfo', "stats", c.cgroup]);
  const [cpu, mem, max, pids, total] = dec.decode(r.stdout).trim().split("\n");
  return { cpu: Number(cpu ?? 0), mem: Number(mem ?? 0), limit: max === "max" || max === undefined ? Number(total ?? 0) : Number(max), pids: Number(pids ?? 0), at: Date.now() };
}

const stats: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,all": "bool", "no-stream": "bool", "no-trunc": "bool", format: "value" }, "stats", { interspersed: true });
  const pick = (): Container[] => (rest.length ? rest.map((r) => ctx.containers.find(r)) : ctx.containers.list().filter((c) => opts.has("all") || isRunning(c.state)));
  let closed = false;
  ctx.s.onClose(() => (closed = true));
  let before = new Map<string, Sample>();
  for (const c of pick()) if (isRunning(c.state)) before.set(c.id, await sample(ctx, c));
  for (;;) {
    await new Promise((r) => setTimeout(r, opts.has("no-stream") ? 500 : 1000));
    const rows: Array<Record<string, string>> = [];
    const now = new Map<string, Sample>();
    for (const c of pick()) {
      const row = { ID: c.shortId, Container: c.shortId, Name: c.name, CPUPerc: "0.00%", MemUsage: "0B / 0B", MemPerc: "0.00%", NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0" };
      if (isRunning(c.state)) {
        const s = await sample(ctx, c);
        now.set(c.id, s);
        const b = before.get(c.id);
        const cpu = b && s.at > b.at ? ((s.cpu - b.cpu) / 1000 / (s.at - b.at)) * 100 : 0;
        Object.assign(row, { CPUPerc: `${cpu.toFixed(2)}%`, MemUsage: `${bytesSize(s.mem)} / ${bytesSize(s.limit)}`, MemPerc: `${s.limit ? ((s.mem / s.limit) * 100).toFixed(2) : "0.00"}%`, PIDs: String(s.pids) });
      }
      rows.push(row);
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
  const { opts, rest } = parseFlags(args, { "m,memory": "value", "memory-swap": "value", cpus: "value", "c,cpu-shares": "value", "pids-limit": "value", restart: "value" }, "update", { interspersed: true });
  requireArgs(rest, { min: 1 }, "update", "[OPTIONS] CONTAINER [CONTAINER...]\n\nUpdate configuration of one or more containers");
  const memory = opts.has("memory") ? parseBytes(last(opts, "memory")!, "-m, --memory") : undefined;
  const cpus = opts.has("cpus") ? parseCpus(last(opts, "cpus")!) : undefined;
  const pids = last(opts, "pids-limit");
  if (pids !== undefined && !/^-?\d+$/.test(pids)) throw new UsageError(`invalid argument "${pids}" for "--pids-limit" flag`);
  const shares = last(opts, "cpu-shares");
  const restart = opts.has("restart") ? parseRestartPolicy(last(opts, "restart")!) : undefined;
  return eachArgument(ctx, rest, async (ref) => {
    const c = ctx.containers.find(ref);
    if (restart && c.hostConfig.autoRemove && restart.name !== "no") throw new BerthError(ErrorCode.usage, `Cannot update container ${c.id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
    const flags: string[] = [];
    if (memory !== undefined) flags.push("--memory", String(memory));
    if (cpus !== undefined) flags.push("--cpu-quota", String(Math.round(cpus / 1e4)), "--cpu-period", "100000");
    if (pids !== undefined) flags.push("--pids-limit", pids);
    if (shares !== undefined) flags.push("--cpu-share", shares);
    if (flags.length && isRunning(c.state)) {
      const r = await ctx.containers.guest(["/usr/bin/crun", "update", ...flags, c.id]);
      if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot update container ${c.id}: ${r.stderr.trim()}`);
    }
    if (memory !== undefined) c.hostConfig.memory = memory;
    if (cpus !== undefined) c.hostConfig.nanoCpus = cpus;
    if (pids !== undefined) c.hostConfig.pidsLimit = Number(pids);
    if (shares !== undefined) c.hostConfig.cpuShares = Number(shares);
    if (restart) c.hostConfig.restartPolicy = restart;
    ctx.s.stdout(`${ref}\n`);
  });
};

const info: Handler = async (ctx) => {
  const list = ctx.containers.list();
  const count = (s: string): number => list.filter((c) => c.state.status === s).length;
  const r = await ctx.containers.guest(["/bin/sh", "-c", "uname -r; awk '/MemTotal/{print $2 * 1024}' /proc/meminfo; grep -c ^processor /proc/cpuinfo"]);
  const [kernel = "", mem = "0", cpus = "1"] = dec.decode(r.stdout).trim().split("\n");
  ctx.s.stdout([
    "Client:", " Version:    berth", " Context:    default", "",
    "Server:",
    ` Containers: ${list.length}`, `  Running: ${count(Status.running)}`, `  Paused: ${count(Status.paused)}`, `  Stopped: ${list.length - count(Status.running) - count(Status.paused)}`,
    ` Images: ${ctx.images.all().length}`,
    " Server Version: berth",
    " Storage Driver: overlay2", " Logging Driver: json-file", " Cgroup Driver: cgroupfs", " Cgroup Version: 2",
    " Runtimes: crun", " Default Runtime: crun",
    ` Kernel Version: ${kernel}`, " Operating System: Berth (v86)", " OSType: linux", " Architecture: i686",
    ` CPUs: ${cpus}`, ` Total Memory: ${bytesSize(Number(mem))}`, " Name: berth", "",
  ].join("\n") + "\n");
  return 0;
};

const systemDf: Handler = async (ctx) => {
  const list = ctx.containers.list();
  const used = new Set(list.map((c) => c.config.imageId));
  const images = ctx.images.all();
  const size = images.reduce((n, i) => n + i.size, 0);
  const reclaim = images.filter((i) => !used.has(i.id)).reduce((n, i) => n + i.size, 0);
  ctx.s.stdout(columns([
    ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
    ["Images", String(images.length), String(images.filter((i) => used.has(i.id)).length), humanSize(size), `${humanSize(reclaim)} (${size ? Math.round((reclaim / size) * 100) : 0}%)`],
    ["Containers", String(list.length), String(list.filter((c) => isRunning(c.state)).length), "0B", "0B"],
    ["Local Volumes", "0", "0", "0B", "0B"],
    ["Build Cache", "0", "0", "0B", "0B"],
  ]));
  return 0;
};

const containerPrune: Handler = async (ctx, args) => {
  const { opts } = parseFlags(args, { "f,force": "bool", filter: "value" }, "container prune", { interspersed: true });
  if (!(await confirm(ctx, "WARNING! This will remove all stopped containers.", opts.has("force")))) return 0;
  const gone = await pruneContainers(ctx);
  ctx.s.stdout(`${gone.length ? `Deleted Containers:\n${gone.join("\n")}\n\n` : ""}Total reclaimed space: 0B\n`);
  return 0;
};

async function pruneContainers(ctx: CliContext): Promise<string[]> {
  const gone: string[] = [];
  for (const c of ctx.containers.list()) {
    if (c.state.status !== Status.exited && c.state.status !== Status.created && c.state.status !== Status.dead) continue;
    await ctx.containers.remove(c);
    gone.push(c.id);
  }
  return gone;
}

const systemPrune: Handler = async (ctx, args) => {
  const { opts } = parseFlags(args, { "a,all": "bool", "f,force": "bool", volumes: "bool", filter: "value" }, "system prune", { interspersed: true });
  const warning = `WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - ${opts.has("all") ? "all images without at least one container associated to them" : "all dangling images"}\n  - ${opts.has("all") ? "all build cache" : "unused build cache"}\n`;
  if (!(await confirm(ctx, warning, opts.has("force")))) return 0;
  const gone = await pruneContainers(ctx);
  if (gone.length) ctx.s.stdout(`Deleted Containers:\n${gone.join("\n")}\n\n`);
  const networks = await pruneNetworks(ctx);
  if (networks.length) ctx.s.stdout(`Deleted Networks:\n${networks.join("\n")}\n\n`);
  ctx.s.stdout(await ctx.pruneImages(opts.has("all")));
  return 0;
};

export const EXTRA_COMMANDS: Record<string, Handler> = {
  cp, diff, commit, export: exportCmd, import: importCmd, top, stats, update, info, "system-df": systemDf, "system-prune": systemPrune,
  "container-prune": containerPrune, "image-import": importCmd, "container-export": exportCmd,
};
