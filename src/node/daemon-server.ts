import { existsSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { API_VERSION, type ApiReply, type Hijacked } from "../engine/api/api-types.js";
import type { ApiRouter } from "../engine/api/router.js";
import { BerthError, ErrorCode } from "../common/errors.js";

/** BERTH_API_LOG=1: each request's method and path on stderr */
const LOG = Boolean(process.env["BERTH_API_LOG"]);

/** The largest request body the daemon reads (JSON bodies; archives and builds come later, streamed). */
/** bytes a JSON request body may have */
const MAX_BODY = 16 * 1024 * 1024;
/** bytes a tar body may have: `docker load`, `docker cp` into a container, `docker import` */
const MAX_TAR_BODY = 1024 * 1024 * 1024;

/** The body limit of a request: tar uploads (archive PUT, images/load, images/create from a source) get the larger one. */
function bodyLimit(req: IncomingMessage): number {
  const path = (req.url ?? "").split("?")[0]!;
  return /\/(containers\/[^/]+\/archive|images\/load|images\/create)$/.test(path) ? MAX_TAR_BODY : MAX_BODY;
}

/** Headers on every answer, as Docker's daemon sends them: the client negotiates its API version from Api-Version. */
const COMMON = { "Api-Version": API_VERSION, "Docker-Experimental": "false", Ostype: "linux", Server: "Berth (linux)" };

/** A listening address: `unix:///path/docker.sock` or `tcp://127.0.0.1:2375`. */
export type DaemonHost = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/**
 * Parses a `-H` value like Docker's daemon does (`unix://PATH`, `tcp://HOST:PORT`).
 * @throws BerthError usage for anything else
 */
export function parseHost(h: string): DaemonHost {
  const unix = /^unix:\/\/(\/.+)$/.exec(h);
  if (unix) return { kind: "unix", path: unix[1]! };
  const tcp = /^tcp:\/\/([^:/]+|\[[0-9a-fA-F:]+\]):(\d+)\/?$/.exec(h);
  if (tcp && Number(tcp[2]) < 65536) return { kind: "tcp", host: tcp[1]!.replace(/^\[|\]$/g, ""), port: Number(tcp[2]) };
  throw new BerthError(ErrorCode.usage, `Cannot listen on "${h}": give unix:///PATH or tcp://HOST:PORT`);
}

/**
 * The Engine API on sockets: HTTP/1.1 from node:http, attach and exec start
 * taken over after a `101 UPGRADED` (or a 200 for clients that do not ask to
 * upgrade), streamed bodies chunked. A handler's failure is an error reply;
 * a request the server cannot read is Docker's 400/413; the daemon stays up.
 */
export class DaemonServer {
  readonly #router: ApiRouter;
  readonly #servers: Server[] = [];
  readonly #sockets: string[] = [];
  readonly #open = new Set<Duplex>();

  constructor(router: ApiRouter) {
    this.#router = router;
  }

  /**
   * Listens on `host`. A unix socket file left by a daemon that is gone is replaced;
   * one that answers is not.
   * @throws BerthError usage when the address is in use or cannot be listened on
   */
  async listen(host: DaemonHost): Promise<string> {
    const server = createServer((req, res) => void this.#request(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(req, socket, head));
    server.on("connection", (s) => {
      this.#open.add(s);
      s.on("close", () => this.#open.delete(s));
    });
    server.on("clientError", (_e, socket) => {
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: "bad request" })}\n`);
    });
    if (host.kind === "unix") {
      if (existsSync(host.path)) {
        if (await answers(host.path)) throw new BerthError(ErrorCode.usage, `Cannot listen on unix://${host.path}: another daemon is listening there`);
        unlinkSync(host.path);
      }
    }
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new BerthError(ErrorCode.usage, `Cannot listen on ${host.kind === "unix" ? `unix://${host.path}` : `tcp://${host.host}:${host.port}`}: ${e.message}`)));
      if (host.kind === "unix") server.listen(host.path, resolve);
      else server.listen(host.port, host.host, resolve);
    });
    this.#servers.push(server);
    if (host.kind === "unix") {
      this.#sockets.push(host.path);
      return `unix://${host.path}`;
    }
    const a = server.address() as { port: number };
    return `tcp://${host.host}:${a.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
    for (const p of this.#sockets) if (existsSync(p)) unlinkSync(p);
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    if (LOG) {
      process.stderr.write(`api: ${req.method} ${req.url}\n`);
      res.on("close", () => process.stderr.write(`api: ${req.method} ${req.url} done in ${Math.round(performance.now() - t0)} ms\n`));
    }
    const limit = bodyLimit(req);
    const body = await readBody(req, limit);
    if (!body) {
      reply(res, { kind: "json", status: 413, body: { message: `request body too large (over ${limit} bytes)` } });
      return;
    }
    const r = await this.#router.handle({ method: req.method ?? "GET", target: req.url ?? "/", headers: req.headers as Record<string, string>, body });
    if (r.kind === "hijack") {
      // a client that did not ask to upgrade gets the stream as the body; its stdin is not read
      res.writeHead(200, { ...COMMON, "Content-Type": r.contentType });
      const conn = hijacked({ write: (b) => res.write(b), end: () => res.end(), closed: () => res.destroyed || res.writableEnded, onClose: (f) => res.on("close", f) });
      await r.run(conn).catch(() => {});
      res.end();
      return;
    }
    await reply(res, r);
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (LOG) process.stderr.write(`api: ${req.method} ${req.url} (upgrade)\n`);
    socket.on("error", () => {});
    // the request's own body (exec start's JSON) comes before the stream's bytes
    const length = Number(req.headers["content-length"] ?? 0);
    let buffered = head;
    const pending: Buffer[] = [];
    if (length > MAX_BODY) return void socket.end("HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\n\r\n");
    while (buffered.length < length) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        socket.once("data", resolve);
        socket.once("end", () => resolve(undefined));
      });
      if (!chunk) return void socket.destroy();
      buffered = Buffer.concat([buffered, chunk]);
    }
    const body = new Uint8Array(buffered.subarray(0, length));
    if (buffered.length > length) pending.push(buffered.subarray(length));
    socket.pause();
    const r = await this.#router.handle({ method: req.method ?? "POST", target: req.url ?? "/", headers: req.headers as Record<string, string>, body });
    if (r.kind !== "hijack") {
      // an error (no such container, …) or a plain answer: as an ordinary response
      const text = r.kind === "json" ? `${JSON.stringify(r.body)}\n` : r.kind === "text" ? r.body : "";
      const type = r.kind === "json" ? "application/json" : r.kind === "text" ? r.contentType : "text/plain";
      socket.end(`HTTP/1.1 ${r.kind === "stream" ? 500 : r.status} ${r.kind === "json" && r.status >= 400 ? "Error" : "OK"}\r\n${headerLines(COMMON)}Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      return;
    }
    socket.write(`HTTP/1.1 101 UPGRADED\r\n${headerLines(COMMON)}Content-Type: ${r.contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    const listeners = new Set<(b: Uint8Array) => void>();
    let ended = false;
    const conn = hijacked({
      write: (b) => socket.writable && socket.write(b),
      end: () => socket.end(),
      closed: () => socket.destroyed || !socket.writable,
      onClose: (f) => socket.on("close", f),
      onData: (f) => {
        listeners.add(f);
        for (const b of pending.splice(0)) f(new Uint8Array(b));
        if (ended) f(new Uint8Array(0));
      },
    });
    socket.on("data", (b: Buffer) => {
      if (listeners.size === 0) pending.push(b);
      for (const f of listeners) f(new Uint8Array(b));
    });
    // the client closed its side (stdin's end); the output still flows
    socket.on("end", () => {
      ended = true;
      for (const f of listeners) f(new Uint8Array(0));
    });
    socket.resume();
    await r.run(conn).catch(() => {});
    socket.end();
  }
}

function hijacked(io: { write(b: Uint8Array): unknown; end(): void; closed(): boolean; onClose(f: () => void): void; onData?: (f: (b: Uint8Array) => void) => void }): Hijacked {
  return {
    write: (b) => void io.write(b),
    onData: (f) => io.onData?.(f),
    onClose: (f) => io.onClose(f),
    get closed() {
      return io.closed();
    },
  };
}

function headerLines(h: Record<string, string>): string {
  return Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join("");
}

async function reply(res: ServerResponse, r: Exclude<ApiReply, { kind: "hijack" }>): Promise<void> {
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  switch (r.kind) {
    case "json": {
      const text = `${JSON.stringify(r.body)}\n`;
      res.writeHead(r.status, { ...COMMON, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    case "empty":
      res.writeHead(r.status, COMMON);
      res.end();
      return;
    case "text":
      res.writeHead(r.status, { ...COMMON, "Content-Type": r.contentType, "Content-Length": Buffer.byteLength(r.body) });
      res.end(r.body);
      return;
    case "stream": {
      res.writeHead(r.status, { ...COMMON, "Content-Type": r.contentType });
      // the head goes now: a client may wait for it before its next request (wait, then start)
      res.flushHeaders();
      const closers = new Set<() => void>();
      res.on("close", () => closers.forEach((f) => f()));
      await r
        .run({
          write: (b) => void (res.writableEnded || res.destroyed ? undefined : res.write(b)),
          onClose: (f) => closers.add(f),
          get closed() {
            return res.destroyed || res.writableEnded;
          },
        })
        .catch(() => {});
      res.end();
    }
  }
}

/** The whole body, or undefined when it is over `limit` bytes (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (b: Buffer) => {
      size += b.length;
      if (size <= limit) parts.push(b);
    });
    req.on("end", () => resolve(size > limit ? undefined : new Uint8Array(Buffer.concat(parts))));
    req.on("error", () => resolve(undefined));
  });
}

/** Whether something answers on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
