import { BerthError, ErrorCode } from "../../common/errors.js";
import { sha256Hex } from "../digest.js";

/**
 * Where a saved VM state lives between runs: IndexedDB in the browser
 * (idb-snapshot-store.ts), a directory in Node (src/node/dir-snapshot-store.ts).
 * A store holds opaque bytes; sealing and checking them is done here, once.
 */
export interface SnapshotStore {
  /** The bytes last put under `key`, or undefined when there are none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores `data` under `key`, replacing whatever the store held (one snapshot at a time). */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Removes the snapshot under `key`; no error if there is none. */
  delete(key: string): Promise<void>;
}

const MAGIC = "BERTHSNAP1";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** What identifies a snapshot's build: any change to these makes a saved state unusable. */
export async function snapshotKey(parts: { bzimage: ArrayBuffer; initrd: ArrayBuffer; emulator: string; memoryMB: number; cmdline: string; devices?: string }): Promise<string> {
  // the devices are part of the state: a VM with a NIC restores only into one with a NIC
  const h = [await sha256Hex(parts.bzimage), await sha256Hex(parts.initrd), parts.emulator, String(parts.memoryMB), parts.cmdline, ...(parts.devices ? [parts.devices] : [])].join("\n");
  return sha256Hex(enc.encode(h));
}

/** Header `BERTHSNAP1 <key> <sha256 of state>\n`, then the raw state. */
export async function sealSnapshot(key: string, state: ArrayBuffer): Promise<Uint8Array> {
  const header = enc.encode(`${MAGIC} ${key} ${await sha256Hex(state)}\n`);
  const out = new Uint8Array(header.length + state.byteLength);
  out.set(header);
  out.set(new Uint8Array(state), header.length);
  return out;
}

/** The state inside a sealed snapshot, or a `snapshot-invalid` error saying why not. */
export async function openSnapshot(key: string, data: Uint8Array): Promise<ArrayBuffer> {
  const nl = data.indexOf(10);
  const header = nl > 0 && nl < 200 ? dec.decode(data.subarray(0, nl)).split(" ") : [];
  if (header.length !== 3 || header[0] !== MAGIC) {
    throw new BerthError(ErrorCode.snapshotInvalid, "Cannot use the saved VM state: it is not a Berth snapshot");
  }
  if (header[1] !== key) {
    throw new BerthError(ErrorCode.snapshotInvalid, "Cannot use the saved VM state: it was made by another build");
  }
  // copy out: `data` may be a view into a larger buffer (a Node Buffer is)
  const state = new Uint8Array(data.byteLength - nl - 1);
  state.set(data.subarray(nl + 1));
  if ((await sha256Hex(state)) !== header[2]) {
    throw new BerthError(ErrorCode.snapshotInvalid, "Cannot use the saved VM state: its checksum does not match (truncated or corrupt)");
  }
  return state.buffer;
}
