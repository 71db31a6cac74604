import { BerthError, ErrorCode } from "../common/errors.js";

/**
 * A tar reader for image layers: ustar, POSIX PAX headers (long names, large
 * sizes, exact times) and GNU long names. Reads a whole (gunzipped) layer held
 * in memory; entries point into it without copying.
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

/** The entries of a tar archive, in order. `what` names the layer in errors. */
export function* readTar(tar: Uint8Array, what = "a layer"): Generator<TarEntry> {
  let off = 0;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) return; // end of archive
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== num(h, 148, 8)) throw corrupt(what, "a tar header's checksum is wrong");
    const flag = String.fromCharCode(h[156]!);
    const fields = { ...globalPax, ...pax };
    const size = fields["size"] !== undefined ? Number(fields["size"]) : num(h, 124, 12);
    const start = off + 512;
    const end = start + size;
    if (!Number.isSafeInteger(size) || size < 0 || end > tar.length) throw corrupt(what, "the archive is truncated");
    const data = tar.subarray(start, end);
    off = start + Math.ceil(size / 512) * 512;
    if (flag === "x") { pax = parsePax(data); continue; }
    if (flag === "g") { globalPax = { ...globalPax, ...parsePax(data) }; continue; }
    if (flag === "L") { longName = str(data, 0, data.length); continue; }
    if (flag === "K") { longLink = str(data, 0, data.length); continue; }
    const type = TYPES[flag];
    const magic = str(h, 257, 6);
    const prefix = magic.startsWith("ustar") ? str(h, 345, 155) : "";
    const rawName = fields["path"] ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    const linkname = fields["linkpath"] ?? longLink ?? str(h, 157, 100);
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (!type) continue; // other kinds (sparse, volume labels): not in image layers
    yield {
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
    };
  }
  if (off < tar.length) throw corrupt(what, "the archive is truncated");
}
