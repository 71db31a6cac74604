import { Status, type ContainerState } from "../../common/container-state.js";
import { concatBytes } from "../../common/bytes.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { sha256Hex } from "../digest.js";
import { Container, type ContainerConfig, type ContainerService, type HostConfig, type LogLine } from "../containers/containers.js";
import type { NetworkRecord, NetworkService } from "../networks/networks.js";
import type { BlobStore } from "../store/blob-store.js";
import type { ShareFiles } from "../vm/vm-host.js";
import type { PortBinding } from "../../common/port-spec.js";
import type { EventBus } from "./events.js";
import { Serial } from "../serial.js";
import { ShareTransfer, tarToShare } from "../volumes/share-transfer.js";

/** A container as the daemon's state keeps it. */
interface SavedContainer {
  id: string;
  name: string;
  /** ms since the epoch */
  created: number;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  restartCount: number;
  /** stopped by the user: `unless-stopped` does not start it again */
  manualStop: boolean;
  /** digests of its writable layer (a tar of overlayfs's upper directory) and its log */
  upper?: string;
  logs?: string;
}

/** A container in a saved session: as the state keeps it, and what the running VM has of it. */
export interface SessionContainer extends SavedContainer {
  /** the guest stream of its init process, while it runs */
  proc?: number;
  /** its root filesystem (and writable layer) is mounted in the VM */
  mounted: boolean;
  /** its published ports, host ports chosen */
  ports: PortBinding[];
  /** its log (in memory, maybe newer than the kept one): an index into the session's blobs */
  log: number;
}

interface StateRecord {
  version: 1;
  networks: NetworkRecord[];
  containers: SavedContainer[];
}

const META = "containers";

/** What the state needs of the daemon. */
export interface StateDeps {
  containers: ContainerService;
  networks: NetworkService;
  events: EventBus;
  files: ShareFiles;
  /** guest directories of the image's layers, unpacked (by image ID); undefined when the image is gone */
  layers(imageId: string): Promise<string[] | undefined>;
  /** whether the guest is still there */
  running(): boolean;
}

/**
 * The daemon's containers and networks kept across engines, as a restarted
 * dockerd finds /var/lib/docker/containers: definitions, names, state, logs
 * and the writable layers of stopped containers are saved to the state store
 * (a directory in Node, IndexedDB in the page). A container that was running
 * when its engine stopped comes back exited (255, Docker's code for an exit it
 * did not see); restart policies `always` and `unless-stopped` start it again.
 */
export class DaemonState {
  readonly #d: StateDeps;
  readonly #store: BlobStore;
  /** containers whose writable layer or log changed since they were saved */
  readonly #dirty = new Set<string>();
  /** kept digests by container ID (upper, logs) */
  readonly #kept = new Map<string, { upper?: string; logs?: string }>();
  /** restored containers whose writable layer is put back at their first mount */
  readonly #pendingUpper = new Map<string, string>();
  /** restored containers not mounted yet in this engine (their layers may not be unpacked) */
  readonly #restored = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #serial = new Serial();
  readonly #transfer: ShareTransfer;

  constructor(d: StateDeps, store: BlobStore) {
    this.#d = d;
    this.#store = store;
    this.#transfer = new ShareTransfer(d.files, "upper");
    d.containers.mountHooks = { before: (c) => this.#beforeMount(c), after: (c) => this.#afterMount(c) };
    d.events.subscribe((e) => {
      // the VM went (stopped, crashed, or its page closed): what it said last stays kept, as a
      // killed dockerd's state stays on disk; the next start tells its containers' fate
      if (!d.running()) return;
      if (e.Type === "network" && (e.Action === "create" || e.Action === "destroy")) this.#later();
      if (e.Type !== "container") return;
      if (e.Action === "start" || e.Action.startsWith("exec_") || e.Action === "extract-to-dir") this.#dirty.add(e.Actor.ID);
      if (e.Action === "die") void this.#saveContainer(e.Actor.ID).catch(() => {});
      if (["create", "start", "die", "destroy", "rename", "pause", "unpause", "stop"].includes(e.Action)) this.#later();
      if (e.Action === "destroy") void this.#forget(e.Actor.ID).catch(() => {});
    });
  }

  /**
   * The containers now, as a saved session keeps them (with the VM's state,
   * which has their processes and mounts); their logs go in `blobs`.
   */
  session(blobs: Uint8Array[]): SessionContainer[] {
    return this.#d.containers.list().map((c) => ({ ...this.#record(c), ...(c.proc ? { proc: c.proc.id } : {}), mounted: c.mounted, ports: c.ports, log: blobs.push(encodeLogs(c.logs)) - 1 }));
  }

  /**
   * Reads the kept networks and containers back; answers the containers whose
   * restart policy starts them again (the caller starts them once images are back).
   * With `session` (a restored VM's containers), they come back as they were
   * in it: running ones keep running, their processes taken over.
   */
  async restore(session?: { containers: readonly SessionContainer[]; blobs: readonly Uint8Array[] }): Promise<Container[]> {
    if (session) return this.#restoreSession(session.containers, session.blobs);
    const text = await this.#store.getMeta(META);
    if (!text) return [];
    const rec = JSON.parse(text) as StateRecord;
    if (rec.version !== 1) return [];
    for (const n of rec.networks) this.#d.networks.restore(n);
    const start: Container[] = [];
    for (const s of rec.containers) {
      // a --rm container that was running when its engine stopped is gone, as Docker's daemon removes it at restart
      if (s.hostConfig.autoRemove) continue;
      const c = new Container(s.id, s.name, s.created, s.config, s.hostConfig);
      const wasUp = s.state.status === Status.running || s.state.status === Status.paused || s.state.status === Status.restarting;
      Object.assign(c.state, s.state, wasUp ? { status: Status.exited, exitCode: 255, finishedAt: Date.now() } : {});
      c.restartCount = s.restartCount;
      c.manualStop = s.manualStop;
      this.#kept.set(c.id, { ...(s.upper ? { upper: s.upper } : {}), ...(s.logs ? { logs: s.logs } : {}) });
      if (s.upper) this.#pendingUpper.set(c.id, s.upper);
      await this.#readLogs(c, s.logs);
      this.#d.containers.restore(c);
      this.#restored.add(c.id);
      const policy = s.hostConfig.restartPolicy.name;
      if (policy === "always" || (policy === "unless-stopped" && !s.manualStop && wasUp) || (policy === "on-failure" && wasUp)) start.push(c);
    }
    return start;
  }

  async #restoreSession(session: readonly SessionContainer[], blobs: readonly Uint8Array[]): Promise<Container[]> {
    const start: Container[] = [];
    for (const s of session) {
      const c = new Container(s.id, s.name, s.created, s.config, s.hostConfig);
      Object.assign(c.state, s.state);
      c.restartCount = s.restartCount;
      c.manualStop = s.manualStop;
      c.ports = s.ports;
      c.mounted = s.mounted;
      this.#kept.set(c.id, { ...(s.upper ? { upper: s.upper } : {}), ...(s.logs ? { logs: s.logs } : {}) });
      appendLogs(c, blobs[s.log]);
      // what it logged since it was kept (and, running, what it writes from now) is saved at its next save
      if (c.logs.length) this.#dirty.add(c.id);
      const up = s.state.status === Status.running || s.state.status === Status.paused;
      if (up && s.proc !== undefined) {
        this.#d.containers.adopt(c, s.proc);
        this.#dirty.add(c.id);
        continue;
      }
      if (up) Object.assign(c.state, { status: Status.exited, exitCode: 255, finishedAt: Date.now() });
      this.#d.containers.restore(c);
      if (!s.mounted) {
        if (s.upper) this.#pendingUpper.set(c.id, s.upper);
        this.#restored.add(c.id);
      }
      // waiting for its policy's next try when the page went: it is tried now
      if (s.state.status === Status.restarting) {
        c.state.status = Status.exited;
        start.push(c);
      }
    }
    return start;
  }

  /** A container's kept log, read back into it. */
  async #readLogs(c: Container, digest: string | undefined): Promise<void> {
    appendLogs(c, digest ? await this.#store.get(digest) : undefined);
  }

  /**
   * Saves what changed: the writable layers and logs of containers that ran
   * (the running ones too: the engine is stopping), then the record.
   * @throws BerthError storage-full
   */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const id of [...this.#dirty]) await this.#saveContainer(id);
    await this.#saveRecord();
  }

  /**
   * Writes the record now if a write of it is waiting (a container's change
   * of a moment ago), without saving any container's data, and waits for the
   * saves under way: before a session is saved, so that its fingerprint is of
   * the record as it will stay.
   * @throws BerthError storage-full
   */
  async settle(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#saveRecord();
    }
    await this.#serial.idle();
  }

  #later(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#saveRecord().catch(() => {});
    }, 200);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #saveRecord(): Promise<void> {
    return this.#serial.run(async () => {
      const rec: StateRecord = {
        version: 1,
        networks: this.#d.networks.records(),
        containers: this.#d.containers.list().map((c) => this.#record(c)),
      };
      await this.#store.setMeta(META, JSON.stringify(rec));
    });
  }

  #record(c: Container): SavedContainer {
    return {
      id: c.id, name: c.name, created: c.created, config: c.config, hostConfig: c.hostConfig, state: { ...c.state }, restartCount: c.restartCount,
      manualStop: c.manualStop, ...this.#kept.get(c.id),
    };
  }

  /** Saves one container's writable layer (through the 9p share: the guest tars it there) and its log. */
  #saveContainer(id: string): Promise<void> {
    return this.#serial.run(async () => {
      const c = this.#d.containers.tryFind(id);
      if (!c || c.id !== id || !this.#dirty.has(id)) return;
      this.#dirty.delete(id);
      // a --rm container is removed as it stops, and never comes back: nothing to keep
      if (c.hostConfig.autoRemove) return;
      const kept = { ...this.#kept.get(id) };
      if (c.mounted) {
        const bytes = await this.#transfer.take(async (tar) => (await this.#d.containers.guest(["/bin/sh", "-c", tarToShare('"$1"', '"$2"'), "save", c.upperDir, tar])).code === 0);
        if (bytes) kept.upper = await this.#put(bytes, kept.upper);
      }
      kept.logs = await this.#put(encodeLogs(c.logs), kept.logs);
      this.#kept.set(id, kept);
    });
  }

  /** Stores a blob, deleting the one it replaces; answers its digest. */
  async #put(bytes: Uint8Array, old: string | undefined): Promise<string> {
    const digest = `sha256:${await sha256Hex(bytes)}`;
    if (digest !== old) {
      await this.#store.put(digest, bytes);
      if (old && !this.#inUse(old)) await this.#store.delete(old).catch(() => {});
    }
    return digest;
  }

  #inUse(digest: string): boolean {
    return [...this.#kept.values()].some((k) => k.upper === digest || k.logs === digest);
  }

  /** A removed container's blobs go (after any save of it under way). */
  #forget(id: string): Promise<void> {
    this.#dirty.delete(id);
    this.#pendingUpper.delete(id);
    this.#restored.delete(id);
    return this.#serial.run(async () => {
      const kept = this.#kept.get(id);
      this.#kept.delete(id);
      for (const d of [kept?.upper, kept?.logs]) if (d && !this.#inUse(d)) await this.#store.delete(d).catch(() => {});
    });
  }

  /** A restored container's layers may not be unpacked in this engine yet. */
  async #beforeMount(c: Container): Promise<void> {
    if (!this.#restored.delete(c.id)) return;
    const dirs = await this.#d.layers(c.config.imageId);
    if (!dirs) throw new BerthError(ErrorCode.imageNotFound, `Cannot mount "${c.name}": its image ${c.config.imageId.slice(7, 19)} is no longer stored`);
    c.config.layers = dirs;
  }

  /** Puts a restored container's writable layer back: into overlayfs's upper directory, remounted. */
  async #afterMount(c: Container): Promise<void> {
    const digest = this.#pendingUpper.get(c.id);
    if (!digest) return;
    this.#pendingUpper.delete(c.id);
    const bytes = await this.#store.get(digest);
    if (!bytes) return;
    const rw = `${c.bundle}/rootfs.rw`;
    const script = 'set -e; umount "$1/rootfs"; tar -C "$2/upper" -xf "$3"; mount -t overlay overlay -o "lowerdir=$4,upperdir=$2/upper,workdir=$2/work" "$1/rootfs"';
    const r = await this.#transfer.give(bytes, (tar) => this.#d.containers.guest(["/bin/sh", "-c", script, "restore", c.bundle, rw, tar, c.config.layers.join(":")]));
    if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot mount "${c.name}": its kept writable layer could not be put back: ${r.stderr.trim()}`);
  }
}

/** A log blob's lines (encodeLogs) added to a container's log. */
function appendLogs(c: Container, bytes: Uint8Array | undefined): void {
  if (bytes) for (const l of decodeLogs(bytes)) {
    c.logs.push(l);
    c.logBytes += l.bytes.length;
  }
}

/** A log as one blob: per line, its stream (1 byte), time (ms, 8 bytes), length (4 bytes) and bytes. */
function encodeLogs(lines: readonly LogLine[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const l of lines) {
    const head = new Uint8Array(13);
    const v = new DataView(head.buffer);
    v.setUint8(0, l.stream === "stderr" ? 2 : 1);
    v.setFloat64(1, l.time);
    v.setUint32(9, l.bytes.length);
    parts.push(head, l.bytes);
  }
  return concatBytes(parts);
}

function decodeLogs(b: Uint8Array): LogLine[] {
  const out: LogLine[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 0; at + 13 <= b.length; ) {
    const n = v.getUint32(at + 9);
    out.push({ stream: v.getUint8(at) === 2 ? "stderr" : "stdout", time: v.getFloat64(at + 1), bytes: b.slice(at + 13, at + 13 + n) });
    at += 13 + n;
  }
  return out;
}
