import type { WireError } from "./errors.js";
import type { WireRequest, WireResponse } from "./http-wire.js";

/**
 * What the page's UI asks of the engine in its Worker (over comlink). Errors do
 * not cross a Worker as themselves (comlink keeps only name/message/stack), so
 * every call answers a Result and the client rebuilds the BerthError.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

export const Phase = {
  downloading: "downloading",
  booting: "booting",
  restoring: "restoring",
  saving: "saving",
  ready: "ready",
  /** an image's layers coming in (loaded/total bytes; `detail` names the image) */
  pulling: "pulling",
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export interface Progress {
  phase: Phase;
  /** bytes so far and in all, while downloading */
  loaded?: number;
  total?: number;
  detail?: string;
}

export interface StartOptions {
  /** where the guest files are: a directory URL with manifest.json */
  guestUrl: string;
  memoryMB: number;
  /** the IndexedDB database that keeps the saved VM state */
  snapshotDb: string;
  /** base URL of the CORS registry proxy: registries are reached at <proxy>/registry/<host>/v2/ */
  proxyUrl: string;
  /** a network relay room (ws://…/relay/<room>?token=…) for the guest's NIC; none: no NIC */
  relayUrl?: string;
  /** persist="session": the whole session (the running VM) is kept in IndexedDB database `<snapshotDb>-session` and restored from it */
  session?: boolean;
}

export interface StartInfo {
  restored: boolean;
  /** a saved session was restored: the containers that were running are still Up */
  session?: boolean;
  readyMs: number;
  /** where the time went, in ms (key, load, verify, restore, gunzip, boot, save) */
  timings: Record<string, number>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PublishedPortInfo {
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
  container: string;
}

export interface EngineApi {
  /** Boots or restores the VM; later calls wait for the first and answer the same. */
  start(options: StartOptions, onProgress: (p: Progress) => void): Promise<Result<StartInfo>>;
  /** Resolves once the state saved after a cold boot is stored. */
  saved(): Promise<Result<void>>;
  /** Saves what the daemon has not saved yet (volumes' data, containers, the image list): before the page goes away. */
  flush(): Promise<Result<void>>;
  /** persist="session": saves the whole session (the running VM, containers and all) for the next page load; answers the bytes stored. */
  saveSession(): Promise<Result<{ bytes: number }>>;
  /**
   * Shows the user's files in the guest at `guestPath`, kept in sync both ways:
   * a folder handle (File System Access API), or dropped files kept in memory.
   */
  share(source: { handle?: unknown; files?: Array<{ path: string; data: Uint8Array; mtime: number }>; name: string }, guestPath: string): Promise<Result<void>>;
  /** Runs a command in the guest to completion. */
  guest(argv: string[]): Promise<Result<RunResult>>;
  /**
   * A docker command, as the guest's `docker` would run it (images come
   * through the page's registry proxy, blobs cached in IndexedDB); answers its
   * exit status. Stdin is empty.
   */
  docker(argv: string[], onOutput: (stream: "stdout" | "stderr", b: Uint8Array) => void): Promise<Result<number>>;
  /** Pulls an image (the daemon's operation); Docker's progress lines go to `onOutput` as stderr. */
  pull(image: string, platform: string | undefined, onOutput: (stream: "stdout" | "stderr", b: Uint8Array) => void): Promise<Result<void>>;
  /** `docker run`'s arguments (flags, IMAGE, command) as the daemon's run operation: the exit status; errors are coded. */
  run(args: string[], onOutput: (stream: "stdout" | "stderr", b: Uint8Array) => void): Promise<Result<number>>;
  /** The published ports of running containers (`docker run -p`). */
  ports(): Promise<Result<PublishedPortInfo[]>>;
  /** One HTTP request to a published port, answered by the container (the page's /port/<n>/ path). */
  fetchPort(hostPort: number, request: WireRequest): Promise<Result<WireResponse>>;
  /** A login shell on a guest pty; answers its session number. */
  openShell(size: { rows: number; cols: number }, onOutput: (b: Uint8Array) => void, onExit: (code: number) => void): Promise<Result<number>>;
  write(session: number, data: Uint8Array): Promise<void>;
  resize(session: number, size: { rows: number; cols: number }): Promise<void>;
  /**
   * One Docker Engine API request (Docker's paths and JSON bodies, e.g. "GET",
   * "/v1.47/containers/json?all=1"), answered whole: streamed answers (pull
   * progress, logs) when they end; attach and exec start with stdin closed.
   */
  api(request: { method: string; target: string; headers: Record<string, string>; body: Uint8Array }): Promise<Result<{ status: number; headers: Record<string, string>; body: Uint8Array }>>;
  /** A warning the engine recovered from (e.g. a discarded snapshot), as `Warning [code]: …` lines. */
  warnings(): Promise<string[]>;
}
