// The one file that imports idb-keyval.
import { createStore, del, get, set, clear, type UseStore } from "idb-keyval";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** Snapshots in their own IndexedDB database; one at a time. */
export class IdbSnapshotStore implements SnapshotStore {
  readonly #store: UseStore;

  constructor(dbName = "berth-snapshots") {
    this.#store = createStore(dbName, "snapshots");
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v: unknown = await get(key, this.#store);
    return v instanceof Uint8Array ? v : undefined;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await clear(this.#store);
      await set(key, data, this.#store);
    } catch (e) {
      if (e instanceof DOMException && e.name === "QuotaExceededError") {
        throw new BerthError(ErrorCode.storageFull, "Cannot save the VM state: the browser's storage quota is used up");
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await del(key, this.#store);
  }
}
