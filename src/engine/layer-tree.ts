import type { TarEntry } from "./tar-reader.js";

/**
 * A container root filesystem built by applying image layers in order, with
 * the OCI changeset rules: `.wh.NAME` deletes NAME from the layers below,
 * `.wh..wh..opq` hides everything the layers below put in its directory.
 * The result is the tree Docker gives, resolved here because v86's 9p has no
 * xattrs to mark an opaque directory for overlayfs.
 */
/** A tar entry's metadata and contents, without its path (the tree's key). */
export type TreeNode = Omit<TarEntry, "path"> & {
  /** for hard links: the path of the node whose contents this shares */
  hardlinkOf?: string;
};

export interface ApplyReport {
  /** entries dropped because they would escape the root or write through a non-directory */
  neutralised: string[];
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

export class LayerTree {
  /** path ("" is the root) -> node; directories included */
  readonly nodes = new Map<string, TreeNode>();

  constructor() {
    this.nodes.set("", { type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, linkname: "", devmajor: 0, devminor: 0, data: new Uint8Array(0) });
  }

  /** Applies one layer's entries on top of what is there. */
  apply(entries: Iterable<TarEntry>): ApplyReport {
    const report: ApplyReport = { neutralised: [] };
    const fromThisLayer = new Set<string>();
    const opaque: string[] = [];
    for (const e of entries) {
      if (e.path.split("/").includes("..") || (e.type === "hardlink" && e.linkname.split("/").includes(".."))) {
        report.neutralised.push(e.path);
        continue;
      }
      const slash = e.path.lastIndexOf("/");
      const dir = slash < 0 ? "" : e.path.slice(0, slash);
      const base = e.path.slice(slash + 1);
      if (!this.#ensureDir(dir, fromThisLayer)) {
        report.neutralised.push(e.path);
        continue;
      }
      if (base === OPAQUE) {
        opaque.push(dir);
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        this.#remove(dir === "" ? base.slice(WHITEOUT.length) : `${dir}/${base.slice(WHITEOUT.length)}`);
        continue;
      }
      // overlayfs's own whiteout (a 0:0 character device), as a container's writable layer has it
      // (docker commit / save of a layer read from overlayfs): the same as `.wh.NAME`
      if (e.type === "char" && e.devmajor === 0 && e.devminor === 0 && e.path !== "") {
        this.#remove(e.path);
        continue;
      }
      if (e.path === "" && e.type !== "dir") {
        report.neutralised.push("/");
        continue;
      }
      const node: TreeNode = {
        type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime,
        linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor, data: e.data,
      };
      if (e.type === "hardlink") {
        const target = this.nodes.get(normalise(e.linkname));
        if (!target || target.type === "dir") {
          report.neutralised.push(e.path);
          continue;
        }
        Object.assign(node, { ...target, hardlinkOf: target.hardlinkOf ?? normalise(e.linkname) });
      }
      const old = this.nodes.get(e.path);
      if (old && !(old.type === "dir" && node.type === "dir")) this.#remove(e.path);
      this.nodes.set(e.path, node);
      fromThisLayer.add(e.path);
    }
    // opaque: what the layers below put in these directories goes; this layer's own entries stay
    for (const dir of opaque) {
      const prefix = dir === "" ? "" : `${dir}/`;
      for (const p of [...this.nodes.keys()]) {
        if (p !== dir && p.startsWith(prefix) && !fromThisLayer.has(p)) this.nodes.delete(p);
      }
    }
    return report;
  }

  /** Paths in an order where every directory comes before what it holds. */
  paths(): string[] {
    return [...this.nodes.keys()].sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0));
  }

  /** Makes the directories leading to `dir`; false if one of them is not a directory. */
  #ensureDir(dir: string, fromThisLayer: Set<string>): boolean {
    if (dir === "") return true;
    const n = this.nodes.get(dir);
    if (n) return n.type === "dir";
    const slash = dir.lastIndexOf("/");
    if (!this.#ensureDir(slash < 0 ? "" : dir.slice(0, slash), fromThisLayer)) return false;
    this.nodes.set(dir, { type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0, linkname: "", devmajor: 0, devminor: 0, data: new Uint8Array(0) });
    fromThisLayer.add(dir);
    return true;
  }

  #remove(path: string): void {
    this.nodes.delete(path);
    const prefix = `${path}/`;
    for (const p of [...this.nodes.keys()]) if (p.startsWith(prefix)) this.nodes.delete(p);
  }
}

function normalise(p: string): string {
  return p.split("/").filter((c) => c !== "" && c !== ".").join("/");
}
