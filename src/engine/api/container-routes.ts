import { mountPoints } from "../daemon/container-mounts.js";
import { containerSizes } from "../daemon/system-df.js";
import type { ContainerCreateBody } from "../../common/api/container-create.js";
import { Status, isRunning, statusText } from "../../common/container-state.js";
import { rfc3339Nano } from "../../common/docker-format.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Container, LogLine } from "../containers/containers.js";
import { createContainer } from "../daemon/container-create.js";
import { containerJson } from "../daemon/container-inspect.js";
import { listContainers } from "../daemon/container-list.js";
import { streamLogs } from "../daemon/container-logs.js";
import { pruneContainers } from "../daemon/prune.js";
import { runtimeError, startCommand } from "../containers/runtime-error.js";
import type { Daemon } from "../daemon/daemon.js";
import type { GuestProcess } from "../vm/guest-channel.js";
import { MULTIPLEXED_STREAM, RAW_STREAM, boolParam, empty, frame, json, type ApiReply, type Hijacked, type StreamSink } from "./api-types.js";
import { jsonBody, route, type Route } from "./router.js";

const enc = new TextEncoder();

/** `GET /containers/json`'s items (moby api/types/container.Summary). */
export function containerSummary(d: Daemon, c: Container): Record<string, unknown> {
  const h = c.hostConfig;
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.config.image,
    ImageID: c.config.imageId,
    Command: [...(h.init ? ["/sbin/docker-init", "--"] : []), ...c.config.entrypoint, ...c.config.cmd].join(" "),
    Created: Math.floor(c.created / 1000),
    Ports: (isRunning(c.state) ? c.ports : []).map((p) => ({ IP: p.hostIp || "0.0.0.0", PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto })),
    Labels: c.config.labels,
    State: c.state.status,
    Status: statusText(c.state),
    HostConfig: { NetworkMode: h.networkMode },
    NetworkSettings: { Networks: (containerJson(d, c)["NetworkSettings"] as { Networks: unknown }).Networks },
    Mounts: mountPoints(c),
  };
}

/** Docker's `filters` query parameter: {"status": ["running"]}, or the older {"status": {"running": true}}. */
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get("filters");
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BerthError(ErrorCode.invalidParameter, `Cannot read the filters: invalid filter JSON: ${raw}`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, vals] of Object.entries((v ?? {}) as Record<string, unknown>)) {
    out[k] = Array.isArray(vals) ? vals.map(String) : Object.entries((vals ?? {}) as Record<string, boolean>).filter(([, on]) => on).map(([x]) => x);
  }
  return out;
}

const intParam = (q: URLSearchParams, name: string): number | undefined => {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the request: invalid value for ${name}: ${v}`);
  return Number(v);
};

/** Seconds as Docker's since/until ("1700000000", "1700000000.5"): ms, or undefined. */
const timeParam = (q: URLSearchParams, name: string): number | undefined => {
  const v = q.get(name);
  if (v === null || v === "" || v === "0") return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the request: invalid value for ${name}: ${v}`);
  return Number(v) * 1000;
};

/** Output to a client: raw bytes on a TTY, Docker's stdcopy frames otherwise. */
function writer(c: Container, out: { write(b: Uint8Array): void }, o: { stdout: boolean; stderr: boolean }): { stdout(b: Uint8Array): void; stderr(b: Uint8Array): void } {
  const tty = c.config.tty;
  return {
    stdout: (b) => o.stdout && out.write(tty ? b : frame(1, b)),
    stderr: (b) => o.stderr && out.write(tty ? b : frame(2, b)),
  };
}

function logs(d: Daemon, c: Container, q: URLSearchParams): ApiReply {
  const stdout = boolParam(q, "stdout");
  const stderr = boolParam(q, "stderr");
  if (!stdout && !stderr) throw new BerthError(ErrorCode.invalidParameter, "Cannot show the logs: Bad parameters: you must choose at least one stream");
  const since = timeParam(q, "since") ?? 0;
  const until = timeParam(q, "until") ?? Infinity;
  const tail = q.get("tail") ?? "all";
  const timestamps = boolParam(q, "timestamps");
  return {
    kind: "stream",
    status: 200,
    contentType: c.config.tty ? RAW_STREAM : MULTIPLEXED_STREAM,
    run: async (out: StreamSink) => {
      const w = writer(c, out, { stdout, stderr });
      const send = (l: LogLine): void => {
        const bytes = timestamps ? enc.encode(`${rfc3339Nano(l.time)} ${new TextDecoder().decode(l.bytes)}`) : l.bytes;
        w[l.stream](bytes);
      };
      await streamLogs(d.containers, c, { since, until, tail, follow: boolParam(q, "follow") }, send, (f) => out.onClose(f));
    },
  };
}

/**
 * `POST /containers/{id}/attach`: the connection carries the container's
 * output until it exits, and the client's bytes to its stdin when asked. An
 * attach before the start (docker run) is wired when the process is created.
 */
function attach(d: Daemon, c: Container, q: URLSearchParams): ApiReply {
  const streams = { stdout: boolParam(q, "stdout"), stderr: boolParam(q, "stderr") };
  const stdin = boolParam(q, "stdin");
  if (!boolParam(q, "stream") && !boolParam(q, "logs")) throw new BerthError(ErrorCode.invalidParameter, "Cannot attach: Bad parameters: you must choose at least one stream");
  return {
    kind: "hijack",
    contentType: c.config.tty ? RAW_STREAM : MULTIPLEXED_STREAM,
    run: async (conn: Hijacked) => {
      const link = writer(c, conn, streams);
      if (boolParam(q, "logs")) for (const l of c.logs) link[l.stream](l.bytes);
      if (!boolParam(q, "stream")) return;
      const wire = (p: GuestProcess): void => {
        if (!stdin) {
          if (!c.config.tty && !c.config.openStdin) p.closeStdin();
          return;
        }
        conn.onData((b) => {
          if (b.length) p.write(b);
          else if (!c.config.tty && c.config.stdinOnce) p.closeStdin();
        });
      };
      const exited = d.containers.nextExit(c);
      c.attached.add(link);
      try {
        if (c.proc && isRunning(c.state)) {
          if (stdin) wire(c.proc);
        } else if (c.state.status === Status.created || c.state.status === Status.exited || c.state.status === Status.restarting) {
          c.pendingWire = wire;
        }
        await Promise.race([exited, new Promise<void>((r) => conn.onClose(r))]);
      } finally {
        c.attached.delete(link);
      }
    },
  };
}

/**
 * `POST /containers/{id}/wait?condition=not-running|next-exit|removed`: the
 * response head goes at once and {StatusCode, Error} when the condition is met,
 * as Docker's daemon does: the CLI waits for the head before it starts the container.
 */
function wait(d: Daemon, c: Container, q: URLSearchParams): ApiReply {
  const condition = q.get("condition") || "not-running";
  if (!["not-running", "next-exit", "removed"].includes(condition)) throw new BerthError(ErrorCode.invalidParameter, `Cannot wait: invalid condition: "${condition}"`);
  const code = condition === "next-exit" ? d.containers.nextExit(c) : d.containers.wait(c);
  return {
    kind: "stream",
    status: 200,
    contentType: "application/json",
    run: async (out) => {
      const status = await code;
      if (condition === "removed") await c.removed;
      out.write(`${JSON.stringify({ StatusCode: status, Error: c.state.error ? { Message: c.state.error } : null })}\n`);
    },
  };
}


/** Engine API routes for containers. */
export function containerRoutes(d: Daemon): Route[] {
  const find = (ref: string): Container => d.containers.find(ref);
  return [
    route("GET", "/containers/json", async (req) => {
      const q = req.query;
      const list = listContainers(d.containers.list(), d.images, { all: boolParam(q, "all"), limit: intParam(q, "limit") ?? -1, filters: filtersParam(q) });
      // size=1 (docker ps -s): SizeRw and SizeRootFs
      const sizes = boolParam(q, "size") ? await containerSizes(d, list) : undefined;
      return json(list.map((c) => ({ ...containerSummary(d, c), ...sizes?.get(c.id) })));
    }),
    route("POST", "/containers/create", async (req) => {
      const body = jsonBody<ContainerCreateBody>(req);
      if (typeof body.Image !== "string" || !body.Image) throw new BerthError(ErrorCode.invalidParameter, "Cannot create the container: config cannot be empty in order to create a container");
      const name = req.query.get("name");
      const { container, warnings } = await createContainer(d, body, name ? { name } : {});
      return json({ Id: container.id, Warnings: warnings }, 201);
    }),
    route("GET", "/containers/{id}/json", (_req, [id]) => json(containerJson(d, find(id!)))),
    route("POST", "/containers/prune", async (req) => json(await pruneContainers(d, filtersParam(req.query)))),
    route("POST", "/containers/{id}/start", async (_req, [id]) => {
      const c = find(id!);
      if (isRunning(c.state)) return empty(304);
      try {
        await d.containers.start(c);
      } catch (e) {
        // Docker's daemon removes an AutoRemove container whose start failed (wait condition=removed ends)
        if (c.hostConfig.autoRemove) await d.containers.remove(c, { force: true }).catch(() => {});
        throw e instanceof BerthError && e.code === ErrorCode.containerStartFailed ? new BerthError(e.code, runtimeError(e.message, startCommand(c))) : e;
      }
      return empty();
    }),
    route("POST", "/containers/{id}/stop", async (req, [id]) => {
      const c = find(id!);
      if (!isRunning(c.state) && c.state.status !== Status.restarting) return empty(304);
      const signal = req.query.get("signal");
      if (signal) c.config.stopSignal = signal;
      await d.containers.stop(c, intParam(req.query, "t"));
      return empty();
    }),
    route("POST", "/containers/{id}/restart", async (req, [id]) => {
      await d.containers.restart(find(id!), intParam(req.query, "t"));
      return empty();
    }),
    route("POST", "/containers/{id}/kill", async (req, [id]) => {
      await d.containers.kill(find(id!), req.query.get("signal") || "KILL");
      return empty();
    }),
    route("POST", "/containers/{id}/pause", async (_req, [id]) => {
      await d.containers.pause(find(id!));
      return empty();
    }),
    route("POST", "/containers/{id}/unpause", async (_req, [id]) => {
      await d.containers.unpause(find(id!));
      return empty();
    }),
    route("POST", "/containers/{id}/rename", (req, [id]) => {
      const name = req.query.get("name") ?? "";
      d.containers.rename(find(id!), name.replace(/^\//, ""));
      return empty();
    }),
    route("POST", "/containers/{id}/wait", (req, [id]) => wait(d, find(id!), req.query)),
    route("DELETE", "/containers/{id}", async (req, [id]) => {
      await d.containers.remove(find(id!), { force: boolParam(req.query, "force"), volumes: boolParam(req.query, "v") });
      return empty();
    }),
    route("GET", "/containers/{id}/logs", (req, [id]) => logs(d, find(id!), req.query)),
    route("POST", "/containers/{id}/attach", (req, [id]) => attach(d, find(id!), req.query)),
    route("POST", "/containers/{id}/resize", (req, [id]) => {
      const c = find(id!);
      const h = intParam(req.query, "h") ?? 0;
      const w = intParam(req.query, "w") ?? 0;
      if (c.proc && c.config.tty && h > 0 && w > 0) c.proc.resize(h, w);
      return empty(200);
    }),
  ];
}
