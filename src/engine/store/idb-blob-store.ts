import { createStore, del, get, keys, set, type UseStore } from "idb-keyval";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { verifyDigest, type BlobStore } from "./blob-store.js";

/** Image blobs in their own IndexedDB database (one record per blob, written in one transaction). */
export class IdbBlobStore implements BlobStore {
  readonly #store: UseStore;
  /** idb-keyval keeps one object store per database: the records have a database of their own */
  readonly #meta: UseStore;

  constructor(dbName = "berth-blobs") {
    this.#store = createStore(dbName, "blobs");
    this.#meta = createStore(`${dbName}-meta`, "meta");
  }

  async getMeta(key: string): Promise<string | undefined> {
    const v: unknown = await get(key, this.#meta);
    return typeof v === "string" ? v : undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    try {
      await set(key, value, this.#meta);
    } catch (e) {
      if (e instanceof DOMException && e.name === "QuotaExceededError") {
        throw new BerthError(ErrorCode.storageFull, `Cannot store the record "${key}": the browser's storage quota is used up`);
      }
      throw e;
    }
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    const v: unknown = await get(digest, this.#store);
    return v instanceof Uint8Array ? v : undefined;
  }

  async has(digest: string): Promise<boolean> {
    return (await get(digest, this.#store)) !== undefined;
  }

  async put(digest: string, data: Uint8Array): Promise<void> {
    await verifyDigest(digest, data);
    try {
      await set(digest, data, this.#store);
    } catch (e) {
      if (e instanceof DOMException && e.name === "QuotaExceededError") {
        throw new BerthError(ErrorCode.storageFull, `Cannot store blob ${digest.slice(0, 19)}: the browser's storage quota is used up`);
      }
      throw e;
    }
  }

  async delete(digest: string): Promise<void> {
    await del(digest, this.#store);
  }

  async list(): Promise<string[]> {
    return (await keys(this.#store)).map(String);
  }
}
