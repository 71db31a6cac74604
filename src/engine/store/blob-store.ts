import { BerthError, ErrorCode } from "../../common/errors.js";
import { isSha256Digest } from "../../common/oci-image.js";
import { sha256Hex } from "../digest.js";

/**
 * Content-addressed storage for image blobs (layers, configs, manifests): one
 * interface with an IndexedDB implementation (idb-blob-store.ts) and a
 * directory one (src/node/dir-blob-store.ts), both run through one conformance
 * suite (test/helpers/blob-store-suite.ts). A blob becomes visible only after
 * its bytes matched its digest: a partial or tampered write never does.
 */
export interface BlobStore {
  /** The blob's bytes, or undefined when it is not stored. */
  get(digest: string): Promise<Uint8Array | undefined>;
  has(digest: string): Promise<boolean>;
  /**
   * Stores `data` under `digest` after checking they match: `digest-mismatch`
   * if not, `storage-full` when the quota or disk is used up; either way
   * nothing is stored and what was stored before is intact.
   */
  put(digest: string, data: Uint8Array): Promise<void>;
  /** Removes a blob; no error if it is not there. */
  delete(digest: string): Promise<void>;
  /** Every stored digest. */
  list(): Promise<string[]>;
  /** A small named record beside the blobs (the image index), or undefined. */
  getMeta(key: string): Promise<string | undefined>;
  /** Replaces a named record at once (never half-written); `storage-full` as for put. */
  setMeta(key: string, value: string): Promise<void>;
}

export async function verifyDigest(digest: string, data: Uint8Array): Promise<void> {
  if (!isSha256Digest(digest)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(digest)}`);
  if (`sha256:${await sha256Hex(data)}` !== digest) {
    throw new BerthError(ErrorCode.digestMismatch, `Cannot store blob ${digest.slice(0, 19)}: its bytes do not match its digest`);
  }
}

/** Garbage collection: deletes every blob not in `keep`; answers how many went. */
export async function collectGarbage(store: BlobStore, keep: ReadonlySet<string>): Promise<number> {
  let n = 0;
  for (const d of await store.list()) {
    if (!keep.has(d)) {
      await store.delete(d);
      n++;
    }
  }
  return n;
}
