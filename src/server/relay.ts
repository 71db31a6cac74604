// The network relay: the one file that imports ws on the server side.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * The WebSocket relay guests' NICs talk to (v86 sends one Ethernet frame per
 * binary message). A room is one network: a learning switch between the VMs
 * in it and, unless switched off, an uplink through Debian's passt (DHCP, DNS
 * and NAT to the outside; one passt per room, spoken to over its socket in
 * 4-byte-length-prefixed frames). A room's URL carries a token (an HMAC of
 * its name), so only those given the URL can join.
 */
export interface RelayOptions {
  /** an uplink per room through passt (default true) */
  uplink?: boolean;
  /** let the uplink reach the relay host's loopback through the gateway address (passt's map-gw); default false */
  allowLoopback?: boolean;
  /** let the uplink reach private, link-local and metadata addresses; default false */
  allowPrivate?: boolean;
  passtPath?: string;
  /** bytes; larger frames get their sender dropped (default 1536: Ethernet and a VLAN tag) */
  maxFrame?: number;
  /** frames a client may send per second before it is dropped (default 20000) */
  maxFramesPerSecond?: number;
  maxClientsPerRoom?: number;
  maxClientsPerIp?: number;
  /** rooms one address may be in at once (default 8) */
  maxRoomsPerIp?: number;
  /** a room with no frames for this long is closed (default 30 minutes) */
  idleMs?: number;
  log?: (line: string) => void;
}

interface Port {
  send(frame: Uint8Array): void;
}

interface Room {
  name: string;
  clients: Set<Client>;
  macs: Map<string, Port>;
  uplink: Uplink | undefined;
  lastFrame: number;
}

interface Client extends Port {
  ws: WebSocket;
  ip: string;
  frames: number;
  windowStart: number;
}

const mac = (b: Uint8Array, off: number): string => Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, "0")).join(":");

/** An IPv4 destination the uplink must not reach unless allowed: private, loopback, link-local (metadata), CGNAT. */
export function isPrivateIPv4(a: number, b: number): boolean {
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** Frames towards the uplink: ARP and IPv4 only; no private destinations but DNS. */
export function uplinkAllows(f: Uint8Array, allowPrivate: boolean): boolean {
  if (f.length < 14) return false;
  const type = (f[12]! << 8) | f[13]!;
  if (type === 0x0806) return true;
  if (type !== 0x0800 || f.length < 34) return false;
  if (allowPrivate || !isPrivateIPv4(f[30]!, f[31]!)) return true;
  // DNS to the resolver passt offers (often a private address) stays possible
  const proto = f[23];
  const ihl = (f[14]! & 0x0f) * 4;
  const dport = f.length >= 14 + ihl + 4 ? (f[14 + ihl + 2]! << 8) | f[14 + ihl + 3]! : 0;
  return (proto === 17 || proto === 6) && dport === 53;
}

class Uplink implements Port {
  #proc: ChildProcess;
  #sock: Socket | undefined;
  #pending: Uint8Array[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #closed = false;
  readonly #path: string;

  constructor(room: string, o: Required<Pick<RelayOptions, "passtPath" | "allowLoopback">>, onFrame: (f: Uint8Array) => void, log: (l: string) => void) {
    const path = join(tmpdir(), `berth-passt-${process.pid}-${room.slice(0, 16)}.sock`);
    this.#path = path;
    // -f: foreground (we supervise it); -1: exit when our connection closes; --no-map-gw: the gateway is not the host's loopback
    const args = ["-f", "-q", "-1", "-s", path, ...(o.allowLoopback ? [] : ["--no-map-gw"])];
    this.#proc = spawn(o.passtPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.#proc.stderr?.on("data", () => {});
    this.#proc.on("error", (e) => log(`relay: cannot start passt (${e.message}): room ${room} has no uplink`));
    this.#proc.on("exit", () => this.close());
    const tryConnect = (tries: number): void => {
      if (this.#closed) return;
      if (!existsSync(path)) {
        if (tries > 100) return log(`relay: passt gave no socket for room ${room}`);
        setTimeout(() => tryConnect(tries + 1), 20);
        return;
      }
      const s = connect(path);
      s.on("error", () => this.close());
      s.on("close", () => this.close());
      s.on("connect", () => {
        this.#sock = s;
        for (const f of this.#pending.splice(0)) this.send(f);
      });
      s.on("data", (d: Buffer) => {
        this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
        while (this.#buf.length >= 4) {
          const n = this.#buf.readUInt32BE(0);
          if (this.#buf.length < 4 + n) break;
          onFrame(new Uint8Array(this.#buf.subarray(4, 4 + n)));
          this.#buf = this.#buf.subarray(4 + n);
        }
      });
    };
    tryConnect(0);
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    if (!this.#sock) {
      if (this.#pending.length < 256) this.#pending.push(frame);
      return;
    }
    const head = Buffer.alloc(4);
    head.writeUInt32BE(frame.length);
    this.#sock.write(Buffer.concat([head, frame]));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock?.destroy();
    this.#proc.kill();
    rmSync(this.#path, { force: true });
  }
}

export class Relay {
  readonly #o: Required<Omit<RelayOptions, "log">> & Pick<RelayOptions, "log">;
  readonly #secret = randomBytes(32);
  readonly #rooms = new Map<string, Room>();
  readonly #perIp = new Map<string, number>();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: RelayOptions = {}) {
    this.#o = {
      uplink: options.uplink ?? true,
      allowLoopback: options.allowLoopback ?? false,
      allowPrivate: options.allowPrivate ?? false,
      passtPath: options.passtPath ?? "passt",
      maxFrame: options.maxFrame ?? 1536,
      maxFramesPerSecond: options.maxFramesPerSecond ?? 20000,
      maxClientsPerRoom: options.maxClientsPerRoom ?? 16,
      maxClientsPerIp: options.maxClientsPerIp ?? 16,
      maxRoomsPerIp: options.maxRoomsPerIp ?? 8,
      idleMs: options.idleMs ?? 30 * 60_000,
      log: options.log,
    };
    this.#timer = setInterval(() => this.#reap(), Math.min(60_000, this.#o.idleMs));
    this.#timer.unref();
  }

  /** The token for a room: only who was given it can join. */
  token(room: string): string {
    return createHmac("sha256", this.#secret).update(room).digest("hex").slice(0, 32);
  }

  /** A fresh room: its name and token (a page asks for one at /relay-room). */
  newRoom(): { room: string; token: string } {
    const room = randomBytes(12).toString("hex");
    return { room, token: this.token(room) };
  }

  /** For the HTTP server's "upgrade" event: answers true when the request was the relay's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/relay\/([a-zA-Z0-9_-]{1,64})$/.exec(url.pathname);
    if (!m) return false;
    const room = m[1]!;
    const given = Buffer.from(url.searchParams.get("token") ?? "");
    const want = Buffer.from(this.token(room));
    const ip = req.socket.remoteAddress ?? "?";
    const refuse = (status: string): boolean => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return true;
    };
    if (given.length !== want.length || !timingSafeEqual(given, want)) return refuse("403 Forbidden");
    if ((this.#perIp.get(ip) ?? 0) >= this.#o.maxClientsPerIp) return refuse("429 Too Many Requests");
    if ((this.#rooms.get(room)?.clients.size ?? 0) >= this.#o.maxClientsPerRoom) return refuse("429 Too Many Requests");
    const roomsOfIp = [...this.#rooms.values()].filter((r) => r.name !== room && [...r.clients].some((c) => c.ip === ip)).length;
    if (roomsOfIp >= this.#o.maxRoomsPerIp) return refuse("429 Too Many Requests");
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#join(room, ws, ip));
    return true;
  }

  #join(name: string, ws: WebSocket, ip: string): void {
    let room = this.#rooms.get(name);
    if (!room) {
      room = { name, clients: new Set(), macs: new Map(), uplink: undefined, lastFrame: Date.now() };
      this.#rooms.set(name, room);
      if (this.#o.uplink) {
        const r = room;
        room.uplink = new Uplink(name, this.#o, (f) => this.#deliver(r, r.uplink!, f), (l) => this.#o.log?.(l));
      }
    }
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    const client: Client = {
      ws, ip, frames: 0, windowStart: Date.now(),
      send: (f) => {
        if (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(f);
      },
    };
    room.clients.add(client);
    const r = room;
    ws.on("message", (data, isBinary) => {
      const f = data instanceof Buffer ? new Uint8Array(data) : new Uint8Array(Buffer.concat(data as Buffer[]));
      const now = Date.now();
      if (now - client.windowStart >= 1000) {
        client.windowStart = now;
        client.frames = 0;
      }
      // a misbehaving client goes; the others carry on
      if (!isBinary || f.length > this.#o.maxFrame || f.length < 14 || ++client.frames > this.#o.maxFramesPerSecond) {
        this.#o.log?.(`relay: dropped a client of room ${r.name} (${!isBinary ? "text message" : f.length > this.#o.maxFrame ? `frame of ${f.length} bytes` : f.length < 14 ? "runt frame" : "too many frames"})`);
        ws.close(1008, "frame too large, malformed or too many");
        return;
      }
      this.#deliver(r, client, f);
    });
    ws.on("close", () => {
      r.clients.delete(client);
      for (const [m, p] of r.macs) if (p === client) r.macs.delete(m);
      this.#perIp.set(ip, (this.#perIp.get(ip) ?? 1) - 1);
      if (r.clients.size === 0) this.#closeRoom(r);
    });
    ws.on("error", () => ws.terminate());
  }

  /** The learning switch: learn the sender's MAC, then to the port that has the destination, or to all. */
  #deliver(room: Room, from: Port, f: Uint8Array): void {
    room.lastFrame = Date.now();
    const src = mac(f, 6);
    if (!(f[6]! & 1)) room.macs.set(src, from);
    const dst = mac(f, 0);
    const to = f[0]! & 1 ? undefined : room.macs.get(dst);
    const toUplink = (): void => {
      if (room.uplink && from !== room.uplink && uplinkAllows(f, this.#o.allowPrivate)) room.uplink.send(f);
    };
    if (to) {
      if (to === room.uplink) toUplink();
      else if (to !== from) to.send(f);
      return;
    }
    for (const c of room.clients) if (c !== from) c.send(f);
    toUplink();
  }

  #closeRoom(r: Room): void {
    r.uplink?.close();
    for (const c of r.clients) c.ws.close(1001, "room closed");
    this.#rooms.delete(r.name);
  }

  #reap(): void {
    const now = Date.now();
    for (const r of this.#rooms.values()) if (now - r.lastFrame > this.#o.idleMs) this.#closeRoom(r);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const r of [...this.#rooms.values()]) this.#closeRoom(r);
    this.#wss.close();
  }
}
