import type { HostEntry, HostTree } from "./share-sync.js";

/**
 * Files the user dropped on the page (where the browser gives no folder
 * handle) as a share's tree: kept in memory, so the guest's changes live as
 * long as the page does. Files 0644, directories 0755.
 */
export class MemoryTree implements HostTree {
  readonly #nodes = new Map<string, HostEntry & { data?: Uint8Array }>();

  /** @param files paths relative to the share ("src/app.js"), their bytes and mtime (ms) */
  constructor(files: ReadonlyArray<{ path: string; data: Uint8Array; mtime?: number }> = []) {
    for (const f of files) {
      const parts = f.path.split("/").filter(Boolean);
      for (let i = 1; i < parts.length; i++) this.#dir(parts.slice(0, i).join("/"));
      this.#set(parts.join("/"), "file", 0o644, f.data, f.mtime);
    }
  }

  #dir(path: string, mode = 0o755): void {
    if (!this.#nodes.has(path)) this.#set(path, "dir", mode);
  }

  #set(path: string, type: HostEntry["type"], mode: number, data?: Uint8Array, mtime = Date.now(), target = ""): void {
    this.#nodes.set(path, { path, type, size: data?.length ?? 0, mtime, mode, uid: 0, gid: 0, target, ...(data ? { data } : {}) });
  }

  async list(): Promise<HostEntry[]> {
    return [...this.#nodes.values()].sort((a, b) => (a.path < b.path ? -1 : 1)).map(({ data: _, ...e }) => e);
  }

  async stat(path: string): Promise<HostEntry | undefined> {
    if (path === "") return { path, type: "dir", size: 0, mtime: 0, mode: 0o755, uid: 0, gid: 0, target: "" };
    const n = this.#nodes.get(path);
    if (!n) return undefined;
    const { data: _, ...e } = n;
    return e;
  }

  async read(path: string): Promise<Uint8Array> {
    return this.#nodes.get(path)?.data ?? new Uint8Array();
  }

  async writeFile(path: string, data: Uint8Array, mode: number): Promise<void> {
    this.#set(path, "file", mode, data.slice());
  }

  async mkdir(path: string, mode: number): Promise<void> {
    this.#set(path, "dir", mode);
  }

  async symlink(path: string, target: string): Promise<void> {
    this.#set(path, "symlink", 0o777, undefined, Date.now(), target);
  }

  async remove(path: string): Promise<void> {
    for (const k of [...this.#nodes.keys()]) if (k === path || k.startsWith(`${path}/`)) this.#nodes.delete(k);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const n = this.#nodes.get(path);
    if (n) n.mode = mode;
  }
}
