import type { NodeAttrs, ShareEntry, ShareFiles } from "../../src/engine/vm/vm-host.js";

type Kind = "dir" | "file" | "symlink" | "char" | "block" | "fifo";

export interface FakeNode extends NodeAttrs {
  id: number;
  type: Kind;
  children: Map<string, FakeNode>;
  data: Uint8Array;
  linkname: string;
  major: number;
  minor: number;
}

/** An in-memory stand-in for the guest's 9p share (unit tests), with an overlayfs-style merge to read layers back. */
export class FakeShare implements ShareFiles {
  readonly nodes: FakeNode[] = [];
  readonly written = new Set<number>();
  readonly root: FakeNode;

  constructor() {
    this.root = this.#make("dir", { mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  }

  #make(type: Kind, a: NodeAttrs, extra: Partial<FakeNode> = {}): FakeNode {
    const n: FakeNode = { id: this.nodes.length, type, ...a, children: new Map(), data: new Uint8Array(0), linkname: "", major: 0, minor: 0, ...extra };
    this.nodes.push(n);
    return n;
  }

  #add(parent: number, name: string, n: FakeNode): number {
    const p = this.nodes[parent]!;
    if (p.children.has(name)) throw new Error(`exists: ${name}`);
    p.children.set(name, n);
    return n.id;
  }

  lookup(path: string): FakeNode | undefined {
    let n: FakeNode | undefined = this.root;
    for (const c of path.split("/").filter(Boolean)) n = n?.children.get(c);
    return n;
  }

  dir(path: string): number {
    let n = this.root;
    for (const c of path.split("/").filter(Boolean)) {
      let next = n.children.get(c);
      if (!next) {
        next = this.#make("dir", { mode: 0o755, uid: 0, gid: 0, mtime: 0 });
        n.children.set(c, next);
      }
      n = next;
    }
    return n.id;
  }

  mkdir(parent: number, name: string, a: NodeAttrs): number {
    return this.#add(parent, name, this.#make("dir", a));
  }

  async file(parent: number, name: string, data: Uint8Array, a: NodeAttrs): Promise<number> {
    return this.#add(parent, name, this.#make("file", a, { data: data.slice() }));
  }

  symlink(parent: number, name: string, target: string, a: NodeAttrs): number {
    return this.#add(parent, name, this.#make("symlink", a, { linkname: target }));
  }

  node(parent: number, name: string, kind: "char" | "block" | "fifo", major: number, minor: number, a: NodeAttrs): number {
    return this.#add(parent, name, this.#make(kind, a, { major, minor }));
  }

  hardlink(parent: number, name: string, target: number): void {
    this.nodes[parent]!.children.set(name, this.nodes[target]!);
  }

  setAttrs(id: number, _type: Kind, a: NodeAttrs): void {
    Object.assign(this.nodes[id]!, a);
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const n = this.lookup(path);
    return n?.type === "file" ? n.data : undefined;
  }

  walk(path: string): ShareEntry[] {
    const top = this.lookup(path);
    const out: ShareEntry[] = [];
    const visit = (n: FakeNode, prefix: string): void => {
      for (const name of [...n.children.keys()].sort()) {
        const c = n.children.get(name)!;
        out.push(this.#entry(c, prefix + name));
        if (c.type === "dir") visit(c, `${prefix}${name}/`);
      }
    };
    if (top?.type === "dir") visit(top, "");
    return out;
  }

  stat(path: string): ShareEntry | undefined {
    const n = this.lookup(path);
    return n ? this.#entry(n, "") : undefined;
  }

  async readId(id: number): Promise<Uint8Array> {
    return this.nodes[id]!.data;
  }

  #entry(n: FakeNode, path: string): ShareEntry {
    let links = 0;
    for (const m of this.nodes) for (const c of m.children.values()) if (c === n) links++;
    return { path, id: n.id, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime, size: n.data.length, target: n.linkname, major: n.major, minor: n.minor, nlinks: Math.max(links, 1) };
  }

  remove(path: string): void {
    const parts = path.split("/").filter(Boolean);
    const name = parts.pop()!;
    this.lookup(parts.join("/"))?.children.delete(name);
  }

  /**
   * What overlayfs shows for lower directories `dirs` (top first): a 0:0
   * character device hides a name, a non-directory hides what is below it,
   * directories merge. path -> node.
   */
  merged(dirs: readonly string[]): Map<string, FakeNode> {
    const out = new Map<string, FakeNode>();
    const walk = (layers: FakeNode[], prefix: string): void => {
      const seen = new Set<string>();
      for (const [i, layer] of layers.entries()) {
        for (const [name, n] of layer.children) {
          if (seen.has(name)) continue;
          seen.add(name);
          if (n.type === "char" && n.major === 0 && n.minor === 0) continue;
          const path = prefix + name;
          out.set(path, n);
          if (n.type !== "dir") continue;
          const below: FakeNode[] = [n];
          for (const lower of layers.slice(i + 1)) {
            const m = lower.children.get(name);
            if (!m) continue;
            if (m.type !== "dir") break;
            below.push(m);
          }
          walk(below, `${path}/`);
        }
      }
    };
    walk(dirs.map((d) => this.lookup(d.replace(/^\/mnt\/host/, ""))!), "");
    return out;
  }
}
