// The page's handle on the engine Worker; with src/engine/worker.ts the only importers of comlink.
import * as Comlink from "comlink";
import type { EngineApi, Progress, PublishedPortInfo, Result, RunResult, StartInfo } from "../common/engine-api.js";
import type { WireRequest, WireResponse } from "../common/http-wire.js";
import { BerthError, ErrorCode } from "../common/errors.js";

export interface EngineClientOptions {
  /** directory URL of the guest files (manifest.json, bzImage, …); default /guest/ of this page's origin */
  guestUrl?: string;
  memoryMB?: number;
  /** IndexedDB database for the saved VM state; default "berth-snapshots" */
  snapshotDb?: string;
  /** base URL of the CORS registry proxy; default this page's origin (berth serve has one) */
  proxyUrl?: string;
  /**
   * The guest's network: a relay room's ws:// URL, or true for a room of the
   * page's own from the relay at `proxyUrl` (berth serve's /relay-room); none
   * by default (containers then have only loopback).
   */
  relay?: string | boolean;
  /**
   * "session": the whole session is kept when the page is hidden or goes
   * (the running VM, in IndexedDB database `<snapshotDb>-session`) and the next
   * load goes on from it, containers still running. Without it, containers,
   * volumes and images are kept, and running containers come back stopped
   * (or started again by their restart policy), as after a daemon restart.
   */
  persist?: "session";
}

export type OutputListener = (stream: "stdout" | "stderr", b: Uint8Array) => void;

function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw BerthError.fromWire(r.error);
}

/** One engine per page, shared by every component on it. */
export class EngineClient {
  readonly #api: Comlink.Remote<EngineApi>;
  readonly #worker: Worker;
  readonly #options: Required<Omit<EngineClientOptions, "relay" | "persist">> & Pick<EngineClientOptions, "relay" | "persist">;
  #listeners = new Set<(p: Progress) => void>();
  #started: Promise<StartInfo> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #warnings: string[] = [];
  #pending = 0;
  last: Progress | undefined;

  constructor(options: EngineClientOptions = {}) {
    const worker = new Worker(new URL("./berth-worker.js", import.meta.url), { type: "module", name: "berth-engine" });
    this.#worker = worker;
    this.#api = Comlink.wrap<EngineApi>(worker);
    this.#options = {
      guestUrl: options.guestUrl ?? new URL("/guest/", location.href).href,
      memoryMB: options.memoryMB ?? 256,
      snapshotDb: options.snapshotDb ?? "berth-snapshots",
      proxyUrl: options.proxyUrl ?? location.origin,
      ...(options.relay !== undefined ? { relay: options.relay } : {}),
      ...(options.persist ? { persist: options.persist } : {}),
    };
  }

  onProgress(listener: (p: Progress) => void): () => void {
    this.#listeners.add(listener);
    if (this.last) listener(this.last);
    return () => this.#listeners.delete(listener);
  }

  start(): Promise<StartInfo> {
    if (!this.#started) {
      // what containers wrote to volumes, and the containers themselves (or the whole session), are saved before the page goes
      const session = this.#options.persist === "session";
      const save = (): void => void this.#save().catch(() => {});
      addEventListener("pagehide", save);
      document.addEventListener?.("visibilitychange", () => {
        if (document.visibilityState === "hidden") save();
      });
      const report = Comlink.proxy((p: Progress) => {
        // an image is being stored (pulled from the terminal too)
        if (p.phase === "pulling") this.#keepStorage();
        this.last = p;
        for (const l of this.#listeners) l(p);
      });
      this.#servePorts();
      const started = this.#relayUrl()
        .then((relayUrl) => {
          const { guestUrl, memoryMB, snapshotDb, proxyUrl } = this.#options;
          return this.#api.start({ guestUrl, memoryMB, snapshotDb, proxyUrl, ...(relayUrl ? { relayUrl } : {}), ...(session ? { session } : {}) }, report) as Promise<Result<StartInfo>>;
        })
        .then((r) => unwrap(r));
      started.catch(() => (this.#started = undefined));
      this.#started = started;
    }
    return this.#started;
  }

  #storageAsked = false;

  /**
   * Asks the browser to keep this origin's storage (images, volumes, the
   * snapshot and session) from eviction: once, when something is first stored
   * (a pull, a docker command, a share, a session); the page, not the Worker,
   * may ask (navigator.storage.persist()).
   */
  #keepStorage(): void {
    if (this.#storageAsked) return;
    this.#storageAsked = true;
    void navigator.storage?.persist?.().catch(() => false);
  }

  /**
   * The page's Service Worker (berth-sw.js) sends /port/<n>/… requests here:
   * this page has the engine that runs the containers.
   */
  #servePorts(): void {
    const sw = navigator.serviceWorker;
    if (!sw) return;
    sw.addEventListener("message", (e: MessageEvent) => {
      const m = e.data as { type?: string; hostPort?: number; request?: WireRequest } | undefined;
      if (m?.type !== "berth-port-fetch" || !e.ports[0]) return;
      const reply = e.ports[0];
      this.fetchPort(m.hostPort!, m.request!).then(
        (r) => reply.postMessage({ ok: true, response: r }),
        (err: unknown) => reply.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
    });
    void sw.ready.then((reg) => reg.active?.postMessage({ type: "berth-engine" })).catch(() => {});
  }

  /** The room to join: as given, or a new one from the relay beside the proxy. */
  async #relayUrl(): Promise<string | undefined> {
    const r = this.#options.relay;
    if (typeof r === "string") return r;
    if (!r) return undefined;
    const base = this.#options.proxyUrl.replace(/\/$/, "");
    try {
      const room = (await (await fetch(`${base}/relay-room`)).json()) as { path: string };
      return `${base.replace(/^http/, "ws")}${room.path}`;
    } catch (e) {
      // offline, or a server without a relay: the VM starts without a NIC, and says so
      this.#warnings.push(new BerthError(ErrorCode.relayUnavailable, `Cannot get a network from ${base}: ${e instanceof Error ? e.message : String(e)}; the VM has no network`).toLine().replace(/^Error/, "Warning"));
      return undefined;
    }
  }

  /**
   * Saves what the engine has not saved yet: volumes' data, containers (with
   * their logs and writable layers) and networks, so the next page load finds
   * them. The page calls it itself when it is hidden or goes away.
   * @throws BerthError storage-full
   */
  async flush(): Promise<void> {
    if (!this.#started) return;
    unwrap(await this.#api.flush());
  }

  /**
   * Saves the whole session for the next page load (persist="session"; the
   * page calls it itself when it is hidden or goes away, and the engine a
   * second after each change to its state): the running VM's state with the
   * engine's record of it; the next start() restores it, with the containers
   * still running (StartInfo.session). Answers the bytes stored.
   * @throws BerthError storage-full; invalid-parameter without persist="session"; vm-not-running
   */
  async saveSession(): Promise<{ bytes: number }> {
    this.#keepStorage();
    if (!this.#started) return { bytes: 0 };
    await this.#started;
    return unwrap(await this.#api.saveSession());
  }

  /** What the page saves when it is hidden or goes, and on close(): the session, or what flush() saves. */
  async #save(): Promise<unknown> {
    return this.#options.persist === "session" ? this.saveSession() : this.flush();
  }

  /**
   * Shows the user's files in the guest, as Docker Desktop shares a folder:
   * a folder from `showDirectoryPicker()` (its changes are written back to
   * it), or files (from a drop or an `<input type=file webkitdirectory>`,
   * kept in memory). `docker run -v /root/NAME:/app …` then works on them.
   * @param guestPath where the guest sees them (default /root/NAME)
   * @returns the guest path
   * @throws BerthError invalid-parameter when the guest cannot mount it there
   */
  async share(source: FileSystemDirectoryHandle | readonly File[], guestPath?: string): Promise<string> {
    this.#keepStorage();
    await this.start();
    let spec: { handle?: unknown; files?: Array<{ path: string; data: Uint8Array; mtime: number }>; name: string };
    if ("kind" in source && source.kind === "directory") spec = { handle: source, name: source.name };
    else {
      const files = source as readonly File[];
      const top = files[0]?.webkitRelativePath.split("/")[0] || "shared";
      spec = {
        name: top,
        files: await Promise.all(files.map(async (f) => ({ path: (f.webkitRelativePath || f.name).replace(new RegExp(`^${top.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/`), ""), data: new Uint8Array(await f.arrayBuffer()), mtime: f.lastModified }))),
      };
    }
    const path = guestPath ?? `/root/${spec.name.replace(/[^\w.-]/g, "_")}`;
    unwrap(await this.#api.share(spec, path));
    return path;
  }

  /**
   * Saves (flush, or with persist="session" the whole session) and stops the
   * engine: its Worker ends; this client cannot be used again.
   */
  async close(): Promise<void> {
    await this.#save().catch(() => {});
    this.#worker.terminate();
  }

  /** Resolves once the VM state saved after a cold boot is in IndexedDB (closing the page before loses it). */
  async saved(): Promise<void> {
    await this.start();
    unwrap(await this.#api.saved());
  }

  /** Runs a command in the guest (not in a container) to completion. */
  async guest(argv: string[]): Promise<RunResult> {
    await this.start();
    return unwrap(await this.#api.guest(argv));
  }

  /**
   * Any docker command, as typed in the guest: `docker(["ps", "-a"])`. Output
   * goes to `onOutput` as it comes, and is collected in the result.
   */
  async docker(argv: string[], o: { onOutput?: OutputListener } = {}): Promise<RunResult> {
    this.#keepStorage();
    await this.start();
    const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const out = { stdout: "", stderr: "" };
    const code = unwrap(await this.#api.docker(argv, Comlink.proxy((stream: "stdout" | "stderr", b: Uint8Array) => {
      out[stream] += dec[stream].decode(b, { stream: true });
      o.onOutput?.(stream, b);
    })));
    return { code, ...out };
  }

  /**
   * Pulls IMAGE (the daemon's pull, as `docker pull`): Docker's progress lines
   * go to `onOutput` (stderr). Rejects with a coded BerthError: image-not-found,
   * invalid-reference, registry-*, platform-not-available, proxy-unavailable.
   */
  async pull(image: string, o: { onOutput?: OutputListener; platform?: string } = {}): Promise<void> {
    this.#keepStorage();
    await this.start();
    unwrap(await this.#api.pull(image, o.platform, Comlink.proxy((stream: "stdout" | "stderr", b: Uint8Array) => o.onOutput?.(stream, b))));
  }

  /**
   * `docker run --rm [options] IMAGE [command]` as the daemon's run operation:
   * resolves with the container's status and output (127/126 when its command
   * is missing or not executable, the error line on stderr); rejects with a
   * coded BerthError when the engine could not run it (usage for bad options,
   * image-not-found, name-in-use, …).
   */
  async run(image: string, command: string[] = [], o: { options?: string[]; onOutput?: OutputListener } = {}): Promise<RunResult> {
    this.#keepStorage();
    await this.start();
    const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const out = { stdout: "", stderr: "" };
    const code = unwrap(await this.#api.run(["--rm", ...(o.options ?? []), image, ...command], Comlink.proxy((stream: "stdout" | "stderr", b: Uint8Array) => {
      out[stream] += dec[stream].decode(b, { stream: true });
      o.onOutput?.(stream, b);
    })));
    return { code, ...out };
  }

  /** `docker exec CONTAINER command`: the status and output of a command in a running container. */
  async exec(container: string, command: string[], o: { onOutput?: OutputListener } = {}): Promise<RunResult> {
    return this.docker(["exec", container, ...command], o);
  }

  /** A container's output from now until it stops (`docker logs -f --tail 0`); resolves with the logs command's status. */
  async attach(container: string, onOutput: OutputListener): Promise<number> {
    return (await this.docker(["logs", "-f", "--tail", "0", container], { onOutput })).code;
  }

  /**
   * Runs `task` after the tasks queued before it: components that share the
   * engine take turns. `onQueued` hears how many are ahead.
   */
  enqueue<T>(task: () => Promise<T>, onQueued?: (ahead: number) => void): Promise<T> {
    const ahead = this.#pending++;
    if (ahead > 0) onQueued?.(ahead);
    const run = this.#queue.then(task, task);
    this.#queue = run.then(() => undefined, () => undefined).finally(() => this.#pending--);
    return run;
  }

  /** The published ports of running containers (`docker run -p 8080:80`). */
  /**
   * The Docker Engine API of this page's engine, for tools written for Docker's
   * API: `await (await engine.api("GET", "/v1.47/containers/json?all=1")).json()`.
   * `body` is sent as JSON unless it is bytes. Answers a Response with Docker's
   * status and body; errors are `{"message": …}` with Docker's status codes.
   * Streamed answers (pull progress, logs with follow, events) arrive when they end
   * (so `GET /events` wants an `until`);
   * attach and exec start give their output with stdin closed.
   */
  async api(method: string, path: string, body?: unknown): Promise<Response> {
    await this.start();
    const bytes = body === undefined ? new Uint8Array(0) : body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
    const headers: Record<string, string> = body === undefined || body instanceof Uint8Array ? {} : { "content-type": "application/json" };
    const r = unwrap(await this.#api.api({ method, target: path, headers, body: bytes }));
    const empty = r.status === 204 || r.status === 304 || method === "HEAD";
    return new Response(empty ? null : (r.body as Uint8Array<ArrayBuffer>), { status: r.status, headers: r.headers });
  }

  async ports(): Promise<PublishedPortInfo[]> {
    await this.start();
    return unwrap(await this.#api.ports());
  }

  /**
   * A request to a published port, answered by the container: what the page's
   * Service Worker does for /port/<n>/… URLs, without the relay.
   */
  async fetchPort(hostPort: number, request: WireRequest): Promise<WireResponse> {
    await this.start();
    return unwrap(await this.#api.fetchPort(hostPort, request));
  }

  async openShell(size: { rows: number; cols: number }, onOutput: (b: Uint8Array) => void, onExit: (code: number) => void): Promise<ShellSession> {
    await this.start();
    const id = unwrap(await this.#api.openShell(size, Comlink.proxy(onOutput), Comlink.proxy(onExit)));
    return {
      write: (data) => void this.#api.write(id, data),
      resize: (s) => void this.#api.resize(id, s),
    };
  }

  async warnings(): Promise<string[]> {
    return [...this.#warnings.splice(0), ...(await this.#api.warnings())];
  }
}

export interface ShellSession {
  write(data: Uint8Array): void;
  resize(size: { rows: number; cols: number }): void;
}

let shared: EngineClient | undefined;

/** A new engine (its own Worker and VM); most pages want `sharedEngine`. */
export function createEngine(options?: EngineClientOptions): EngineClient {
  return new EngineClient(options);
}

/** The page's engine, created on first use with the first caller's options. */
export function sharedEngine(options?: EngineClientOptions): EngineClient {
  shared ??= new EngineClient(options);
  return shared;
}
