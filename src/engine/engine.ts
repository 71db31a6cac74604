import { DEFAULT_PATH_ENV } from "../common/oci-spec.js";
import { BerthError, ErrorCode, isBerthError } from "../common/errors.js";
import type { ExecRequest } from "../common/agent-protocol.js";
import { gunzip } from "./unpack/gunzip.js";
import type { BlobStore } from "./store/blob-store.js";
import { DockerCli } from "./cli/docker-cli.js";
import { EngineDaemon, type DaemonSession, type PublishedPort, type PullReport } from "./daemon/engine-daemon.js";
import type { ChannelSession, ExecOptions, GuestProcess } from "./vm/guest-channel.js";
import { openSession, sealSession, sessionKey, SessionGuard } from "./store/session-store.js";
import { Serial } from "./serial.js";
import type { RegistryClient } from "./registry/registry-client.js";
import { openSnapshot, sealSnapshot, snapshotKey, type SnapshotStore } from "./store/snapshot-store.js";
import { CMDLINE, VmHost } from "./vm/vm-host.js";

/** The guest's files as fetched or read: nothing decoded yet. */
export interface GuestAssets {
  bios: ArrayBuffer;
  bzimage: ArrayBuffer;
  /** gzip-compressed newc cpio */
  initrdGz: ArrayBuffer;
  /** v86.wasm, compiled once */
  wasm: WebAssembly.Module;
  /** the v86 build, part of the snapshot key */
  emulator: string;
}

export const BootPhase = {
  booting: "booting",
  restoring: "restoring",
  saving: "saving",
  ready: "ready",
} as const;
export type BootPhase = (typeof BootPhase)[keyof typeof BootPhase];

export interface EngineOptions {
  assets: GuestAssets;
  memoryMB?: number;
  /** the network: a relay room's WebSocket URL for the guest's NIC (none: no NIC, containers have only loopback) */
  relayUrl?: string;
  /** where the state saved after the first boot is kept; none = always cold boot */
  snapshots?: SnapshotStore;
  /**
   * where a whole session is kept (persist="session"): saveSession() writes the
   * running VM's state there, and the next start goes on from it with the
   * containers still running, while the state store holds what it held then.
   * Needs `docker.stateStore`.
   */
  session?: SnapshotStore;
  /** ms a cold boot may take to reach the agent */
  bootTimeoutMs?: number;
  onPhase?: (phase: BootPhase) => void;
  /** something went wrong that the engine recovered from (e.g. a bad snapshot) */
  onWarning?: (e: BerthError) => void;
  onConsole?: (bytes: Uint8Array) => void;
  /** answers the guest's `docker` command: how registries are reached, where blobs are kept */
  docker?: { client: RegistryClient; store?: BlobStore; stateStore?: BlobStore; onPull?: (p: PullReport) => void; onPorts?: (ports: PublishedPort[]) => void };
}

export interface EngineStartInfo {
  restored: boolean;
  /** the VM is a saved session's, containers and all (persist="session") */
  session?: boolean;
  /** ms from start() to an agent that answers */
  readyMs: number;
  /** where the time went, in ms: for benchmarks */
  timings: Record<string, number>;
}

/** ms without a DHCP lease before the engine warns that the relay cannot be reached (the client keeps asking) */
const DHCP_WARN_MS = 8000;
/** ms a relay whose WebSocket is open gets to answer DHCP before the same warning */
const DHCP_MAX_MS = 45000;

const DEFAULT_ENV = [DEFAULT_PATH_ENV, "HOME=/root"];

/** ms after a change to the state store before the session is saved again */
const SESSION_RESAVE_MS = 1000;

/** One guest VM with its agent: boots or restores it, runs processes in it. */
export class Engine {
  readonly vm: VmHost;
  readonly info: EngineStartInfo;
  /** the daemon (images, containers, networks and their operations), when started with `docker` */
  daemon: EngineDaemon | undefined;
  /** the guest's docker command, a client of the daemon */
  docker: DockerCli | undefined;

  #saving: Promise<void> | undefined;
  #onWarning: ((e: BerthError) => void) | undefined;
  /** where saveSession() writes, under which key, and the watched state store */
  #session: { store: SnapshotStore; key: string; guard: SessionGuard } | undefined;
  /** writes to the state store so far, and how many the last saved session had seen */
  #changes = 0;
  #captured = 0;
  #resave: ReturnType<typeof setTimeout> | undefined;
  /** one session save at a time */
  readonly #sessionSaves = new Serial();

  private constructor(vm: VmHost, info: EngineStartInfo, saving?: Promise<void>) {
    this.vm = vm;
    this.info = info;
    this.#saving = saving;
  }

  #network: Promise<boolean> = Promise.resolve(false);

  /**
   * Resolves once the guest's NIC has an address from the relay's DHCP (true),
   * or could not get one (false, with a relay-unavailable warning): the VM and
   * its containers work either way, without the outside.
   */
  network(): Promise<boolean> {
    return this.#network;
  }

  #withNetwork(o: EngineOptions): this {
    if (!o.relayUrl) return this;
    // after a restore too: the relay connection is new, the lease is asked for again
    // Every VM restored from one snapshot has the NIC's MAC of the VM that was saved: give this one
    // its own (locally administered), or two VMs in a room would take each other's frames.
    const b = new Uint8Array(5);
    crypto.getRandomValues(b);
    const mac = ["02", ...Array.from(b, (x) => x.toString(16).padStart(2, "0"))].join(":");
    // udhcpc never gives up (no -n): it asks again every few seconds until the
    // relay and its uplink answer, then configures eth0 and exits (-q). A busy
    // machine can take longer than any fixed number of tries to bring the relay's
    // WebSocket and passt up, and a client that gave up left the VM without a
    // route for good. The warning only says it is late; the lease still comes.
    const script = `ip link set eth0 down && ip link set eth0 address ${mac} && exec udhcpc -i eth0 -q -f -t 3 -T 1 -A 2 -s /etc/berth/udhcpc`;
    let leased: boolean | undefined;
    this.run(["/bin/sh", "-c", script]).then((r) => (leased = r.code === 0), () => (leased = false));
    // Late is only "unavailable" when the relay's WebSocket is not open: a relay that
    // is up on a busy machine gets up to DHCP_MAX_MS to answer before the warning.
    this.#network = (async () => {
      const t0 = now();
      while (leased === undefined) {
        const waited = now() - t0;
        if (waited >= DHCP_MAX_MS || (waited >= DHCP_WARN_MS && !this.vm.relayOpen())) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (leased === true) return true;
      const why = leased === false ? "the guest's DHCP client failed" : `no DHCP answer in ${Math.round((now() - t0) / 1000)} s (still asking)`;
      o.onWarning?.(new BerthError(ErrorCode.relayUnavailable, `Cannot reach the network relay at ${o.relayUrl!.replace(/\?.*$/, "")}: ${why}, so containers have no outside network yet (the VM and containers work)`));
      return false;
    })();
    return this;
  }

  #withDocker(o: EngineOptions, key: string, guard: SessionGuard | undefined, session?: EngineSession, blobs: readonly Uint8Array[] = []): this {
    this.#onWarning = o.onWarning;
    this.#withNetwork(o);
    if (o.docker) {
      if (guard) {
        this.#session = { store: o.session!, key, guard };
        guard.onChange = () => {
          this.#changes++;
          this.#stale();
        };
      }
      const stateStore = guard ?? o.docker.stateStore;
      const daemon = new EngineDaemon({
        channel: this.vm.channel, files: this.vm.shareFiles(), client: o.docker.client,
        ...(o.docker.store ? { store: o.docker.store } : {}), ...(stateStore ? { stateStore } : {}), ...(o.docker.onPull ? { onPull: o.docker.onPull } : {}),
        ...(o.docker.onPorts ? { onPorts: o.docker.onPorts } : {}), ...(session ? { session: { session: session.daemon, blobs } } : {}), ...(o.onWarning ? { onWarning: o.onWarning } : {}),
      });
      // the processes nobody took over (the old page's shells and execs) go once the containers have theirs
      if (session) void daemon.ready().then(() => this.vm.channel.resume(session.channel));
      const cli = new DockerCli(daemon);
      this.vm.channel.setCliHandler((s) => cli.handle(s));
      this.daemon = daemon;
      this.docker = cli;
    }
    return this;
  }

  /** Resolves once the snapshot taken after a cold boot is stored (at once if there is none). */
  async saved(): Promise<void> {
    await this.#saving;
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const t0 = now();
    const timings: Record<string, number> = {};
    let mark = t0;
    const lap = (name: string): void => {
      const t = now();
      timings[name] = Math.round(t - mark);
      mark = t;
    };
    const memoryMB = options.memoryMB ?? 256;
    const a = options.assets;
    const images = { bios: a.bios, bzimage: a.bzimage, initrd: new ArrayBuffer(0), wasm: a.wasm };
    const vmOptions = { memoryMB, ...(options.onConsole ? { onConsole: options.onConsole } : {}), ...(options.relayUrl ? { relayUrl: options.relayUrl } : {}) };
    const store = options.snapshots;
    const key = await snapshotKey({ bzimage: a.bzimage, initrd: a.initrdGz, emulator: a.emulator, memoryMB, cmdline: CMDLINE, ...(options.relayUrl ? { devices: "virtio-net" } : {}) });
    const skey = await sessionKey(key);
    lap("key");

    const guard = options.session && options.docker?.stateStore ? new SessionGuard(options.docker.stateStore) : undefined;
    if (guard && options.session) {
      await guard.load();
      const sealed = await options.session.get(skey).catch(() => undefined);
      if (sealed) {
        const discard = (why: string): void => options.onWarning?.(new BerthError(ErrorCode.snapshotInvalid, `Discarded the saved session and starting the containers afresh: ${why.replace(/^Cannot [^:]*: /, "")}`));
        try {
          const { record, state, blobs } = await openSession<EngineSession>(skey, sealed);
          // a stale one is kept until a new one replaces it: harmless, and never used
          if ((await SessionGuard.fingerprint(guard.records())) !== record.fingerprint) discard("the containers' or volumes' state was saved after it");
          else {
            lap("session-load");
            options.onPhase?.(BootPhase.restoring);
            const vm = await VmHost.start(images, { ...vmOptions, state, timings, sessionNextId: record.engine.channel.nextId, stateClock: record.engine.clock });
            options.onPhase?.(BootPhase.ready);
            return new Engine(vm, { restored: true, session: true, readyMs: Math.round(now() - t0), timings }).#withDocker(options, skey, guard, record.engine, blobs);
          }
        } catch (e) {
          // an unreadable or unrestorable one goes
          await options.session.delete(skey).catch(() => {});
          discard(isBerthError(e) ? e.message : String(e));
        }
        mark = now();
      }
    }

    if (store) {
      const sealed = await store.get(key).catch(() => undefined);
      lap("load");
      if (sealed) {
        options.onPhase?.(BootPhase.restoring);
        try {
          // checked (a SHA-256 of ~30 MB, off the main thread) while the emulator is made
          const state = openSnapshot(key, sealed);
          state.catch(() => {}); // VmHost.start rethrows it
          const vm = await VmHost.start(images, { ...vmOptions, state, timings });
          mark = now();
          options.onPhase?.(BootPhase.ready);
          return new Engine(vm, { restored: true, readyMs: Math.round(now() - t0), timings }).#withDocker(options, skey, guard);
        } catch (e) {
          // never half-use a snapshot: drop it and boot afresh
          await store.delete(key).catch(() => {});
          const why = isBerthError(e) ? e.message : String(e);
          options.onWarning?.(new BerthError(ErrorCode.snapshotInvalid, `Discarded the saved VM state and booting afresh: ${why.replace(/^Cannot [^:]*: /, "")}`));
        }
      }
    }

    options.onPhase?.(BootPhase.booting);
    try {
      // only a cold boot needs the initramfs: decompressing it here costs native, not emulated, time
      const raw = gunzip(new Uint8Array(a.initrdGz));
      images.initrd = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
    } catch (e) {
      throw new BerthError(ErrorCode.vmBootFailed, "Cannot boot the guest: the initramfs is not valid gzip", { cause: e });
    }
    lap("gunzip");
    const vm = await VmHost.start(images, { ...vmOptions, readyTimeoutMs: options.bootTimeoutMs ?? 60000, timings });
    mark = now();
    const readyMs = Math.round(now() - t0);
    let saving: Promise<void> | undefined;
    if (store) {
      // Take the state now, before anything runs in the guest; sealing and
      // storing it go on in the background (stop() waits for them).
      options.onPhase?.(BootPhase.saving);
      const state = await vm.saveState();
      lap("capture");
      saving = (async () => {
        try {
          await store.put(key, await sealSnapshot(key, state));
        } catch (e) {
          // the VM works; only the next start will be slower
          options.onWarning?.(isBerthError(e) ? e : new BerthError(ErrorCode.storageFull, `Cannot save the VM state: ${String(e)}`));
        }
      })();
    }
    options.onPhase?.(BootPhase.ready);
    return new Engine(vm, { restored: false, readyMs, timings }, saving).#withDocker(options, skey, guard);
  }

  /** Runs a process in the guest (not in a container) with a default PATH and HOME. */
  exec(req: ExecRequest, options: ExecOptions = {}): GuestProcess {
    const env = [...DEFAULT_ENV, ...(options.tty ? ["TERM=xterm-256color"] : []), ...(req.env ?? [])];
    return this.vm.channel.exec({ argv: req.argv, env, cwd: req.cwd ?? "/root" }, options);
  }

  /** Runs a command to completion and collects its output. */
  async run(argv: readonly string[], options: { stdin?: Uint8Array } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const p = this.exec({ argv }, { stdin: options.stdin !== undefined, onStdout: (b) => out.push(b), onStderr: (b) => err.push(b) });
    if (options.stdin) {
      p.write(options.stdin);
      p.closeStdin();
    }
    const code = await p.exit;
    return { code, stdout: concatText(out), stderr: concatText(err) };
  }

  /**
   * Saves the whole session (persist="session"): the running VM's state and
   * the engine's record of it, taken in one instant, go to the session store
   * (replacing the last), with a fingerprint of the daemon's state store; the
   * VM goes on running. Engine.start goes on from it, with the containers
   * still Up, as long as the state store holds what it held then; so the
   * engine saves it again by itself a moment after each change to the state
   * store (a container made, started or stopped, a volume's data saved), and
   * a page that goes before its own last save finishes still has a session
   * that matches its state. Answers the bytes stored.
   * @throws BerthError storage-full; invalid-parameter without a session store;
   *   vm-not-running when the guest is gone or stays busy (a request unanswered for 5 s)
   */
  saveSession(): Promise<{ bytes: number }> {
    return this.#sessionSaves.run(() => this.#saveSession());
  }

  async #saveSession(): Promise<{ bytes: number }> {
    const s = this.#session;
    const daemon = this.daemon;
    if (!s || !daemon) throw new BerthError(ErrorCode.invalidParameter, "Cannot save the session: this engine has no session store (persist=\"session\") or no state store");
    if (!this.vm.running) throw new BerthError(ErrorCode.vmNotRunning, "Cannot save the session: the VM is not running");
    await daemon.ready();
    // between requests: an answer due would come to a channel that is gone
    const deadline = now() + 5000;
    let saved: { bytes: number } | undefined;
    for (;;) {
      // the state store written while it was saved: again, so that what is left matches the store now
      if (saved && this.#changes === this.#captured) return saved;
      if (saved && now() > deadline) return saved;
      // a record whose write is waiting, and saves under way, first: the fingerprint is of what stays
      if (!saved || this.#changes !== this.#captured) await daemon.settle();
      const channel = this.vm.channel.session();
      const kept = daemon.session();
      if (channel && kept) {
        // in the same turn as the records: v86 copies its state synchronously here
        const records = s.guard.records();
        this.#captured = this.#changes;
        const clock = this.vm.clock();
        const state = this.vm.saveState();
        const record = { version: 1 as const, fingerprint: await SessionGuard.fingerprint(records), savedAt: Date.now(), engine: { channel, daemon: kept.session, clock } };
        const sealed = await sealSession<EngineSession>(s.key, record, await state, kept.blobs);
        await s.store.put(s.key, sealed);
        saved = { bytes: sealed.length };
        continue;
      }
      if (now() > deadline || !this.vm.running) throw new BerthError(ErrorCode.vmNotRunning, "Cannot save the session: the guest stayed busy (a request went unanswered for 5 s)");
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The state store changed: the session is saved again shortly (a busy guest: a little later). */
  #stale(): void {
    if (!this.#session || this.#resave) return;
    this.#resave = setTimeout(() => {
      this.#resave = undefined;
      if (this.#changes === this.#captured || !this.vm.running) return;
      this.saveSession().catch((e: unknown) => {
        if (!this.vm.running) return;
        if (isBerthError(e) && e.code === ErrorCode.vmNotRunning) this.#stale();
        else this.#onWarning?.(isBerthError(e) ? e : new BerthError(ErrorCode.storageFull, `Cannot save the session: ${String(e)}`));
      });
    }, SESSION_RESAVE_MS);
    (this.#resave as { unref?: () => void }).unref?.();
  }

  /**
   * Saves what the daemon has not saved (volumes' data, containers, the image
   * list, shared folders), then stops the VM; a save that fails is a warning
   * (storage-full): what was saved before stays whole.
   */
  async stop(): Promise<void> {
    if (this.#resave) clearTimeout(this.#resave);
    this.#resave = undefined;
    this.#session = undefined;
    if (this.vm.running) {
      const warn = (e: unknown): void => this.#onWarning?.(isBerthError(e) ? e : new BerthError(ErrorCode.storageFull, `Cannot save the engine's state: ${e instanceof Error ? e.message : String(e)}`));
      await this.daemon?.flush().catch(warn);
      await this.daemon?.shares?.stop().catch(warn);
    }
    await this.vm.destroy();
    await this.#saving;
  }
}

/** What a saved session keeps of the engine beside the VM's state. */
interface EngineSession {
  channel: ChannelSession;
  daemon: DaemonSession;
  /** the emulator's clock when the state was saved (VmHost.clock) */
  clock: number;
}

function now(): number {
  return performance.now();
}

function concatText(parts: Uint8Array[]): string {
  const d = new TextDecoder();
  return parts.map((p) => d.decode(p, { stream: true })).join("") + d.decode();
}
