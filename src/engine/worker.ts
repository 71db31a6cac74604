// The engine's Worker entry; with src/ui/engine-client.ts the only importers of comlink.
import { messageLine } from "../common/api/json-message.js";
import { parseRunArgs } from "../common/api/run-flags.js";
import { DEFAULT_PLATFORM, parsePlatform } from "../common/oci-image.js";
import { runContainer } from "./daemon/container-run.js";
import * as Comlink from "comlink";
import type { EngineApi, Progress, Result, StartInfo, StartOptions } from "../common/engine-api.js";
import { BerthError, ErrorCode, isBerthError } from "../common/errors.js";
import { fetchGuestAssets } from "./vm/browser-assets.js";
import { Engine } from "./engine.js";
import type { GuestProcess } from "./vm/guest-channel.js";
import { IdbBlobStore } from "./store/idb-blob-store.js";
import { HandleTree } from "./volumes/handle-tree.js";
import { MemoryTree } from "./volumes/memory-tree.js";
import { IdbSnapshotStore } from "./store/idb-snapshot-store.js";
import { RegistryClient } from "./registry/registry-client.js";
import { collectReply } from "./api/collect.js";
import { startedEngineApi } from "./api/engine-api.js";
import type { ApiRouter } from "./api/router.js";

const enc = new TextEncoder();

let starting: Promise<Engine> | undefined;
let registry: RegistryClient | undefined;
const blobs = new IdbBlobStore();
/** the daemon's state (volumes' data, containers, networks), in its own database so image garbage collection never sees it */
const stateBlobs = new IdbBlobStore("berth-state");
let info: StartInfo | undefined;
/** the page's progress listener (the first start's), also told of pulls */
let progress: ((p: Progress) => void) | undefined;
const sessions = new Map<number, GuestProcess>();
const warnings: string[] = [];
let apiRouter: ApiRouter | undefined;
let memoryMB = 256;

async function attempt<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    const b = isBerthError(e) ? e : new BerthError(ErrorCode.internal, `Unexpected engine failure: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, error: b.toWire() };
  }
}

async function engine(): Promise<Engine> {
  if (!starting) throw new BerthError(ErrorCode.vmNotRunning, "Cannot run anything: the engine was not started");
  return starting;
}

/**
 * Output for a page callback, and a way to answer only once all of it has
 * reached the page: a callback is a comlink proxy on a port of its own, so its
 * messages are not ordered with the answer's, and an answer sent at once could
 * come before the last of the output (a command's stdout read cut short).
 */
function delivered(onOutput: (stream: "stdout" | "stderr", b: Uint8Array) => unknown): { send(stream: "stdout" | "stderr", b: Uint8Array): void; done<T>(value: T): Promise<T> } {
  // one port keeps its messages in order: the page has all once it has answered the last
  let last: Promise<unknown> = Promise.resolve();
  return {
    send: (stream, b) => void (last = Promise.resolve(onOutput(stream, b)).catch(() => {})),
    done: async (value) => {
      await last;
      return value;
    },
  };
}

const api: EngineApi = {
  start(o: StartOptions, onProgress: (p: Progress) => void) {
    return attempt(async () => {
      progress ??= onProgress;
      memoryMB = o.memoryMB;
      if (!starting) {
        const proxy = o.proxyUrl.replace(/\/$/, "");
        registry = new RegistryClient({ endpoint: (r) => ({ url: `${proxy}/registry/${r}`, viaProxy: true }) });
        starting = (async () => {
          onProgress({ phase: "downloading", loaded: 0, total: 0 });
          const assets = await fetchGuestAssets(o.guestUrl, (loaded, total) => onProgress({ phase: "downloading", loaded, total }));
          return Engine.start({
            assets,
            memoryMB: o.memoryMB,
            ...(o.relayUrl ? { relayUrl: o.relayUrl } : {}),
            snapshots: new IdbSnapshotStore(o.snapshotDb),
            ...(o.session ? { session: new IdbSnapshotStore(`${o.snapshotDb}-session`) } : {}),
            onPhase: (phase) => onProgress({ phase }),
            onWarning: (w) => warnings.push(`Warning [${w.code}]: ${w.message}`),
            docker: { client: registry!, store: blobs, stateStore: stateBlobs, onPull: (p) => progress?.({ phase: "pulling", loaded: p.loaded, total: p.total, detail: p.image }) },
          });
        })();
        // a failed start may be tried again
        starting.catch(() => (starting = undefined));
      }
      const e = await starting;
      info ??= e.info;
      onProgress({ phase: "ready" });
      return info;
    });
  },
  saved() {
    return attempt(async () => (await engine()).saved());
  },
  share(source, guestPath) {
    return attempt(async () => {
      const d = (await engine()).daemon!;
      await d.ready();
      const tree = source.handle ? new HandleTree(source.handle) : new MemoryTree(source.files ?? []);
      await d.share([{ tree, guestPath, label: source.name }]);
    });
  },
  flush() {
    return attempt(async () => {
      if (!starting) return;
      await (await engine()).daemon?.flush();
    });
  },
  saveSession() {
    return attempt(async () => (await engine()).saveSession());
  },
  guest(argv) {
    return attempt(async () => (await engine()).run(argv));
  },
  docker(argv, onOutput) {
    // the same path as the guest's docker command
    return attempt(async () => {
      const out = delivered(onOutput);
      return out.done(await (await engine()).docker!.command(argv, { stdout: (b) => out.send("stdout", b), stderr: (b) => out.send("stderr", b) }));
    });
  },
  pull(image, platform, onOutput) {
    return attempt(async () => {
      const d = (await engine()).daemon!;
      await d.ready();
      const out = delivered(onOutput);
      await d.pullImage(image, { platform: platform ? parsePlatform(platform) : DEFAULT_PLATFORM, onMessage: (m) => { const l = messageLine(m); if (l) out.send("stderr", enc.encode(l)); } });
      await out.done(undefined);
      await d.persist();
    });
  },
  run(args, onOutput) {
    return attempt(async () => {
      const d = (await engine()).daemon!;
      await d.ready();
      const out = delivered(onOutput);
      return out.done(await runContainer(d, parseRunArgs("run", args, []), { stdout: (b) => out.send("stdout", b), stderr: (b) => out.send("stderr", b), pullLine: (l) => out.send("stderr", enc.encode(l)) }));
    });
  },
  ports() {
    return attempt(async () => (await engine()).daemon!.ports().map(({ hostPort, containerPort, proto, container }) => ({ hostPort, containerPort, proto, container })));
  },
  fetchPort(hostPort, request) {
    return attempt(async () => {
      const r = await (await engine()).daemon!.httpRequest(hostPort, request);
      return Comlink.transfer(r, [r.body.buffer as ArrayBuffer]);
    });
  },
  openShell(size, onOutput, onExit) {
    return attempt(async () => {
      const p = (await engine()).exec({ argv: ["/bin/sh", "-l"] }, { tty: true, stdin: true, onStdout: (b) => onOutput(b) });
      sessions.set(p.id, p);
      p.resize(size.rows, size.cols);
      p.exit.then(
        (code) => onExit(code),
        () => onExit(255),
      ).finally(() => sessions.delete(p.id));
      return p.id;
    });
  },
  async write(session, data) {
    sessions.get(session)?.write(data);
  },
  async resize(session, size) {
    sessions.get(session)?.resize(size.rows, size.cols);
  },
  api(request) {
    return attempt(async () => {
      const e = await engine();
      apiRouter ??= await startedEngineApi(e, memoryMB);
      const r = await collectReply(await apiRouter.handle(request));
      return Comlink.transfer(r, [r.body.buffer as ArrayBuffer]);
    });
  },
  async warnings() {
    return warnings.splice(0);
  },
};

Comlink.expose(api);
