import { BerthError, ErrorCode } from "../../common/errors.js";
import { sha256Hex } from "../digest.js";
import type { BlobStore } from "./blob-store.js";
import { openSnapshot, sealSnapshot } from "./snapshot-store.js";

/**
 * A saved session: a running VM's state with what the engine kept of it at
 * the same instant (the daemon's containers, networks, layers, the channel's
 * ids), so that a reload goes on with containers still `Up`. It lives in a
 * SnapshotStore of its own, sealed as snapshots are (snapshot-store.ts), under
 * a key derived from the boot snapshot's: a changed guest, emulator or memory
 * size never restores a foreign state.
 */
export interface SessionRecord<T> {
  version: 1;
  /** the token written to the state store when the session was saved (see SessionGuard) */
  token: string;
  /** ms since the epoch */
  savedAt: number;
  engine: T;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The key a session is kept under: the snapshot key of the same build, marked. */
export function sessionKey(snapshotKey: string): Promise<string> {
  return sha256Hex(enc.encode(`session\n${snapshotKey}`));
}

/** `record` and `state` as one sealed blob: a u32 (little-endian) length, the record's JSON, the state. */
export async function sealSession<T>(key: string, record: SessionRecord<T>, state: ArrayBuffer): Promise<Uint8Array> {
  const json = enc.encode(JSON.stringify(record));
  const body = new Uint8Array(4 + json.length + state.byteLength);
  new DataView(body.buffer).setUint32(0, json.length, true);
  body.set(json, 4);
  body.set(new Uint8Array(state), 4 + json.length);
  return sealSnapshot(key, body.buffer);
}

/**
 * The record and VM state of a sealed session.
 * @throws BerthError snapshot-invalid: not a session of this build, truncated or corrupt
 */
export async function openSession<T>(key: string, data: Uint8Array): Promise<{ record: SessionRecord<T>; state: ArrayBuffer }> {
  const body = new Uint8Array(await openSnapshot(key, data));
  const n = body.length >= 4 ? new DataView(body.buffer, body.byteOffset).getUint32(0, true) : -1;
  let record: SessionRecord<T> | undefined;
  try {
    record = n >= 0 && 4 + n <= body.length ? (JSON.parse(dec.decode(body.subarray(4, 4 + n))) as SessionRecord<T>) : undefined;
  } catch {
    record = undefined;
  }
  if (record?.version !== 1 || typeof record.token !== "string") throw new BerthError(ErrorCode.snapshotInvalid, "Cannot use the saved session: its record is not readable");
  return { record, state: body.slice(4 + n).buffer };
}

/** The state store's record naming the session its contents belong to. */
const TOKEN = "session";

/**
 * The daemon's state store, watched for a saved session: a session is only
 * good while the state store still holds what it held when the session was
 * saved (containers, networks, volumes' data). `arm(token)` writes the token;
 * the first write after it clears the token first, so a session restored
 * later finds it gone and is not used (the daemon's own restore is).
 */
export class SessionGuard implements BlobStore {
  readonly #inner: BlobStore;
  #armed = false;
  #clearing: Promise<void> | undefined;

  constructor(inner: BlobStore) {
    this.#inner = inner;
  }

  /**
   * Marks the store's contents as those of the session saved with `token`.
   * @throws BerthError storage-full
   */
  async arm(token: string): Promise<void> {
    await this.#inner.setMeta(TOKEN, token);
    this.#armed = true;
  }

  /** Whether the store still holds what the session saved with `token` saw. */
  async holds(token: string): Promise<boolean> {
    return (await this.#inner.getMeta(TOKEN).catch(() => undefined)) === token;
  }

  /** Any session token goes (a session restored once is used up). */
  async disarm(): Promise<void> {
    this.#armed = false;
    await this.#inner.setMeta(TOKEN, "");
  }

  /** Before any write: the token goes first (every write waits for that). */
  async #changing(): Promise<void> {
    if (this.#armed) {
      this.#armed = false;
      this.#clearing = this.#inner.setMeta(TOKEN, "").catch((e: unknown) => {
        this.#armed = true;
        this.#clearing = undefined;
        throw e;
      });
    }
    await this.#clearing;
  }

  get(digest: string): Promise<Uint8Array | undefined> {
    return this.#inner.get(digest);
  }
  has(digest: string): Promise<boolean> {
    return this.#inner.has(digest);
  }
  async put(digest: string, data: Uint8Array): Promise<void> {
    await this.#changing();
    await this.#inner.put(digest, data);
  }
  async delete(digest: string): Promise<void> {
    await this.#changing();
    await this.#inner.delete(digest);
  }
  list(): Promise<string[]> {
    return this.#inner.list();
  }
  getMeta(key: string): Promise<string | undefined> {
    return this.#inner.getMeta(key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.#changing();
    await this.#inner.setMeta(key, value);
  }
}
