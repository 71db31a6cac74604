import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { HostEntry, HostTree } from "../engine/volumes/share-sync.js";

/**
 * A host directory as a share's tree (`berth --share DIR`): Node's file
 * system calls; files are written to a temporary name and renamed over, so a
 * reader never sees half a file.
 */
export class DirHostTree implements HostTree {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async list(): Promise<HostEntry[]> {
    const out: HostEntry[] = [];
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(join(this.#root, rel))).sort();
      for (const name of names) {
        const p = rel ? `${rel}/${name}` : name;
        const e = await this.stat(p);
        if (!e) continue;
        out.push(e);
        if (e.type === "dir") await walk(p);
      }
    };
    await walk("");
    return out;
  }

  async stat(path: string): Promise<HostEntry | undefined> {
    const full = join(this.#root, path);
    const st = await lstat(full).catch(() => undefined);
    if (!st) return undefined;
    const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : undefined;
    if (!type) return undefined;
    return { path, type, size: type === "file" ? st.size : 0, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, target: type === "symlink" ? await readlink(full) : "" };
  }

  async read(path: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(join(this.#root, path)));
  }

  async writeFile(path: string, data: Uint8Array, mode: number): Promise<void> {
    const full = join(this.#root, path);
    const tmp = `${full}.berth-${process.pid}`;
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode);
    await rename(tmp, full);
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await mkdir(join(this.#root, path), { mode });
    await chmod(join(this.#root, path), mode);
  }

  async symlink(path: string, target: string): Promise<void> {
    await symlink(target, join(this.#root, path));
  }

  async remove(path: string): Promise<void> {
    await rm(join(this.#root, path), { recursive: true, force: true });
  }

  async chmod(path: string, mode: number): Promise<void> {
    await chmod(join(this.#root, path), mode);
  }
}
