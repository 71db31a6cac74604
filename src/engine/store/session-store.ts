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
  /** SessionGuard.fingerprint of the state store's records when the session was saved */
  fingerprint: string;
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

/**
 * `record`, `blobs` (bytes the record refers to by index: the containers'
 * logs) and `state` as one sealed blob: the record's JSON, the number of
 * blobs, each blob, each after its u32 (little-endian) length; then the state.
 */
export async function sealSession<T>(key: string, record: SessionRecord<T>, state: ArrayBuffer, blobs: readonly Uint8Array[] = []): Promise<Uint8Array> {
  const json = enc.encode(JSON.stringify(record));
  const size = 4 + json.length + 4 + blobs.reduce((n, b) => n + 4 + b.length, 0);
  const body = new Uint8Array(size + state.byteLength);
  const v = new DataView(body.buffer);
  v.setUint32(0, json.length, true);
  body.set(json, 4);
  let at = 4 + json.length;
  v.setUint32(at, blobs.length, true);
  at += 4;
  for (const b of blobs) {
    v.setUint32(at, b.length, true);
    body.set(b, at + 4);
    at += 4 + b.length;
  }
  body.set(new Uint8Array(state), at);
  return sealSnapshot(key, body.buffer);
}

/**
 * The record and VM state of a sealed session.
 * @throws BerthError snapshot-invalid: not a session of this build, truncated or corrupt
 */
export async function openSession<T>(key: string, data: Uint8Array): Promise<{ record: SessionRecord<T>; state: ArrayBuffer; blobs: Uint8Array[] }> {
  const body = new Uint8Array(await openSnapshot(key, data));
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const unreadable = (): BerthError => new BerthError(ErrorCode.snapshotInvalid, "Cannot use the saved session: its record is not readable");
  const u32 = (at: number): number => {
    if (at + 4 > body.length) throw unreadable();
    return v.getUint32(at, true);
  };
  const n = u32(0);
  let record: SessionRecord<T> | undefined;
  try {
    record = 4 + n <= body.length ? (JSON.parse(dec.decode(body.subarray(4, 4 + n))) as SessionRecord<T>) : undefined;
  } catch {
    record = undefined;
  }
  if (record?.version !== 1 || typeof record.fingerprint !== "string") throw unreadable();
  let at = 4 + n;
  const count = u32(at);
  at += 4;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = u32(at);
    if (at + 4 + len > body.length) throw unreadable();
    blobs.push(body.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { record, state: body.slice(at).buffer, blobs };
}

/** The state store's records a saved session depends on: the containers (with their kept blobs) and the volumes (with their content). */
const WATCHED = ["containers", "volumes"];

/**
 * The daemon's state store, watched for a saved session. A session is only
 * good while the state store still holds what it held when the session was
 * saved: its records of containers and volumes (which name every blob the
 * daemon keeps) are fingerprinted when the session is saved, and again before
 * one is restored. Nothing is written for it, so a save cut short by the page
 * going leaves the last good session good.
 */
export class SessionGuard implements BlobStore {
  readonly #inner: BlobStore;
  /** the watched records as last read or written */
  readonly #meta = new Map<string, string>();
  /** called after every write (the session saved before it is stale now) */
  onChange: (() => void) | undefined;

  constructor(inner: BlobStore) {
    this.#inner = inner;
  }

  /** Reads the watched records once, before the first fingerprint. */
  async load(): Promise<void> {
    for (const k of WATCHED) this.#meta.set(k, (await this.#inner.getMeta(k).catch(() => undefined)) ?? "");
  }

  /** The watched records now (taken at once, in the caller's turn), to be hashed by fingerprint(). */
  records(): string[] {
    return WATCHED.map((k) => this.#meta.get(k) ?? "");
  }

  /** The SHA-256 (hex) of records(). */
  static async fingerprint(records: readonly string[]): Promise<string> {
    return sha256Hex(enc.encode(JSON.stringify(records)));
  }

  get(digest: string): Promise<Uint8Array | undefined> {
    return this.#inner.get(digest);
  }
  has(digest: string): Promise<boolean> {
    return this.#inner.has(digest);
  }
  async put(digest: string, data: Uint8Array): Promise<void> {
    await this.#inner.put(digest, data);
    this.onChange?.();
  }
  async delete(digest: string): Promise<void> {
    await this.#inner.delete(digest);
    this.onChange?.();
  }
  list(): Promise<string[]> {
    return this.#inner.list();
  }
  getMeta(key: string): Promise<string | undefined> {
    return this.#inner.getMeta(key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    // an unchanged record is not written again: nothing moved on
    if (WATCHED.includes(key) && this.#meta.get(key) === value) return;
    await this.#inner.setMeta(key, value);
    if (WATCHED.includes(key)) this.#meta.set(key, value);
    this.onChange?.();
  }
}
