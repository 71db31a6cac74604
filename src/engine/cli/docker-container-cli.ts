import { mountPoints } from "../daemon/container-mounts.js";
import { networkJson } from "../daemon/network-inspect.js";
import { humanSize } from "../../common/docker-format.js";
import { containerSizes } from "../daemon/system-df.js";
import { parseTime } from "../../common/docker-flags.js";
import { randomId } from "../random-id.js";
import { Status, isRunning, statusText } from "../../common/container-state.js";
import { ellipsis, humanDuration, rfc3339Nano } from "../../common/docker-format.js";
import { runtimeError, startCommand } from "../containers/runtime-error.js";
import { clientError, usageError, last, parseFlags, requireArgs, UsageKind, type FlagSpec } from "../../common/docker-flags.js";
import { BerthError, ErrorCode, isBerthError } from "../../common/errors.js";
import { formatBinding } from "../../common/port-spec.js";
import { envValues, keyValues, parseRunArgs } from "../../common/api/run-flags.js";
import type { Container } from "../containers/containers.js";
import { checkContainerName, createContainer, resolveUser } from "../daemon/container-create.js";
import { listContainers } from "../daemon/container-list.js";
import { streamLogs } from "../daemon/container-logs.js";
import { containerJson } from "../daemon/container-inspect.js";
import { eachArgument, filtersOf, imageJson, printFormat, printInspect, readClientFile, writeClientFile, type CliContext, type Handler } from "./docker-cli-context.js";
import { EXTRA_COMMANDS } from "./docker-container-extra.js";
import { ARCHIVE_COMMANDS } from "./docker-image-archive.js";
import { NETWORK_COMMANDS } from "./docker-network-cli.js";
import { VOLUME_COMMANDS } from "./docker-volume-cli.js";
import { attach, detachKeysOf } from "./docker-attach.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * `--env-file` lines as Docker's CLI reads them (opts.ParseEnvFile): blank and
 * "#" lines skipped, leading space trimmed, a name with whitespace refused.
 * @throws BerthError usage, Docker's words ("invalid env file (f): variable 'export A' contains whitespaces")
 */
async function envFiles(ctx: CliContext, files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    for (const line of dec.decode(await readClientFile(ctx, f, `read env file "${f}"`)).split("\n")) {
      const t = line.replace(/^\s+/, "").replace(/\r$/, "");
      if (!t || t.startsWith("#")) continue;
      const name = t.split("=")[0]!;
      if (/\s/.test(name)) throw usageError(`invalid env file (${f}): variable '${name}' contains whitespaces`);
      if (name === "") throw usageError(`invalid env file (${f}): no variable name on line '${t}'`);
      out.push(t);
    }
  }
  return envValues(out, ctx.s.env);
}

/**
 * `docker create`/`run`: flags to Docker's create body (what the real CLI sends
 * to POST /containers/create), the image pulled when missing (the CLI's part in
 * Docker), then the daemon's create operation.
 */
async function createFrom(ctx: CliContext, cmd: "run" | "create", args: string[]): Promise<{ c: Container; opts: Map<string, string[]>; negated: Set<string> }> {
  const { body, opts, negated, name, platform, pull } = parseRunArgs(ctx.path, args, [`PWD=${ctx.s.cwd}`, ...ctx.s.env]);
  if (cmd === "run" && body.Tty && body.OpenStdin && !ctx.s.tty && !opts.has("detach")) {
    throw clientError("the input device is not a TTY");
  }
  // --env-file is read from the client's files, before -e's values (Docker's order)
  body.Env = [...(await envFiles(ctx, opts.get("env-file") ?? [])), ...(body.Env ?? [])];
  // --label-file's lines come before --label's (docker/cli opts.ReadKVStrings)
  const lines: string[] = [];
  for (const f of opts.get("label-file") ?? []) {
    lines.push(...dec.decode(await readClientFile(ctx, f, `read label file "${f}"`)).split("\n").map((l) => l.trim()).filter((t) => t && !t.startsWith("#")));
  }
  body.Labels = { ...keyValues(lines), ...(body.Labels ?? {}) };
  const cidfile = last(opts, "cidfile");
  if (cidfile !== undefined && (await ctx.containers.guest(["/bin/sh", "-c", 'test -e "$1"', "cidfile", cidfile], { cwd: ctx.s.cwd })).code === 0) {
    throw usageError(`container ID file found, make sure the other container isn't running or delete ${cidfile}`);
  }
  const imageName = body.Image!;
  // the image is pulled by the client before the daemon creates (Docker's CLI does the same)
  if (name !== undefined) checkContainerName(name, cmd); // before anything is pulled
  await ctx.ensureImage(imageName, { platform, pull, quiet: opts.has("quiet") });
  const { container: c, warnings } = await createContainer(ctx, body, { ...(name !== undefined ? { name } : {}), action: cmd });
  for (const w of warnings) ctx.s.stderr(`WARNING: ${w}\n`);
  if (cidfile !== undefined) await writeClientFile(ctx, cidfile, enc.encode(c.id), `write the container ID file "${cidfile}"`);
  return { c, opts, negated };
}

const run: Handler = async (ctx, args) => {
  const { c, opts, negated } = await createFrom(ctx, "run", args);
  if (opts.has("detach")) {
    try {
      await ctx.containers.start(c);
    } catch (e) {
      // the runtime's words, from which the CLI reads 127 or 126 (as attached runs below)
      if (isBerthError(e) && e.code === ErrorCode.containerStartFailed) throw new BerthError(e.code, runtimeError(e.message, startCommand(c)));
      throw e;
    }
    ctx.s.stdout(`${c.id}\n`);
    return 0;
  }
  const streams = opts.has("attach") ? new Set(opts.get("attach")!.map((a) => a.toLowerCase())) : undefined;
  const a = attach(ctx, c, { stdin: opts.has("interactive") && (!streams || streams.has("stdin")), ...(streams ? { streams } : {}), sigProxy: !negated.has("sig-proxy"), ...detachKeysOf(opts) });
  try {
    await ctx.containers.start(c, { onCreated: a.wire });
  } catch (e) {
    if (c.hostConfig.autoRemove) await removeRun(ctx.containers, c);
    // Docker's runtime words: the CLI reads 127 (no such command) or 126 (not executable) from them, as run.go does
    if (isBerthError(e) && e.code === ErrorCode.containerStartFailed) throw new BerthError(e.code, runtimeError(e.message, startCommand(c)));
    throw e;
  }
  const code = await a.attached;
  if (code === undefined) return 0;
  if (c.hostConfig.autoRemove) await removeRun(ctx.containers, c);
  return code;
};

/**
 * `run --rm`'s end: the container and its anonymous volumes gone (the daemon
 * may be removing it already), as Docker's CLI waits for condition "removed".
 */
async function removeRun(containers: CliContext["containers"], c: Container): Promise<void> {
  await containers.remove(c, { force: true, volumes: true });
  await c.removed;
}

const create: Handler = async (ctx, args) => {
  const { c } = await createFrom(ctx, "create", args);
  ctx.s.stdout(`${c.id}\n`);
  return 0;
};

/** A command applied to each named container: prints the name as given, or the error. */
function each(flags: FlagSpec, act: (ctx: CliContext, c: Container, opts: Map<string, string[]>) => Promise<string | void>): Handler {
  return async (ctx, args) => {
    const { opts, rest } = parseFlags(args, flags, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    return eachArgument(ctx, rest, async (ref) => {
      const out = await act(ctx, ctx.containers.find(ref), opts);
      ctx.s.stdout(`${out ?? ref}\n`);
    }, opts.has("force") ? { force: "print" } : {});
  };
}

/** `-t, --timeout` (or the deprecated `--time`), seconds. */
const timeoutOf = (opts: Map<string, string[]>): number | undefined => {
  const t = last(opts, "timeout") ?? last(opts, "time");
  return t === undefined ? undefined : Number(t);
};

const start: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,attach": "bool", "i,interactive": "bool", "detach-keys": "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  if (opts.has("attach") || opts.has("interactive")) {
    if (rest.length > 1) throw usageError("you cannot start and attach multiple containers at once");
    const c = ctx.containers.find(rest[0]!);
    const a = attach(ctx, c, { stdin: opts.has("interactive"), sigProxy: true, ...detachKeysOf(opts) });
    await ctx.containers.start(c, { onCreated: a.wire });
    return (await a.attached) ?? 0;
  }
  const failed: string[] = [];
  await eachArgument(ctx, rest, async (ref) => {
    try {
      await ctx.containers.start(ctx.containers.find(ref));
      ctx.s.stdout(`${ref}\n`);
    } catch (e) {
      failed.push(ref);
      throw e;
    }
  });
  // docker 28.2.2's closing line (cli/command/container/start.go)
  if (failed.length) throw new BerthError(ErrorCode.usage, `Error: failed to start containers: ${failed.join(", ")}`, { detail: UsageKind.options });
  return 0;
};

const stop = each({ "t,timeout": "value", time: "value", "s,signal": "value" }, async (ctx, c, opts) => {
  if (opts.has("signal")) c.config.stopSignal = last(opts, "signal")!;
  await ctx.containers.stop(c, timeoutOf(opts));
});

const restart = each({ "t,timeout": "value", time: "value", "s,signal": "value" }, async (ctx, c, opts) => {
  await ctx.containers.restart(c, timeoutOf(opts));
});

const kill = each({ "s,signal": "value" }, async (ctx, c, opts) => {
  await ctx.containers.kill(c, last(opts, "signal") ?? "KILL");
});

const rm = each({ "f,force": "bool", "v,volumes": "bool" }, async (ctx, c, opts) => {
  await ctx.containers.remove(c, { force: opts.has("force"), volumes: opts.has("volumes") });
});

const pause = each({}, (ctx, c) => ctx.containers.pause(c));
const unpause = each({}, (ctx, c) => ctx.containers.unpause(c));

const wait: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  return eachArgument(ctx, rest, async (ref) => {
    const c = ctx.containers.find(ref);
    ctx.s.stdout(`${await ctx.containers.wait(c)}\n`);
  });
};

const rename: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 2 }, ctx.path);
  ctx.containers.rename(ctx.containers.find(rest[0]!), rest[1]!);
  return 0;
};

function commandLine(c: Container): string {
  return [...(c.hostConfig.init ? ["/sbin/docker-init", "--"] : []), ...c.config.entrypoint, ...c.config.cmd].join(" ");
}

/**
 * One `docker ps` row's fields, by Docker's template names.
 * @param size the writable layer's bytes and, with the image's, the virtual size (ps -s; docker/cli formatter/container.go)
 */
export function psRow(c: Container, noTrunc: boolean, size?: { SizeRw: number; SizeRootFs: number }): Record<string, unknown> {
  const cmd = commandLine(c);
  return {
    ID: noTrunc ? c.id : c.shortId,
    Image: c.config.image,
    Command: noTrunc ? `"${cmd}"` : `"${ellipsis(cmd, 20)}"`,
    CreatedAt: new Date(c.created).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC"),
    RunningFor: `${humanDuration(Date.now() - c.created)} ago`,
    Ports: c.ports.map(formatBinding).join(", "),
    State: c.state.status,
    Status: statusText(c.state),
    Size: size ? `${humanSize(size.SizeRw)}${size.SizeRootFs > 0 ? ` (virtual ${humanSize(size.SizeRootFs)})` : ""}` : "0B",
    Names: c.name,
    Labels: Object.entries(c.config.labels).map(([k, v]) => `${k}=${v}`).join(","),
    // docker/cli's formatter: a volume's name or a bind's source, each cut to 15 with an ellipsis
    Mounts: mountPoints(c).map((m) => (noTrunc ? m.Name || m.Source : ellipsis(m.Name || m.Source, 15))).join(","),
    Networks: c.hostConfig.networks.join(",") || c.hostConfig.networkMode,
  };
}

const ps: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "a,all": "bool", "q,quiet": "bool", "n,last": "value", "l,latest": "bool", "s,size": "bool", "no-trunc": "bool", "f,filter": "value", format: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const filters = filtersOf(opts);
  const n = opts.has("latest") ? 1 : opts.has("last") ? Number(last(opts, "last")) : -1;
  const list = listContainers(ctx.containers.list(), ctx.images, { all: opts.has("all"), limit: n, filters });
  if (opts.has("quiet")) {
    ctx.s.stdout(list.map((c) => `${opts.has("no-trunc") ? c.id : c.shortId}\n`).join(""));
    return 0;
  }
  const sizes = opts.has("size") || /\{\{[^}]*\.Size\b/.test(last(opts, "format") ?? "") ? await containerSizes(ctx, list) : undefined;
  const rows = list.map((c) => psRow(c, opts.has("no-trunc"), sizes?.get(c.id)));
  const headers = { ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT", RunningFor: "CREATED", Ports: "PORTS", State: "STATE", Status: "STATUS", Size: "SIZE", Names: "NAMES", Labels: "LABELS", Mounts: "MOUNTS", Networks: "NETWORKS" };
  const format = last(opts, "format") ?? `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${opts.has("size") ? "\t{{.Size}}" : ""}`;
  return printFormat(ctx, format, rows, headers);
};

const logs: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "f,follow": "bool", "n,tail": "value", since: "value", until: "value", "t,timestamps": "bool", details: "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 1 }, ctx.path);
  const c = ctx.containers.find(rest[0]!);
  const since = opts.has("since") ? parseTime(last(opts, "since")!, "since") : 0;
  const until = opts.has("until") ? parseTime(last(opts, "until")!, "until") : Infinity;
  const tail = last(opts, "tail") ?? "all";
  if (tail !== "all" && !/^-?\d+$/.test(tail)) throw usageError(`invalid argument "${tail}" for "-n, --tail" flag`);
  const print = (l: { stream: "stdout" | "stderr"; bytes: Uint8Array; time: number }): void => {
    const bytes = opts.has("timestamps") ? concatText(`${rfc3339Nano(l.time)} `, l.bytes) : l.bytes;
    if (l.stream === "stdout") ctx.s.stdout(bytes);
    else ctx.s.stderr(bytes);
  };
  await streamLogs(ctx.containers, c, { since, until, tail, follow: opts.has("follow") }, print, (f) => ctx.s.onClose(f));
  return 0;
};

function concatText(prefix: string, b: Uint8Array): Uint8Array {
  const p = enc.encode(prefix);
  const out = new Uint8Array(p.length + b.length);
  out.set(p);
  out.set(b, p.length);
  return out;
}

const exec: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "d,detach": "bool", "i,interactive": "bool", "t,tty": "bool", "e,env": "value", "env-file": "value", "u,user": "value", "w,workdir": "value" }, ctx.path);
  requireArgs(rest, { min: 2 }, ctx.path);
  const s = ctx.s;
  const c = ctx.containers.find(rest[0]!);
  const tty = opts.has("tty");
  const stdin = opts.has("interactive");
  if (tty && stdin && !s.tty && !opts.has("detach")) throw clientError("the input device is not a TTY");
  const local = ctx.images.find(c.config.imageId);
  const userSpec = last(opts, "user");
  const user = userSpec && local ? await resolveUser(ctx, local, userSpec, (why) => new BerthError(ErrorCode.invalidParameter, `Cannot run as "${userSpec}": ${why}`)) : undefined;
  const detach = opts.has("detach");
  const env = [...(await envFiles(ctx, opts.get("env-file") ?? [])), ...envValues(opts.get("env") ?? [], s.env)];
  const wd = last(opts, "workdir");
  const execId = randomId();
  ctx.containers.event(c, `exec_create: ${rest.slice(1).join(" ")}`, { execID: execId });
  const p = ctx.containers.exec(c, rest.slice(1), {
    execId,
    tty,
    stdin: stdin && !detach,
    ...(detach ? {} : { onStdout: (b: Uint8Array) => s.stdout(b), onStderr: (b: Uint8Array) => s.stderr(b) }),
    env,
    ...(user ? { user: `${user.uid}:${user.gid}` } : userSpec ? { user: userSpec } : {}),
    ...(wd ? { workdir: wd } : {}),
  });
  if (detach) {
    p.exit.catch(() => {});
    return 0;
  }
  if (tty) {
    p.resize(s.rows || 24, s.cols || 80);
    s.onResize((rows, cols) => p.resize(rows, cols));
    if (stdin && s.tty) s.raw();
  }
  if (stdin) {
    s.onStdin((b) => (b.length ? p.write(b) : tty ? undefined : p.closeStdin()));
    s.onClose(() => {
      if (!tty) p.closeStdin();
      else p.kill(1);
    });
  }
  return p.exit;
};

const attachCmd: Handler = async (ctx, args) => {
  const { opts, rest, negated } = parseFlags(args, { "no-stdin": "bool", "sig-proxy": "bool", "detach-keys": "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 1 }, ctx.path);
  const c = ctx.containers.find(rest[0]!);
  if (!isRunning(c.state)) throw new BerthError(ErrorCode.containerWrongState, `Cannot attach to "${c.name}": You cannot attach to a stopped container, start it first`);
  if (c.state.status === Status.paused) throw new BerthError(ErrorCode.containerWrongState, `Cannot attach to "${c.name}": You cannot attach to a paused container, unpause it first`);
  const a = attach(ctx, c, { stdin: !opts.has("no-stdin") && c.config.openStdin, sigProxy: !negated.has("sig-proxy"), ...detachKeysOf(opts) });
  if (c.proc) a.wire(c.proc);
  return (await a.attached) ?? 0;
};

const INSPECT_TYPES = ["config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"];

const inspect: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "f,format": "value", type: "value", "s,size": "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  const type = last(opts, "type");
  if (type !== undefined && !INSPECT_TYPES.includes(type)) throw usageError(`unknown type: "${type}": must be one of ${INSPECT_TYPES.map((t) => `"${t}"`).join(", ")}`);
  const any = type === undefined;
  const size = opts.has("size") ? await containerSizes(ctx, rest.flatMap((n) => ctx.containers.tryFind(n) ?? [])) : undefined;
  return printInspect(ctx, rest.map((n) => () => {
    const c = any || type === "container" ? ctx.containers.tryFind(n) : undefined;
    if (c) return { ...containerJson(ctx, c), ...size?.get(c.id) };
    const i = any || type === "image" ? ctx.images.find(n) : undefined;
    if (i) return imageJson(ctx.images, i);
    const net = any || type === "network" ? ctx.networks.list().find((x) => x.name === n || x.id === n || x.id.startsWith(n)) : undefined;
    if (net) return networkJson(ctx, net);
    const code = type === "image" ? ErrorCode.imageNotFound : type === "network" ? ErrorCode.networkNotFound : ErrorCode.containerNotFound;
    throw new BerthError(code, type === "network" ? `Cannot inspect "${n}": network ${n} not found` : `Cannot inspect "${n}": No such ${any ? "object" : type}: ${n}`);
  }), last(opts, "format"), { anyType: any });
};

const containerInspect: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "f,format": "value", "s,size": "bool" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  const size = opts.has("size") ? await containerSizes(ctx, rest.flatMap((n) => ctx.containers.tryFind(n) ?? [])) : undefined;
  return printInspect(ctx, rest.map((n) => () => {
    const c = ctx.containers.find(n);
    return { ...containerJson(ctx, c), ...size?.get(c.id) };
  }), last(opts, "format"));
};

const port: Handler = async (ctx, args) => {
  const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1, max: 2 }, ctx.path);
  const c = ctx.containers.find(rest[0]!);
  const want = rest[1] ? (rest[1].includes("/") ? rest[1] : `${rest[1]}/tcp`) : undefined;
  const hits = c.ports.filter((p) => !want || `${p.containerPort}/${p.proto}` === want);
  if (want && hits.length === 0) throw new BerthError(ErrorCode.usage, `Cannot show port "${rest[1]}": No public port '${want}' published for ${c.name}`);
  for (const p of hits) ctx.s.stdout(want ? `${p.hostIp || "0.0.0.0"}:${p.hostPort}\n` : `${p.containerPort}/${p.proto} -> ${p.hostIp || "0.0.0.0"}:${p.hostPort}\n`);
  return 0;
};


export const CONTAINER_COMMANDS: Record<string, Handler> = {
  run, create, start, stop, restart, kill, rm, pause, unpause, wait, rename, ps, logs, exec, attach: attachCmd, inspect, port,
  "container-inspect": containerInspect, ...EXTRA_COMMANDS, ...ARCHIVE_COMMANDS, ...NETWORK_COMMANDS, ...VOLUME_COMMANDS,
};
