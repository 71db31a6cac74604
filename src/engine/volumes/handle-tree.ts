import type { HostEntry, HostTree } from "./share-sync.js";

/** The parts of the File System Access API used here (Chromium's FileSystemDirectoryHandle, in a Worker too). */
interface DirHandle {
  kind: "directory";
  name: string;
  values(): AsyncIterable<DirHandle | FileHandle>;
  getDirectoryHandle(name: string, o?: { create?: boolean }): Promise<DirHandle>;
  getFileHandle(name: string, o?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string, o?: { recursive?: boolean }): Promise<void>;
}
interface FileHandle {
  kind: "file";
  name: string;
  getFile(): Promise<File>;
  createWritable(): Promise<{ write(data: Uint8Array): Promise<void>; close(): Promise<void> }>;
}

/**
 * A folder the user picked in the page (File System Access API) as a share's
 * tree: files and directories (the API has no symlinks, owners or modes:
 * files are 0644 and directories 0755, owned by root in the guest).
 */
export class HandleTree implements HostTree {
  readonly #root: DirHandle;

  constructor(root: unknown) {
    this.#root = root as DirHandle;
  }

  async list(): Promise<HostEntry[]> {
    const out: HostEntry[] = [];
    const walk = async (dir: DirHandle, prefix: string): Promise<void> => {
      const children: Array<DirHandle | FileHandle> = [];
      for await (const h of dir.values()) children.push(h);
      children.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const h of children) {
        const path = prefix + h.name;
        out.push(await entry(h, path));
        if (h.kind === "directory") await walk(h, `${path}/`);
      }
    };
    await walk(this.#root, "");
    return out;
  }

  async stat(path: string): Promise<HostEntry | undefined> {
    if (path === "") return { path, type: "dir", size: 0, mtime: 0, mode: 0o755, uid: 0, gid: 0, target: "" };
    const h = await this.#find(path).catch(() => undefined);
    return h ? entry(h, path) : undefined;
  }

  async read(path: string): Promise<Uint8Array> {
    const h = await this.#find(path);
    if (h.kind !== "file") throw new TypeError(`${path} is a directory`);
    return new Uint8Array(await (await h.getFile()).arrayBuffer());
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const { dir, name } = await this.#parent(path);
    const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
    await w.write(data);
    await w.close();
  }

  async mkdir(path: string): Promise<void> {
    const { dir, name } = await this.#parent(path);
    await dir.getDirectoryHandle(name, { create: true });
  }

  async symlink(path: string, target: string): Promise<void> {
    // a picked folder cannot hold a symlink: its target's path, as text, stands in for it
    await this.writeFile(path, new TextEncoder().encode(target));
  }

  async remove(path: string): Promise<void> {
    const { dir, name } = await this.#parent(path);
    await dir.removeEntry(name, { recursive: true }).catch(() => {});
  }

  async chmod(): Promise<void> {
    // the API has no modes
  }

  async #parent(path: string): Promise<{ dir: DirHandle; name: string }> {
    const parts = path.split("/");
    const name = parts.pop()!;
    let dir = this.#root;
    for (const p of parts) dir = await dir.getDirectoryHandle(p);
    return { dir, name };
  }

  async #find(path: string): Promise<DirHandle | FileHandle> {
    const { dir, name } = await this.#parent(path);
    return dir.getFileHandle(name).catch(() => dir.getDirectoryHandle(name));
  }
}

async function entry(h: DirHandle | FileHandle, path: string): Promise<HostEntry> {
  if (h.kind === "directory") return { path, type: "dir", size: 0, mtime: 0, mode: 0o755, uid: 0, gid: 0, target: "" };
  const f = await h.getFile();
  return { path, type: "file", size: f.size, mtime: f.lastModified, mode: 0o644, uid: 0, gid: 0, target: "" };
}
