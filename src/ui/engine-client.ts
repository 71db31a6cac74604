// The page's handle on the engine Worker; with src/engine/worker.ts the only importers of comlink.
import * as Comlink from "comlink";
import type { EngineApi, Progress, Result, RunResult, StartInfo } from "../common/engine-api.js";
import { BerthError } from "../common/errors.js";

export interface EngineClientOptions {
  /** directory URL of the guest files (manifest.json, bzImage, …); default /guest/ of this page's origin */
  guestUrl?: string;
  memoryMB?: number;
  /** IndexedDB database for the saved VM state; default "berth-snapshots" */
  snapshotDb?: string;
  /** base URL of the CORS registry proxy; default this page's origin (berth serve has one) */
  proxyUrl?: string;
}

function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw BerthError.fromWire(r.error);
}

/** One engine per page, shared by every component on it. */
export class EngineClient {
  readonly #api: Comlink.Remote<EngineApi>;
  readonly #options: Required<EngineClientOptions>;
  #listeners = new Set<(p: Progress) => void>();
  #started: Promise<StartInfo> | undefined;
  last: Progress | undefined;

  constructor(options: EngineClientOptions = {}) {
    const worker = new Worker(new URL("./berth-worker.js", import.meta.url), { type: "module", name: "berth-engine" });
    this.#api = Comlink.wrap<EngineApi>(worker);
    this.#options = {
      guestUrl: options.guestUrl ?? new URL("/guest/", location.href).href,
      memoryMB: options.memoryMB ?? 256,
      snapshotDb: options.snapshotDb ?? "berth-snapshots",
      proxyUrl: options.proxyUrl ?? location.origin,
    };
  }

  onProgress(listener: (p: Progress) => void): () => void {
    this.#listeners.add(listener);
    if (this.last) listener(this.last);
    return () => this.#listeners.delete(listener);
  }

  start(): Promise<StartInfo> {
    if (!this.#started) {
      // persistent storage keeps the snapshot from being evicted; the page (not the worker) may ask
      void navigator.storage?.persist?.().catch(() => false);
      const report = Comlink.proxy((p: Progress) => {
        this.last = p;
        for (const l of this.#listeners) l(p);
      });
      const started = (this.#api.start(this.#options, report) as Promise<Result<StartInfo>>).then((r) => unwrap(r));
      started.catch(() => (this.#started = undefined));
      this.#started = started;
    }
    return this.#started;
  }

  /** Resolves once the VM state saved after a cold boot is in IndexedDB (closing the page before loses it). */
  async saved(): Promise<void> {
    await this.start();
    unwrap(await this.#api.saved());
  }

  async run(argv: string[]): Promise<RunResult> {
    await this.start();
    return unwrap(await this.#api.run(argv));
  }

  /** Pulls `image` through the registry proxy and runs it once; resolves with its exit status. */
  async runImage(o: { image: string; args?: string[] }, onOutput: (stream: "stdout" | "stderr", b: Uint8Array) => void): Promise<number> {
    await this.start();
    return unwrap(await this.#api.runImage(o, Comlink.proxy(onOutput)));
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
    return this.#api.warnings();
  }
}

export interface ShellSession {
  write(data: Uint8Array): void;
  resize(size: { rows: number; cols: number }): void;
}

let shared: EngineClient | undefined;

/** The page's engine, created on first use with the first caller's options. */
export function sharedEngine(options?: EngineClientOptions): EngineClient {
  shared ??= new EngineClient(options);
  return shared;
}
