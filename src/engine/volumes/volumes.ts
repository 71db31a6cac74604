import { BerthError, ErrorCode } from "../../common/errors.js";
import { ramInBytes, volumeNameError } from "../../common/api/mounts.js";
import { sha256Hex } from "../digest.js";
import { randomId } from "../random-id.js";
import type { BlobStore } from "../store/blob-store.js";
import type { ShareFiles } from "../vm/vm-host.js";
import type { EventBus } from "../daemon/events.js";
import { Serial } from "../serial.js";
import { ShareTransfer, tarToShare } from "./share-transfer.js";

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
  /** the digest of its saved content (a tar), when it has been saved */
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
  run(argv: string[]): Promise<{ code: number; stdout: Uint8Array; stderr: string }>;
}

const META = "volumes";

/**
 * Named and anonymous volumes (Docker's local driver). A volume's data is a
 * directory of the guest's own memory (/var/lib/docker/volumes/NAME/_data,
 * as fast as a container's writable layer); it is saved to the volume store
 * (a directory in Node, IndexedDB in the page) as a tar whenever it changed —
 * the guest writes the tar into the 9p share with direct I/O, the engine
 * takes it from there — and put back at its first use by a later engine, so
 * a reload or a new `berth` finds it, as a restarted dockerd finds
 * /var/lib/docker/volumes.
 */
export class VolumeService {
  readonly #guest: VolumeGuest;
  readonly #store: BlobStore | undefined;
  readonly #events: EventBus | undefined;
  readonly #volumes = new Map<string, VolumeRecord>();
  /** volumes whose data is in the share in this engine */
  readonly #loaded = new Set<string>();
  readonly #restored: Promise<void>;
  readonly #saving = new Serial();
  readonly #transfer: ShareTransfer;
  /** who uses a volume: container IDs (set by the daemon) */
  users: (name: string) => string[] = () => [];

  constructor(files: ShareFiles, guest: VolumeGuest, store?: BlobStore, events?: EventBus) {
    this.#guest = guest;
    this.#store = store;
    this.#events = events;
    this.#transfer = new ShareTransfer(files, "xfer");
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

  /** Resolves once the saves under way (flush) have ended. */
  idle(): Promise<void> {
    return this.#saving.idle();
  }

  /** The volumes whose data is in the guest now (for a saved session). */
  loaded(): string[] {
    return [...this.#loaded];
  }

  /** A restored VM has these volumes' data in its memory already: they are not put back again. */
  adoptLoaded(names: readonly string[]): void {
    for (const n of names) if (this.#volumes.has(n)) this.#loaded.add(n);
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
    // a volume made without a name is anonymous, as moby's volume service marks it
    const anonymous = o.anonymous || !name;
    const bad = volumeNameError(chosen);
    if (bad) throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume "${chosen}": create ${chosen}: ${bad}`);
    const had = this.#volumes.get(chosen);
    if (had) return had;
    const opts = o.options ?? {};
    const badOpts = localOptionsError(opts);
    if (badOpts) throw new BerthError(ErrorCode.invalidParameter, `Cannot create volume "${chosen}": create ${chosen}: ${badOpts}`);
    const v: VolumeRecord = {
      name: chosen,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      labels: { ...(anonymous ? { [ANONYMOUS_LABEL]: "" } : {}), ...(o.labels ?? {}) },
      options: opts,
    };
    // Docker's local driver makes _data root-owned, 0755
    await this.#sh(`Cannot create volume "${chosen}"`, LOAD, this.#dir(v), "");
    this.#loaded.add(v.name);
    this.#volumes.set(v.name, v);
    await this.#saveRecord();
    this.#events?.publish("volume", "create", v.name, { driver: "local" });
    return v;
  }

  /** Whether the volume has nothing in it (copy-up fills only an empty volume, Docker's rule). */
  async isEmpty(v: VolumeRecord): Promise<boolean> {
    const dir = await this.guestPath(v);
    const r = await this.#guest.run(["/bin/sh", "-c", '[ -z "$(ls -A "$1")" ]', "empty", dir]);
    return r.code === 0;
  }

  /**
   * Where a container mounts the volume in the guest (its data put back first,
   * if an earlier engine saved it).
   * @throws BerthError volume-not-found when its saved data is gone
   */
  async guestPath(v: VolumeRecord): Promise<string> {
    await this.#load(v);
    const data = `${this.#dir(v)}/_data`;
    if (mounted(v)) await this.#mount(v, data);
    return data;
  }

  /**
   * A volume with the local driver's mount options (type, device, o) is
   * mounted at its first use, as Docker's local driver does it
   * (`mount -t TYPE -o O DEVICE _data`), and stays until no running container uses it.
   * @throws BerthError invalid-parameter (its options do not mount) in moby's words ("error while mounting volume …: failed to mount local volume: mount …")
   */
  async #mount(v: VolumeRecord, data: string): Promise<void> {
    const o = v.options;
    const script = `${MOUNTED} && exit 0; if [ -n "$4" ]; then mount -t "$2" -o "$4" "$3" "$1"; else mount -t "$2" "$3" "$1"; fi`;
    const r = await this.#guest.run(["/bin/sh", "-c", script, "mount", data, o["type"] || "none", o["device"] ?? "", o["o"] ?? ""]);
    if (r.code === 0) return;
    const why = (/: ([^:]+)$/.exec(r.stderr.trim())?.[1] ?? (r.stderr.trim() || `exit status ${r.code}`)).toLowerCase();
    throw new BerthError(ErrorCode.invalidParameter, `Cannot mount volume "${v.name}": error while mounting volume '${data}': failed to mount local volume: ${mountErrorText(o["device"] ?? "", data, o["o"] ?? "")}: ${why}`);
  }

  /** No running container uses the volume any more: one with mount options is unmounted (a tmpfs one's data goes, as in Docker). */
  async release(name: string): Promise<void> {
    const v = this.#volumes.get(name);
    if (!v || !mounted(v)) return;
    await this.#guest.run(["/bin/sh", "-c", `if ${MOUNTED}; then umount "$1"; fi`, "umount", `${this.#dir(v)}/_data`]);
  }

  #dir(v: VolumeRecord): string {
    return `${VOLUMES_ROOT}/${v.name}`;
  }

  /** A guest script that must succeed; its stdout. */
  async #sh(what: string, script: string, ...args: string[]): Promise<string> {
    const r = await this.#guest.run(["/bin/sh", "-c", script, "volume", ...args]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `${what}: ${r.stderr.trim() || `exit status ${r.code}`}`);
    return new TextDecoder().decode(r.stdout);
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
    // never through a mount: a bind-typed volume's device is somebody else's
    if (mounted(v)) await this.release(name);
    const r = await this.#guest.run(["/bin/sh", "-c", `${MOUNTED} || rm -rf "$2"`, "rm", `${this.#dir(v)}/_data`, this.#dir(v)]).catch(() => undefined);
    if (r && r.code !== 0) throw new BerthError(ErrorCode.volumeInUse, `Cannot remove volume "${name}": remove ${name}: volume has active mounts`);
    this.#volumes.delete(name);
    this.#loaded.delete(name);
    await this.#saveRecord();
    if (v.content) await this.#store?.delete(v.content).catch(() => {});
    this.#events?.publish("volume", "destroy", name, { driver: "local" });
  }

  /** Bytes of file data in a volume (counted in the guest when it is there, else as last saved). */
  async size(v: VolumeRecord): Promise<number> {
    if (!this.#loaded.has(v.name)) return v.size ?? 0;
    return Number((await this.#sh(`Cannot size volume "${v.name}"`, sizeOf('"$1"'), `${this.#dir(v)}/_data`).catch(() => "0")).trim()) || 0;
  }

  /** Docker's JSON for a volume (`docker volume inspect`). */
  doc(v: VolumeRecord): VolumeDoc {
    return {
      CreatedAt: v.createdAt,
      Driver: "local",
      Labels: Object.keys(v.labels).length ? v.labels : null,
      Mountpoint: `${VOLUMES_ROOT}/${v.name}/_data`,
      Name: v.name,
      Options: Object.keys(v.options).length ? v.options : null,
      Scope: "local",
    };
  }

  /**
   * Saves the data of loaded volumes that changed since their last save
   * (`names`: only these): the guest tars a changed volume into the 9p share
   * (direct I/O: the share's page cache writes back a page at a time), the
   * engine stores it. A new blob is stored before the record names it, and
   * the old one deleted after: a failure (storage-full) leaves the last saved
   * content whole.
   * @throws BerthError storage-full
   */
  flush(names?: readonly string[]): Promise<void> {
    return this.#saving.run(() => this.#flush(names));
  }

  async #flush(names?: readonly string[]): Promise<void> {
    const store = this.#store;
    if (!store) return;
    for (const v of [...this.#volumes.values()]) {
      // a volume with mount options has its data elsewhere (a tmpfs, a device): nothing of its own to keep
      if (!this.#loaded.has(v.name) || mounted(v) || (names && !names.includes(v.name))) continue;
      let said = "";
      const bytes = await this.#transfer.take(async (xfer) => {
        const r = await this.#guest.run(["/bin/sh", "-c", SAVE, "save", this.#dir(v), xfer]);
        said = new TextDecoder().decode(r.stdout).trim();
        return r.code === 0 && said !== "unchanged";
      });
      if (!bytes || !this.#volumes.has(v.name)) continue;
      const digest = `sha256:${await sha256Hex(bytes)}`;
      v.size = Number(said) || 0;
      if (digest === v.content) continue;
      await store.put(digest, bytes);
      const old = v.content;
      v.content = digest;
      await this.#saveRecord();
      if (old) await store.delete(old).catch(() => {});
    }
  }

  async #saveRecord(): Promise<void> {
    await this.#store?.setMeta(META, JSON.stringify({ version: 1, volumes: [...this.#volumes.values()] }));
  }

  /** Puts a saved volume back into the guest, once per engine. */
  async #load(v: VolumeRecord): Promise<void> {
    if (this.#loaded.has(v.name)) return;
    const blob = v.content ? await this.#store?.get(v.content) : undefined;
    if (v.content && !blob) throw new BerthError(ErrorCode.volumeNotFound, `Cannot use volume "${v.name}": its saved data is gone from the volume store`);
    const what = `Cannot use volume "${v.name}"`;
    if (mounted(v)) await this.#sh(what, 'mkdir -p "$1/_data"', this.#dir(v));
    else if (blob) await this.#transfer.give(blob, (xfer) => this.#sh(what, LOAD, this.#dir(v), xfer));
    else await this.#sh(what, LOAD, this.#dir(v), "");
    this.#loaded.add(v.name);
  }
}

/** Whether a volume has the local driver's mount options (moby's localVolume.needsMount). */
function mounted(v: VolumeRecord): boolean {
  return Boolean(v.options["type"] || v.options["device"]);
}

/**
 * The local driver's check of its options (moby volume/local/local_unix.go
 * validateOpts, 28.2.2): only type, o, device and size; a size needs quota
 * support (there is none here); device and type need each other, o needs both.
 * Answers moby's words, or undefined when they are good.
 */
export function localOptionsError(opts: Readonly<Record<string, string>>): string | undefined {
  for (const k of Object.keys(opts)) if (!["type", "o", "device", "size"].includes(k)) return `invalid option: "${k}"`;
  if ("size" in opts) {
    const size = ramInBytes(opts["size"]!);
    if (size === undefined) return `invalid size: '${opts["size"]}'`;
    if (size > 0) return "quota size requested but no quota support";
  }
  const needs: Record<string, string[]> = { device: ["type"], type: ["device"], o: ["device", "type"] };
  for (const [k, wanted] of Object.entries(needs)) {
    if (!(k in opts)) continue;
    for (const w of wanted) if (!(w in opts)) return `missing required option: "${w}"`;
  }
  return undefined;
}

/** moby/sys/mount's error text for mounting `device` on `target` with `o` (flags as Linux's MS_* bits, the rest as data). */
function mountErrorText(device: string, target: string, o: string): string {
  const FLAGS: Record<string, number> = { ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8, sync: 0x10, remount: 0x20, noatime: 0x400, nodiratime: 0x800, bind: 0x1000, rbind: 0x5000, relatime: 0x200000 };
  let flags = 0;
  const data: string[] = [];
  for (const w of o.split(",").filter(Boolean)) {
    if (w in FLAGS) flags |= FLAGS[w]!;
    else if (w !== "rw" && w !== "defaults") data.push(w);
  }
  return `mount ${device ? `${device}:${target}` : target}${flags ? `, flags: 0x${flags.toString(16)}` : ""}${data.length ? `, data: ${data.join(",")}` : ""}`;
}

/** A signature of every node below _data (name, size, ctime, mode, owner), run in the volume's directory. */
const SIGNATURE = `find _data -exec stat -c '%n %s %Z %a %u %g' {} + | md5sum`;

/** A guest command line (sh) that prints the bytes of the regular files below directory `dir` (a shell word). */
function sizeOf(dir: string): string {
  return `find ${dir} -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s + 0 }'`;
}

/** Whether directory "$1" is a mount point (sh). */
const MOUNTED = 'grep -q " $1 " /proc/mounts';

/**
 * $1 the volume's directory, $2 where its tar goes: "unchanged", or the data's
 * size once the tar is written. What changed is told by a signature of every
 * node's name, size, ctime, mode and owner (kept in .saved, beside _data): a
 * ctime moves with any write, chmod, chown or extraction, whatever the mtime
 * says. The signature is taken before the tar, so a write during it is seen
 * by the next save.
 */
const SAVE = `cd "$1" || exit 1
sig=$(${SIGNATURE})
if [ -e .saved ] && [ "$(cat .saved)" = "$sig" ]; then echo unchanged; exit 0; fi
echo "$sig" > .saved
${tarToShare("_data", '"$2"')} || exit 1
${sizeOf("_data")}`;

/** $1 the volume's directory, $2 its saved tar ("" for none): made afresh (_data root's, 0755), the tar unpacked into _data. */
const LOAD = `rm -rf "$1" && mkdir -p "$1/_data" && chmod 755 "$1/_data" || exit 1
[ -z "$2" ] || tar -C "$1/_data" -xf "$2" || exit 1
cd "$1" && ${SIGNATURE} > .saved`;
