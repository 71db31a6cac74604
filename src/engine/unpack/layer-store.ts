import { BerthError, ErrorCode } from "../../common/errors.js";
import { decompressor, type Compression } from "./decompress.js";
import { sha256Hex } from "../digest.js";
import { TarParser, type EntryType, type TarEntry } from "./tar-reader.js";
import type { NodeAttrs, ShareFiles } from "../vm/vm-host.js";

/**
 * Image layers unpacked into the guest's 9p share, one directory per layer,
 * stacked by overlayfs in the guest as Docker's overlay2 driver stacks them.
 * A directory is named by the layer's chain (its blob and every blob below
 * it), so images that share base layers share their directories, and a layer
 * is unpacked once per engine.
 *
 * Whiteouts (`.wh.NAME`) become overlayfs's own: a 0:0 character device.
 * Opaque directories (`.wh..wh..opq`) need an xattr v86's 9p does not have,
 * so they are resolved here: every name the layers below show in the
 * directory and this layer does not have gets a whiteout. That needs the
 * merged view of the layers below, which is kept per chain (paths and
 * attributes only, no contents).
 */
export interface PathInfo extends NodeAttrs {
  type: EntryType;
}

/** path ("" is the root) -> what the merged layers show there */
export type MergedView = ReadonlyMap<string, PathInfo>;

interface Chain {
  /** the directory in the share */
  dir: string;
  /** the chain below (undefined for a base layer) */
  parent: string | undefined;
  /** undefined for a chain adopted from a restored VM until it is first asked for */
  view: Map<string, PathInfo> | undefined;
  /** the layer's uncompressed (tar) size */
  size: number;
}

/** A layer chain unpacked in the share, as a saved session keeps it (LayerStore.chains/adopt). */
export interface ChainRecord {
  key: string;
  dir: string;
  parent?: string;
  size: number;
}

export interface UnpackReport {
  /** entries dropped because they would escape the root or write through a non-directory */
  neutralised: string[];
  /** the layer's uncompressed (tar) size */
  size: number;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const ROOT_ATTRS: NodeAttrs = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

export class LayerStore {
  readonly #files: ShareFiles;
  readonly #root: string;
  readonly #chains = new Map<string, Chain>();
  readonly #pending = new Map<string, Promise<UnpackReport>>();

  constructor(files: ShareFiles, root = "/layers") {
    this.#files = files;
    this.#root = root;
  }

  /** The chain keys of layers given by their blob digests, bottom first. */
  static async chainKeys(digests: readonly string[]): Promise<string[]> {
    const keys: string[] = [];
    for (const d of digests) keys.push(keys.length ? await sha256Hex(new TextEncoder().encode(`${keys.at(-1)} ${d}`)) : d.replace(/^sha256:/, ""));
    return keys;
  }

  has(key: string): boolean {
    return this.#chains.has(key);
  }

  /** The guest paths of these chains' directories, top first, as overlayfs's lowerdir wants them. */
  guestDirs(keys: readonly string[]): string[] {
    return [...keys].reverse().map((k) => `/mnt/host${this.#need(k).dir}`);
  }

  /** What the layers up to `key` show, merged. */
  view(key: string): MergedView {
    const c = this.#need(key);
    c.view ??= this.#rebuild(c);
    return c.view;
  }

  /** The chains unpacked, for a saved session (the directories are in the VM's state). */
  chains(): ChainRecord[] {
    return [...this.#chains].map(([key, c]) => ({ key, dir: c.dir, ...(c.parent !== undefined ? { parent: c.parent } : {}), size: c.size }));
  }

  /**
   * Takes over the chains of a restored VM, whose directories are in its
   * share already; their merged views are read back from the share when
   * first asked for. A chain whose directory is missing is left out.
   */
  adopt(chains: readonly ChainRecord[]): void {
    for (const r of chains) {
      if (this.#chains.has(r.key) || !this.#files.stat(r.dir)) continue;
      this.#chains.set(r.key, { dir: r.dir, parent: r.parent, view: undefined, size: r.size });
    }
  }

  /**
   * A chain's merged view from its directory in the share and the view below,
   * with overlayfs's rules: a whiteout (0:0 device) hides the path and what is
   * under it, a non-directory replaces what was there, a directory over a
   * directory merges (opaque directories were made whiteouts at unpacking).
   */
  #rebuild(c: Chain): Map<string, PathInfo> {
    const lower = c.parent === undefined ? new Map<string, PathInfo>() : (this.view(c.parent) as Map<string, PathInfo>);
    const view = new Map(lower);
    const drop = (p: string): void => {
      const wasDir = view.get(p)?.type === "dir";
      view.delete(p);
      // only a directory has anything under it
      const prefix = `${p}/`;
      if (wasDir) for (const q of [...view.keys()]) if (q.startsWith(prefix)) view.delete(q);
    };
    const root = this.#files.stat(c.dir);
    if (root) view.set("", { type: "dir", mode: root.mode, uid: root.uid, gid: root.gid, mtime: root.mtime });
    for (const e of this.#files.walk(c.dir)) {
      if (e.type === "char" && e.major === 0 && e.minor === 0) {
        drop(e.path);
        continue;
      }
      if (e.type === "socket") continue;
      if (e.type !== "dir" || view.get(e.path)?.type !== "dir") drop(e.path);
      view.set(e.path, { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
    }
    return view;
  }

  /** A regular file's contents as the layers up to `top` show it (undefined if none). */
  async read(top: string, path: string): Promise<Uint8Array | undefined> {
    if (this.view(top).get(path)?.type !== "file") return undefined;
    for (let k: string | undefined = top; k !== undefined; k = this.#need(k).parent) {
      const data = await this.#files.read(`${this.#need(k).dir}/${path}`);
      if (data) return data;
    }
    return undefined;
  }

  /**
   * Unpacks one layer (its compressed bytes, whole or as they arrive) on top
   * of `parent`'s chain, which must be unpacked. Nothing is visible until the
   * whole layer is in; on any failure its directory is removed. Unpacking a
   * chain already there (or under way) answers at once.
   */
  unpack(key: string, parent: string | undefined, source: Uint8Array | ReadableStream<Uint8Array>, compression: Compression, what: string): Promise<UnpackReport> {
    const have = this.#chains.get(key);
    const running = this.#pending.get(key);
    if (have || running) {
      if (source instanceof ReadableStream) source.cancel().catch(() => {});
      return running ?? Promise.resolve({ neutralised: [], size: have!.size });
    }
    const p = this.#unpack(key, parent, source, compression, what).finally(() => this.#pending.delete(key));
    this.#pending.set(key, p);
    return p;
  }

  async #unpack(key: string, parent: string | undefined, source: Uint8Array | ReadableStream<Uint8Array>, compression: Compression, what: string): Promise<UnpackReport> {
    const lower: MergedView = parent === undefined ? new Map() : this.view(parent);
    const dir = `${this.#root}/${key.slice(0, 32)}`;
    const files = this.#files;
    files.remove(dir);
    const w = new LayerWriter(files, dir, lower, (path) => (parent === undefined ? Promise.resolve(undefined) : this.read(parent, path)));
    const stream = (source instanceof ReadableStream ? source : new Blob([source as BlobPart]).stream()).pipeThrough(decompressor(compression));
    const tar = new TarParser(what);
    let size = 0;
    try {
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        for (const e of tar.push(value)) await w.put(e);
      }
      tar.end();
      const view = w.finish();
      this.#chains.set(key, { dir, parent, view, size });
      return { neutralised: w.neutralised, size };
    } catch (e) {
      files.remove(dir);
      if (e instanceof BerthError) throw e;
      throw new BerthError(ErrorCode.digestMismatch, `Cannot unpack ${what}: it is not valid ${compression === "none" ? "tar" : compression} data`, { cause: e });
    }
  }

  #need(key: string): Chain {
    const c = this.#chains.get(key);
    if (!c) throw new TypeError(`layer chain ${key.slice(0, 12)} is not unpacked`);
    return c;
  }
}

/** Writes one layer's entries into its directory and works out the merged view above the layers below. */
class LayerWriter {
  readonly neutralised: string[] = [];
  readonly #files: ShareFiles;
  readonly #dirPath: string;
  readonly #lower: MergedView;
  readonly #readLower: (path: string) => Promise<Uint8Array | undefined>;
  /** this layer's paths -> their ids in the share and what they are ("whiteout" for the devices standing for one) */
  readonly #ids = new Map<string, number>();
  readonly #mine = new Map<string, PathInfo | "whiteout">();
  readonly #opaque: string[] = [];

  constructor(files: ShareFiles, dirPath: string, lower: MergedView, readLower: (path: string) => Promise<Uint8Array | undefined>) {
    this.#files = files;
    this.#dirPath = dirPath;
    this.#lower = lower;
    this.#readLower = readLower;
    this.#ids.set("", files.dir(dirPath));
    this.#mine.set("", { type: "dir", ...(lower.get("") ?? ROOT_ATTRS) });
  }

  async put(e: TarEntry): Promise<void> {
    if (e.path.split("/").includes("..") || (e.type === "hardlink" && e.linkname.split("/").includes(".."))) {
      this.neutralised.push(e.path);
      return;
    }
    if (e.path === "") {
      if (e.type !== "dir") this.neutralised.push("/");
      return;
    }
    const slash = e.path.lastIndexOf("/");
    const dir = slash < 0 ? "" : e.path.slice(0, slash);
    const base = e.path.slice(slash + 1);
    const parent = this.#dir(dir);
    if (parent === undefined) {
      this.neutralised.push(e.path);
      return;
    }
    if (base === OPAQUE) {
      this.#opaque.push(dir);
      return;
    }
    // `.wh.NAME`, or overlayfs's own whiteout as a container's writable layer has it (commit, save)
    const whiteout = base.startsWith(WHITEOUT) ? (dir ? `${dir}/` : "") + base.slice(WHITEOUT.length) : e.type === "char" && e.devmajor === 0 && e.devminor === 0 ? e.path : undefined;
    if (whiteout !== undefined) {
      this.#whiteout(parent, whiteout);
      return;
    }
    const a: NodeAttrs = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    const old = this.#mine.get(e.path);
    if (old !== undefined) {
      if (old !== "whiteout" && old.type === "dir" && e.type === "dir") {
        this.#mine.set(e.path, { type: "dir", ...a });
        this.#files.setAttrs(this.#ids.get(e.path)!, "dir", a);
        return;
      }
      this.#drop(e.path);
    }
    const name = base;
    const f = this.#files;
    switch (e.type) {
      case "dir":
        this.#ids.set(e.path, f.mkdir(parent, name, a));
        break;
      case "file":
        this.#ids.set(e.path, await f.file(parent, name, e.data, a));
        break;
      case "hardlink": {
        const target = e.linkname.split("/").filter((c) => c !== "" && c !== ".").join("/");
        const mine = this.#mine.get(target);
        if (mine !== undefined && mine !== "whiteout" && mine.type === "file") {
          f.hardlink(parent, name, this.#ids.get(target)!);
          this.#mine.set(e.path, mine);
          return;
        }
        // a link to a file of a layer below: a copy (overlayfs cannot link across layers)
        const below = mine === undefined ? this.#lower.get(target) : undefined;
        const data = below?.type === "file" ? await this.#readLower(target) : undefined;
        if (!below || !data) {
          this.neutralised.push(e.path);
          return;
        }
        this.#ids.set(e.path, await f.file(parent, name, data, below));
        this.#mine.set(e.path, { ...below });
        return;
      }
      case "symlink":
        this.#ids.set(e.path, f.symlink(parent, name, e.linkname, a));
        break;
      case "char":
      case "block":
      case "fifo":
        this.#ids.set(e.path, f.node(parent, name, e.type, e.devmajor, e.devminor, a));
        break;
    }
    this.#mine.set(e.path, { type: e.type, ...a });
  }

  /** The merged view once every entry is in; opaque directories are turned into whiteouts first. */
  finish(): Map<string, PathInfo> {
    const removed = new Set<string>();
    for (const dir of this.#opaque) {
      const prefix = dir === "" ? "" : `${dir}/`;
      for (const p of this.#lower.keys()) {
        if (p === dir || !p.startsWith(prefix)) continue;
        removed.add(p);
        // a direct child hides what is below it; this layer's own entries stay
        if (!p.includes("/", prefix.length) && !this.#mine.has(p)) this.#whiteout(this.#ids.get(dir)!, p);
      }
    }
    const view = new Map(this.#lower);
    for (const p of removed) view.delete(p);
    for (const [p, m] of this.#mine) {
      if (m === "whiteout" || m.type !== "dir") {
        // what the layers below had at p, and under it, is gone (a dir over a dir merges)
        const prefix = `${p}/`;
        view.delete(p);
        if (this.#lower.get(p)?.type === "dir") for (const q of this.#lower.keys()) if (q.startsWith(prefix)) view.delete(q);
      }
    }
    for (const [p, m] of this.#mine) if (m !== "whiteout") view.set(p, m);
    return view;
  }

  /** The id of this layer's directory `dir`, made (with the attributes the layers below give it) if missing; undefined if a non-directory is in the way. */
  #dir(dir: string): number | undefined {
    const id = this.#ids.get(dir);
    const mine = this.#mine.get(dir);
    if (id !== undefined && mine !== "whiteout" && mine?.type === "dir") return id;
    if (mine !== undefined) return undefined;
    const slash = dir.lastIndexOf("/");
    const parent = this.#dir(slash < 0 ? "" : dir.slice(0, slash));
    if (parent === undefined) return undefined;
    const below = this.#lower.get(dir);
    if (below && below.type !== "dir") return undefined;
    const a = below ?? ROOT_ATTRS;
    const made = this.#files.mkdir(parent, dir.slice(slash + 1), a);
    this.#ids.set(dir, made);
    this.#mine.set(dir, { ...a, type: "dir" });
    return made;
  }

  #whiteout(parent: number, path: string): void {
    if (this.#mine.has(path)) this.#drop(path);
    this.#files.node(parent, path.slice(path.lastIndexOf("/") + 1), "char", 0, 0, { mode: 0, uid: 0, gid: 0, mtime: 0 });
    this.#mine.set(path, "whiteout");
  }

  /** Removes what this layer wrote at `path` (a later entry replaces it). */
  #drop(path: string): void {
    this.#files.remove(`${this.#dirPath}/${path}`);
    const prefix = `${path}/`;
    for (const p of [...this.#mine.keys()]) {
      if (p === path || p.startsWith(prefix)) {
        this.#mine.delete(p);
        this.#ids.delete(p);
      }
    }
  }
}
