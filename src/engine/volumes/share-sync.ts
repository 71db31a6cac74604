import type { NodeAttrs, ShareEntry, ShareFiles } from "../vm/vm-host.js";

/** A node of the user's tree (a host directory in Node, a picked folder in the page). */
export interface HostEntry {
  /** relative, "/"-separated */
  path: string;
  type: "dir" | "file" | "symlink";
  size: number;
  /** ms since the epoch */
  mtime: number;
  /** permission bits */
  mode: number;
  uid: number;
  gid: number;
  /** a symlink's target */
  target: string;
}

/**
 * The user's files a share shows the guest: Node's is a directory
 * (src/node/host-tree.ts). Paths are relative to its root, "/"-separated.
 */
export interface HostTree {
  /** everything below the root, parents before children; other kinds of node are left out */
  list(): Promise<HostEntry[]>;
  /** one node, or undefined */
  stat(path: string): Promise<HostEntry | undefined>;
  read(path: string): Promise<Uint8Array>;
  /** writes a whole file (made or replaced) with these permission bits */
  writeFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  mkdir(path: string, mode: number): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  /** removes a node and everything below it; no error if it is gone */
  remove(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
}

/** What a path looked like on each side at the last sync (a side may not keep all: a picked folder has no modes). */
interface Seen {
  type: string;
  /** the guest's inode, mode, size and symlink target */
  id: number;
  mode: number;
  size: number;
  target: string;
  /** the host's */
  hostType: string;
  hostMode: number;
  hostSize: number;
  /** ms */
  hostMtime: number;
  hostTarget: string;
}

/**
 * Keeps a directory of the guest's 9p share and the user's tree the same,
 * both ways, as Docker Desktop's file sharing does: a path changed on one
 * side since the last sync is copied to the other; changed on both, the
 * guest's change wins (a container wrote it last). The guest's writes are
 * known by the share's write notices (`written`, inode ids) and by attribute
 * changes; the host's by size, mtime and mode.
 */
export class ShareSync {
  readonly #files: ShareFiles;
  readonly #tree: HostTree;
  /** the share directory in the 9p filesystem ("/shares/0") */
  readonly dir: string;
  #seen = new Map<string, Seen>();

  constructor(files: ShareFiles, tree: HostTree, dir: string) {
    this.#files = files;
    this.#tree = tree;
    this.dir = dir;
  }

  /**
   * One sync. `written`: ids of share nodes the guest wrote since the last
   * sync. Answers how many paths went each way (toGuest > 0: the guest's
   * caches of the share must be dropped to see them).
   */
  async sync(written: ReadonlySet<number>): Promise<{ toHost: number; toGuest: number; made: number[] }> {
    const files = this.#files;
    const root = await this.#tree.stat("");
    const top = files.dir(this.dir);
    if (root) files.setAttrs(top, "dir", { mode: root.mode, uid: root.uid, gid: root.gid, mtime: Math.floor(root.mtime / 1000) });
    const guest = new Map(files.walk(this.dir).map((e) => [e.path, e]));
    const host = new Map((await this.#tree.list()).map((e) => [e.path, e]));
    const paths = [...new Set([...guest.keys(), ...host.keys(), ...this.#seen.keys()])].sort();
    let toHost = 0;
    let toGuest = 0;
    const made: number[] = [];
    const next = new Map<string, Seen>();
    const removedHost = new Set<string>();
    const removedGuest = new Set<string>();
    const under = (p: string, set: Set<string>): boolean => [...set].some((r) => p.startsWith(`${r}/`));
    for (const p of paths) {
      if (under(p, removedHost) || under(p, removedGuest)) continue;
      const g = guest.get(p);
      const h = host.get(p);
      const s = this.#seen.get(p);
      const gChanged = guestChanged(g, s, written);
      const hChanged = hostChanged(h, s);
      if (gChanged) {
        toHost++;
        if (!g) {
          await this.#tree.remove(p);
          removedHost.add(p);
          continue;
        }
        if (h && (h.type !== g.type || g.type === "symlink")) await this.#tree.remove(p);
        if (g.type === "dir") {
          if (h?.type === "dir") await this.#tree.chmod(p, g.mode);
          else await this.#tree.mkdir(p, g.mode);
        } else if (g.type === "file") await this.#tree.writeFile(p, await files.readId(g.id), g.mode);
        else if (g.type === "symlink") await this.#tree.symlink(p, g.target);
        else continue; // devices, fifos and sockets stay in the guest
        next.set(p, seen(g, await this.#tree.stat(p)));
      } else if (hChanged) {
        toGuest++;
        if (g) files.remove(`${this.dir}/${p}`);
        if (!h) {
          removedGuest.add(p);
          continue;
        }
        const slash = p.lastIndexOf("/");
        const parent = files.dir(`${this.dir}/${slash < 0 ? "" : p.slice(0, slash)}`);
        const name = p.slice(slash + 1);
        const a: NodeAttrs = { mode: h.mode, uid: h.uid, gid: h.gid, mtime: Math.floor(h.mtime / 1000) };
        let id: number;
        if (h.type === "dir") id = files.mkdir(parent, name, a);
        else if (h.type === "file") id = await files.file(parent, name, await this.#tree.read(p), a);
        else id = files.symlink(parent, name, h.target, a);
        made.push(id);
        next.set(p, seen({ id, type: h.type, size: h.size, mode: h.mode, target: h.target }, h));
      } else if (g && s) next.set(p, { ...s, id: g.id });
    }
    this.#seen = next;
    return { toHost, toGuest, made };
  }
}

function seen(g: Pick<ShareEntry, "id" | "type" | "size" | "mode" | "target">, h: HostEntry | undefined): Seen {
  return { type: g.type, id: g.id, size: g.size, mode: g.mode, target: g.target, hostType: h?.type ?? "", hostMode: h?.mode ?? 0, hostSize: h?.size ?? 0, hostMtime: h?.mtime ?? 0, hostTarget: h?.target ?? "" };
}

function guestChanged(g: ShareEntry | undefined, s: Seen | undefined, written: ReadonlySet<number>): boolean {
  if (!g || !s) return !!g !== !!s;
  if (g.id !== s.id || written.has(g.id)) return true;
  return g.type !== s.type || g.mode !== s.mode || g.target !== s.target || (g.type === "file" && g.size !== s.size);
}

function hostChanged(h: HostEntry | undefined, s: Seen | undefined): boolean {
  if (!h || !s) return !!h !== !!s;
  return h.type !== s.hostType || h.mode !== s.hostMode || h.target !== s.hostTarget || (h.type !== "dir" && (h.size !== s.hostSize || h.mtime !== s.hostMtime));
}
