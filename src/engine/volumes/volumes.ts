import { BerthError, ErrorCode } from "../../common/errors.js";
import { volumeNameError } from "../../common/api/mounts.js";
import { concatBytes } from "../../common/bytes.js";
import { sha256Hex } from "../digest.js";
import { randomId } from "../random-id.js";
import type { BlobStore } from "../store/blob-store.js";
import type { NodeAttrs, ShareEntry, ShareFiles } from "../vm/vm-host.js";
import type { EventBus } from "../daemon/events.js";

/** Docker's label on the volumes it makes for `-v /path` and an image's VOLUME (moby volume/service AnonymousLabel). */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";

/** Where `docker volume inspect` says a volume lives, as Docker's local driver does. */
export const VOLUMES_ROOT = "/var/lib/docker/volumes";

/** A volume as the daemon keeps it (and saves it beside its data). */
export interface VolumeRecord {
  name: string;
  /** RFC 3339, seconds */
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** the directory in the 9p share holding its `_data` (a new one per volume, so the guest never caches an old one) */
  dir: string;
  /** the digest of its saved content, when it has been saved */
  content?: string;
  /** bytes of file data at the last save */
  size?: number;
}

/** `GET /volumes/{name}` (Docker's Volume). */
export interface VolumeDoc {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: string;
  UsageData?: { Size: number; RefCount: number };
}

/** What the volume service asks of the guest. */
export interface VolumeGuest {
  /** runs a guest command to completion */
  run(argv: string[]): Promise<{ code: number; stderr: string }>;
}

interface SavedEntry {
  p: string;
  t: ShareEntry["type"] | "link";
  m: number;
  u: number;
  g: number;
  mt: number;
  /** file size, link target path (hard link), symlink target */
  s?: number;
  l?: string;
  maj?: number;
  min?: number;
}

const META = "volumes";

/**
 * Named and anonymous volumes (Docker's local driver): their data is a
 * directory in the guest's 9p share, which v86 keeps in this process, so the
 * engine reads and writes it without the guest; it is saved to the volume
 * store (a directory in Node, IndexedDB in the page) as one content-addressed
 * blob per volume whenever it changed, and written back into the share at its
 * first use by a later engine — a reload or a new `berth` finds it, as a
 * restarted dockerd finds /var/lib/docker/volumes.
 */
export class VolumeService {
  readonly #files: ShareFiles;
  readonly #guest: VolumeGuest;
  readonly #store: BlobStore | undefined;
  readonly #events: EventBus | undefined;
  readonly #volumes = new Map<string, VolumeRecord>();
  /** volumes whose data is in the share in this engine */
  readonly #loaded = new Set<string>();
  readonly #restored: Promise<void>;
  #saving: Promise<void> = Promise.resolve();
  /** who uses a volume: container IDs (set by the daemon) */
  users: (name: string) => string[] = () => [];

  constructor(files: ShareFiles, guest: VolumeGuest, store?: BlobStore, events?: EventBus) {
    this.#files = files;
    this.#guest = guest;
    this.#store = store;
    this.#events = events;
    this.#restored = this.#restore().catch(() => {});
  }

  /** Resolves once the volumes of an earlier run are read back. */
  ready(): Promise<void> {
    return this.#restored;
  }

  async #restore(): Promise<void> {
    const text = await this.#store?.getMeta(META);
    if (!text) return;
    const rec = JSON.parse(text) as { version: number; volumes: VolumeRecord[] };
    if (rec.version !== 1) return;
    for (const v of rec.volumes) this.#volumes.set(v.name, v);
  }

  list(): VolumeRecord[] {
    return [...this.#volumes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * A volume by name.
   * @throws BerthError volume-not-found ("get NAME: no such volume", moby's words)
   */
  get(name: string): VolumeRecord {
    const v = this.#volumes.get(name);
    if (!v) throw new BerthError(ErrorCode.volumeNotFound, `Cannot find volume "${name}": get ${name}: no such volume`);
    return v;
  }

  tryGet(name: string): VolumeRecord | undefined {
    return this.#volumes.get(name);
  }

  /**
   * Creates a volume (`POST /volumes/create`, `docker volume create`, and `-v
   * NAME:/path` for a name not yet there). An existing name answers the
   * existing volume, as Docker's does. No name: a random 64-hex one.
   * @throws BerthError invalid-parameter: a bad name (moby's words), a driver other than local, driver options
   */
  async create(name: string | undefined, o: { labels?: Record<string, string>; options?: Record<string, string>; driver?: string; anonymous?: boolean } = {}): Promise<VolumeRecord> {
    await this.#restored;
    const driver = o.driver || "local";
    if (driver !== "local") throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const chosen = name || randomId();
    const bad = volumeNameError(chosen);
    if (bad) throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume "${chosen}": create ${chosen}: ${bad}`);
    const had = this.#volumes.get(chosen);
    if (had) return had;
    const opts = o.options ?? {};
    for (const k of Object.keys(opts)) {
      if (!["type", "device", "o", "size"].includes(k)) throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume "${chosen}": create ${chosen}: invalid option key: "${k}"`);
    }
    if (Object.keys(opts).length) throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume "${chosen}": Berth does not support the local driver's mount options (--opt) yet`);
    const v: VolumeRecord = {
      name: chosen,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      labels: { ...(o.anonymous ? { [ANONYMOUS_LABEL]: "" } : {}), ...(o.labels ?? {}) },
      options: opts,
      dir: `/volumes/${randomId().slice(0, 24)}`,
    };
    // Docker's local driver makes _data root-owned, 0755
    this.#files.setAttrs(this.#files.dir(`${v.dir}/_data`), "dir", { mode: 0o755, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000) });
    this.#loaded.add(v.name);
    this.#volumes.set(v.name, v);
    await this.#saveRecord();
    this.#events?.publish("volume", "create", v.name, { driver: "local" });
    return v;
  }

  /** Whether the volume has nothing in it (copy-up fills only an empty volume, Docker's rule). */
  async isEmpty(v: VolumeRecord): Promise<boolean> {
    await this.#load(v);
    return this.#files.walk(`${v.dir}/_data`).length === 0;
  }

  /** The share's `_data` directory of a volume (for writing into it: copy-up). */
  shareDir(v: VolumeRecord): string {
    return `${v.dir}/_data`;
  }

  /**
   * Where a container mounts the volume in the guest (its data loaded into the
   * share first, if an earlier engine saved it).
   * @throws BerthError storage errors reading it back
   */
  async guestPath(v: VolumeRecord): Promise<string> {
    await this.#load(v);
    return `/mnt/host${v.dir}/_data`;
  }

  /**
   * Removes a volume (`DELETE /volumes/{name}`): refused while a container
   * uses it, with Docker's 409 words ("remove NAME: volume is in use - [ID]").
   * @throws BerthError volume-not-found, volume-in-use
   */
  async remove(name: string): Promise<void> {
    await this.#restored;
    const v = this.get(name);
    const users = this.users(name);
    if (users.length) throw new BerthError(ErrorCode.volumeInUse, `Cannot remove volume "${name}": remove ${name}: volume is in use - [${users.join(", ")}]`);
    this.#volumes.delete(name);
    this.#loaded.delete(name);
    this.#files.remove(v.dir);
    await this.#saveRecord();
    if (v.content) await this.#store?.delete(v.content).catch(() => {});
    this.#events?.publish("volume", "destroy", name, { driver: "local" });
  }

  /** Bytes of file data in a volume (its share directory when loaded, else as last saved). */
  size(v: VolumeRecord): number {
    if (!this.#loaded.has(v.name)) return v.size ?? 0;
    const seen = new Set<number>();
    return this.#files.walk(`${v.dir}/_data`).reduce((n, e) => (e.type === "file" && !seen.has(e.id) && seen.add(e.id) ? n + e.size : n), 0);
  }

  /** Docker's JSON for a volume (`docker volume inspect`). */
  doc(v: VolumeRecord, usage = false): VolumeDoc {
    return {
      CreatedAt: v.createdAt,
      Driver: "local",
      Labels: Object.keys(v.labels).length ? v.labels : null,
      Mountpoint: `${VOLUMES_ROOT}/${v.name}/_data`,
      Name: v.name,
      Options: Object.keys(v.options).length ? v.options : null,
      Scope: "local",
      ...(usage ? { UsageData: { Size: this.size(v), RefCount: this.users(v.name).length } } : {}),
    };
  }

  /**
   * Saves the data of loaded volumes that changed since their last save
   * (`names`: only these). The guest's page cache is written back first (`sync`),
   * so what containers wrote is in the share. A new blob is stored before the
   * record names it, and the old one deleted after: a failure (storage-full)
   * leaves the last saved content whole.
   * @throws BerthError storage-full
   */
  flush(names?: readonly string[]): Promise<void> {
    const run = this.#saving.then(() => this.#flush(names));
    this.#saving = run.catch(() => {});
    return run;
  }

  async #flush(names?: readonly string[]): Promise<void> {
    const store = this.#store;
    if (!store) return;
    const todo = [...this.#volumes.values()].filter((v) => this.#loaded.has(v.name) && (!names || names.includes(v.name)));
    if (!todo.length) return;
    await this.#guest.run(["/bin/sync"]).catch(() => {});
    let changed = false;
    for (const v of todo) {
      if (!this.#volumes.has(v.name)) continue;
      const { bytes, size } = await this.#serialise(v);
      const digest = `sha256:${await sha256Hex(bytes)}`;
      if (digest === v.content) continue;
      await store.put(digest, bytes);
      const old = v.content;
      v.content = digest;
      v.size = size;
      changed = true;
      if (old && old !== digest) {
        await this.#saveRecord();
        await store.delete(old).catch(() => {});
      }
    }
    if (changed) await this.#saveRecord();
  }

  async #saveRecord(): Promise<void> {
    await this.#store?.setMeta(META, JSON.stringify({ version: 1, volumes: [...this.#volumes.values()] }));
  }

  /** A volume's tree as one blob: a 4-byte length, a JSON list of entries, then the files' bytes in order. */
  async #serialise(v: VolumeRecord): Promise<{ bytes: Uint8Array; size: number }> {
    const entries: SavedEntry[] = [];
    const data: Uint8Array[] = [];
    const seen = new Map<number, string>();
    let size = 0;
    const root = this.#files.stat(`${v.dir}/_data`);
    if (root) entries.push({ p: "", t: "dir", m: root.mode, u: root.uid, g: root.gid, mt: root.mtime });
    for (const e of this.#files.walk(`${v.dir}/_data`)) {
      const base = { p: e.path, m: e.mode, u: e.uid, g: e.gid, mt: e.mtime };
      if (e.type === "file" && e.nlinks > 1 && seen.has(e.id)) {
        entries.push({ ...base, t: "link", l: seen.get(e.id)! });
        continue;
      }
      if (e.type === "file") {
        const bytes = await this.#files.readId(e.id);
        seen.set(e.id, e.path);
        entries.push({ ...base, t: "file", s: bytes.length });
        data.push(bytes);
        size += bytes.length;
      } else if (e.type === "symlink") entries.push({ ...base, t: "symlink", l: e.target });
      else if (e.type === "char" || e.type === "block") entries.push({ ...base, t: e.type, maj: e.major, min: e.minor });
      else if (e.type === "dir" || e.type === "fifo") entries.push({ ...base, t: e.type });
    }
    const head = new TextEncoder().encode(JSON.stringify(entries));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, head.length);
    return { bytes: concatBytes([len, head, ...data]), size };
  }

  /** Writes a saved volume back into the share, once per engine. */
  async #load(v: VolumeRecord): Promise<void> {
    if (this.#loaded.has(v.name)) return;
    const files = this.#files;
    const top = `${v.dir}/_data`;
    files.remove(v.dir);
    const root = files.dir(top);
    files.setAttrs(root, "dir", { mode: 0o755, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000) });
    const blob = v.content ? await this.#store?.get(v.content) : undefined;
    if (v.content && !blob) throw new BerthError(ErrorCode.volumeNotFound, `Cannot use volume "${v.name}": its saved data is gone from the volume store`);
    if (blob) {
      const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
      const n = view.getUint32(0);
      const entries = JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + n))) as SavedEntry[];
      let at = 4 + n;
      const ids = new Map<string, number>([["", root]]);
      for (const e of entries) {
        const a: NodeAttrs = { mode: e.m, uid: e.u, gid: e.g, mtime: e.mt };
        if (e.p === "") {
          files.setAttrs(root, "dir", a);
          continue;
        }
        const slash = e.p.lastIndexOf("/");
        const parent = ids.get(slash < 0 ? "" : e.p.slice(0, slash));
        const name = e.p.slice(slash + 1);
        if (parent === undefined) continue;
        switch (e.t) {
          case "dir":
            ids.set(e.p, files.mkdir(parent, name, a));
            break;
          case "file":
            ids.set(e.p, await files.file(parent, name, blob.slice(at, at + e.s!), a));
            at += e.s!;
            break;
          case "link":
            if (ids.has(e.l!)) files.hardlink(parent, name, ids.get(e.l!)!);
            break;
          case "symlink":
            files.symlink(parent, name, e.l!, a);
            break;
          case "char":
          case "block":
            files.node(parent, name, e.t, e.maj ?? 0, e.min ?? 0, a);
            break;
          case "fifo":
            files.node(parent, name, "fifo", 0, 0, a);
            break;
        }
      }
    }
    this.#loaded.add(v.name);
  }
}
