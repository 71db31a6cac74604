// The blob store conformance suite, against the IndexedDB implementation.
import { IdbBlobStore } from "../../src/engine/store/idb-blob-store.js";
import { blobStoreSuite } from "../helpers/blob-store-suite.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

let n = 0;
describe("IndexedDB blob store", () => {
  blobStoreSuite("IndexedDB store", async () => new IdbBlobStore(`berth-blobs-test-${Date.now()}-${n++}`), {
    test: (name, f) => it(name, f),
    equal: (a, b, msg) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${msg ?? "not equal"}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
    },
    rejects: async (p, code) => {
      try {
        await p;
      } catch (e) {
        if ((e as { code?: string }).code === code) return;
        throw new Error(`expected ${code}, got ${String(e)}`);
      }
      throw new Error(`expected ${code}, but it resolved`);
    },
  });
});
