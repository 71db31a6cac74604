import { BerthError, ErrorCode } from "../../common/errors.js";

/**
 * A tar reader for image layers: ustar, POSIX PAX headers (long names, large
 * sizes, exact times) and GNU long names, from a whole (decompressed) layer or
 * from a stream of chunks.
 */
export const EntryType = {
  file: "file",
  hardlink: "hardlink",
  symlink: "symlink",
  char: "char",
  block: "block",
  dir: "dir",
  fifo: "fifo",
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface TarEntry {
  /** normalised: no leading "./" or "/", no trailing "/"; "" is the root */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  data: Uint8Array;
}

const TYPES: Record<string, EntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};

const dec = new TextDecoder();

function corrupt(what: string, why: string): BerthError {
  return new BerthError(ErrorCode.digestMismatch, `Cannot unpack ${what}: ${why}`);
}

function str(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return dec.decode(nul >= 0 ? s.subarray(0, nul) : s);
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function num(b: Uint8Array, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let n = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + b[off + i]!;
    return n;
  }
  const s = str(b, off, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

/** "path/./to/" -> "path/to"; leading "/" and "./" dropped. ".." is kept for the caller to judge. */
export function normalisePath(p: string): string {
  return p.split("/").filter((c) => c !== "" && c !== ".").join("/");
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(dec.decode(data.subarray(off, sp)), 10);
    if (!(len > 0) || off + len > data.length) break;
    const rec = dec.decode(data.subarray(sp + 1, off + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

/** The entries of a tar archive held whole, in order (they point into it). `what` names the layer in errors. */
export function* readTar(tar: Uint8Array, what = "a layer"): Generator<TarEntry> {
  const p = new TarParser(what);
  yield* p.push(tar);
  p.end();
}

/**
 * The same reader fed a stream in chunks of any size (a layer as it is
 * downloaded and decompressed): `push` answers the entries completed so far,
 * `end` fails if the archive stopped in the middle of one. Bytes are copied
 * only when an entry spans chunks.
 */
export class TarParser {
  readonly #what: string;
  #chunks: Uint8Array[] = [];
  #length = 0;
  #done = false;
  /** the header read, waiting for its data */
  #header: Uint8Array | undefined;
  #pax: Record<string, string> = {};
  #globalPax: Record<string, string> = {};
  #longName: string | undefined;
  #longLink: string | undefined;

  constructor(what = "a layer") {
    this.#what = what;
  }

  push(chunk: Uint8Array): TarEntry[] {
    const out: TarEntry[] = [];
    if (this.#done) return out;
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    for (;;) {
      if (!this.#header) {
        const h = this.#take(512);
        if (!h) break;
        if (h.every((b) => b === 0)) {
          this.#done = true; // end of archive
          this.#chunks = [];
          this.#length = 0;
          break;
        }
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
        if (sum !== num(h, 148, 8)) throw corrupt(this.#what, "a tar header's checksum is wrong");
        this.#header = h;
      }
      const h = this.#header;
      const fields = { ...this.#globalPax, ...this.#pax };
      const size = fields["size"] !== undefined ? Number(fields["size"]) : num(h, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0) throw corrupt(this.#what, "the archive is truncated");
      const block = this.#take(Math.ceil(size / 512) * 512);
      if (!block) break;
      this.#header = undefined;
      const data = block.subarray(0, size);
      const flag = String.fromCharCode(h[156]!);
      if (flag === "x") { this.#pax = parsePax(data); continue; }
      if (flag === "g") { this.#globalPax = { ...this.#globalPax, ...parsePax(data) }; continue; }
      if (flag === "L") { this.#longName = str(data, 0, data.length); continue; }
      if (flag === "K") { this.#longLink = str(data, 0, data.length); continue; }
      const type = TYPES[flag];
      const magic = str(h, 257, 6);
      const prefix = magic.startsWith("ustar") ? str(h, 345, 155) : "";
      const rawName = fields["path"] ?? this.#longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
      const linkname = fields["linkpath"] ?? this.#longLink ?? str(h, 157, 100);
      this.#pax = {};
      this.#longName = undefined;
      this.#longLink = undefined;
      if (!type) continue; // other kinds (sparse, volume labels): not in image layers
      out.push({
        path: normalisePath(rawName),
        type: rawName.endsWith("/") && type === "file" ? "dir" : type,
        mode: num(h, 100, 8) & 0o7777,
        uid: fields["uid"] !== undefined ? Number(fields["uid"]) : num(h, 108, 8),
        gid: fields["gid"] !== undefined ? Number(fields["gid"]) : num(h, 116, 8),
        mtime: fields["mtime"] !== undefined ? Math.floor(Number(fields["mtime"])) : num(h, 136, 12),
        linkname,
        devmajor: num(h, 329, 8),
        devminor: num(h, 337, 8),
        data: type === "file" ? data : new Uint8Array(0),
      });
    }
    return out;
  }

  /** The archive ended: an error if it stopped inside an entry. */
  end(): void {
    if (!this.#done && (this.#header || this.#length > 0)) throw corrupt(this.#what, "the archive is truncated");
  }

  /** `n` bytes in one piece, or undefined until that many have come. */
  #take(n: number): Uint8Array | undefined {
    if (this.#length < n) return undefined;
    this.#length -= n;
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first!.length >= n) {
      if (first!.length === n) this.#chunks.shift();
      else this.#chunks[0] = first!.subarray(n);
      return first!.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}
