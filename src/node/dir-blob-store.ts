import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, ErrorCode } from "../common/errors.js";
import { isSha256Digest } from "../common/oci-image.js";
import { verifyDigest, type BlobStore } from "../engine/store/blob-store.js";

/** Image blobs as files `sha256/<hex>` in a directory; written to a temp name, then renamed. */
export class DirBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.#path(digest)).then(() => true, () => false);
  }

  async put(digest: string, data: Uint8Array): Promise<void> {
    await verifyDigest(digest, data);
    const path = this.#path(digest);
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(join(this.#dir, "sha256"), { recursive: true });
      await writeFile(tmp, data);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT") throw new BerthError(ErrorCode.storageFull, `Cannot store blob ${digest.slice(0, 19)} in "${this.#dir}": the disk is full`);
      throw e;
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.#path(digest), { force: true });
  }

  async getMeta(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.#metaPath(key), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async setMeta(key: string, value: string): Promise<void> {
    const path = this.#metaPath(key);
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(join(this.#dir, "meta"), { recursive: true });
      await writeFile(tmp, value);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT") throw new BerthError(ErrorCode.storageFull, `Cannot store the record "${key}" in "${this.#dir}": the disk is full`);
      throw e;
    }
  }

  #metaPath(key: string): string {
    if (!/^[a-z0-9-]+$/.test(key)) throw new TypeError(`not a record name: ${JSON.stringify(key)}`);
    return join(this.#dir, "meta", `${key}.json`);
  }

  async list(): Promise<string[]> {
    const names = await readdir(join(this.#dir, "sha256")).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  #path(digest: string): string {
    if (!isSha256Digest(digest)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(digest)}`);
    return join(this.#dir, "sha256", digest.slice(7));
  }
}
