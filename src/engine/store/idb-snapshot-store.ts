// The one file that imports idb-keyval.
import { createStore, del, get, type UseStore } from "idb-keyval";
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
      // one transaction: a page that goes mid-way keeps the last snapshot, never none
      await this.#store("readwrite", (s) => {
        s.clear();
        s.put(data, key);
        return promisify(s.transaction);
      });
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

/** Resolves when the transaction commits, rejects with its error when it fails or aborts. */
function promisify(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new DOMException("the transaction was aborted", "AbortError"));
  });
}
