import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, ErrorCode } from "../common/errors.js";
import type { SnapshotStore } from "../engine/store/snapshot-store.js";

/** Snapshots as files `<key>.snap` in one directory; a put removes the others. */
export class DirSnapshotStore implements SnapshotStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${this.#path(key)}.${process.pid}.tmp`;
    try {
      // write then rename: a crash mid-write leaves no half snapshot under the real name
      await writeFile(tmp, data);
      await rename(tmp, this.#path(key));
    } catch (e) {
      await rm(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT") {
        throw new BerthError(ErrorCode.storageFull, `Cannot save the VM state in "${this.#dir}": the disk is full`);
      }
      throw e;
    }
    for (const f of await readdir(this.#dir)) {
      if (f.endsWith(".snap") && f !== `${key}.snap`) await rm(join(this.#dir, f), { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  #path(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new TypeError(`snapshot key must be a sha256 hex digest, got ${JSON.stringify(key)}`);
    return join(this.#dir, `${key}.snap`);
  }
}
