/**
 * Frames between the engine and the guest agent (rootfs/agent/protocol.h is
 * the C twin: keep both in step).
 *
 *   'B' 'T' | type u8 | flags u8 | id u32 | len u32 | payload | crc32 u32
 *
 * Little endian; the CRC covers everything before it. A reader that meets a
 * bad magic, an oversized length or a wrong CRC drops one byte and rescans, so
 * a truncated or corrupt frame costs only itself.
 */
export const Msg = {
  hello: 0x01,
  exec: 0x02,
  stdin: 0x03,
  signal: 0x04,
  setTime: 0x05,
  writeFile: 0x06,
  mountOverlay: 0x07,
  containerCreate: 0x08,
  containerStart: 0x09,
  containerKill: 0x0a,
  containerDelete: 0x0b,
  resize: 0x0c,
  cliStart: 0x10,
  cliStdin: 0x11,
  cliClose: 0x12,
  cliSignal: 0x13,
  ready: 0x81,
  stdout: 0x82,
  stderr: 0x83,
  exit: 0x84,
  error: 0x85,
  ok: 0x86,
  ack: 0x87,
  cliStdout: 0x88,
  cliStderr: 0x89,
  cliExit: 0x8a,
  cliRaw: 0x8b,
  cliSigProxy: 0x8c,
} as const;
export type Msg = (typeof Msg)[keyof typeof Msg];

export const ExecFlag = { stdin: 0x01, tty: 0x02 } as const;

export const HEADER = 12;
export const TRAILER = 4;
export const MAX_PAYLOAD = 1 << 20;
export const AGENT_VERSION = "berth-agent 1";

export interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Uint8Array;
}

const table = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(p: Uint8Array, start = 0, end = p.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeFrame(f: { type: number; id: number; flags?: number; payload?: Uint8Array }): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  if (payload.length > MAX_PAYLOAD) throw new TypeError(`frame payload of ${payload.length} bytes is over ${MAX_PAYLOAD}`);
  const out = new Uint8Array(HEADER + payload.length + TRAILER);
  const v = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x54;
  out[2] = f.type;
  out[3] = f.flags ?? 0;
  v.setUint32(4, f.id >>> 0, true);
  v.setUint32(8, payload.length, true);
  out.set(payload, HEADER);
  v.setUint32(HEADER + payload.length, crc32(out, 0, HEADER + payload.length), true);
  return out;
}

/** Incremental reader: push bytes in any pieces, get whole valid frames out. */
export class FrameDecoder {
  #buf = new Uint8Array(4096);
  #len = 0;
  /** bytes skipped while resynchronising, for diagnostics */
  skipped = 0;

  push(chunk: Uint8Array): Frame[] {
    if (this.#len + chunk.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + chunk.length));
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    const frames: Frame[] = [];
    const b = this.#buf;
    const v = new DataView(b.buffer, b.byteOffset);
    let off = 0;
    while (this.#len - off >= HEADER + TRAILER) {
      const n = v.getUint32(off + 8, true);
      if (b[off] !== 0x42 || b[off + 1] !== 0x54 || n > MAX_PAYLOAD) {
        off++;
        this.skipped++;
        continue;
      }
      if (this.#len - off < HEADER + n + TRAILER) break;
      if (crc32(b, off, off + HEADER + n) !== v.getUint32(off + HEADER + n, true)) {
        off++;
        this.skipped++;
        continue;
      }
      frames.push({ type: b[off + 2]!, flags: b[off + 3]!, id: v.getUint32(off + 4, true), payload: b.slice(off + HEADER, off + HEADER + n) });
      off += HEADER + n + TRAILER;
    }
    b.copyWithin(0, off, this.#len);
    this.#len -= off;
    return frames;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A list of (u32 length, bytes) strings: the payload of most requests. */
export function encodeStrings(items: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = items.map((s) => (typeof s === "string" ? enc.encode(s) : s));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const v = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    v.setUint32(off, p.length, true);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

export function decodeStrings(p: Uint8Array): string[] | undefined {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const out: string[] = [];
  let off = 0;
  while (off < p.length) {
    if (p.length - off < 4) return undefined;
    const n = v.getUint32(off, true);
    if (n > p.length - off - 4) return undefined;
    out.push(dec.decode(p.subarray(off + 4, off + 4 + n)));
    off += 4 + n;
  }
  return out;
}

export interface ExecRequest {
  argv: readonly string[];
  env?: readonly string[];
  cwd?: string;
}

export function encodeExec(r: ExecRequest): Uint8Array {
  const env = r.env ?? [];
  return encodeStrings([String(r.argv.length), String(env.length), ...r.argv, ...env, r.cwd ?? "/"]);
}

/** What a `docker` command in the guest sends: see BT_CLI_START in protocol.h. */
export interface CliStart {
  argv: string[];
  env: string[];
  cwd: string;
  tty: boolean;
  rows: number;
  cols: number;
}

export function decodeCliStart(p: Uint8Array): CliStart | undefined {
  const s = decodeStrings(p);
  if (!s || s.length < 6) return undefined;
  const argc = Number(s[0]);
  const envc = Number(s[1]);
  if (!Number.isInteger(argc) || !Number.isInteger(envc) || argc < 0 || envc < 0 || s.length !== argc + envc + 6) return undefined;
  const rest = s.slice(2 + argc + envc);
  return { argv: s.slice(2, 2 + argc), env: s.slice(2 + argc, 2 + argc + envc), cwd: rest[0]!, tty: rest[1] === "1", rows: Number(rest[2]), cols: Number(rest[3]) };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

export function readU32(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true);
}

export function readI32(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getInt32(0, true);
}

export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, n % 2 ** 32, true);
  v.setUint32(4, Math.floor(n / 2 ** 32), true);
  return b;
}

export function text(p: Uint8Array): string {
  return dec.decode(p);
}
