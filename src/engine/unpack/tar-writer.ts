import { concatBytes } from "../../common/bytes.js";

/**
 * A small ustar writer for `docker save`: regular files and directories with
 * names under 100 bytes (an image archive's are `blobs/sha256/<64 hex>` and a
 * few JSON files), mode 0644/0755, owner 0, a fixed time.
 */
export interface TarFile {
  name: string;
  data?: Uint8Array;
  dir?: boolean;
}

const enc = new TextEncoder();

function header(f: TarFile, mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number): void => h.set(enc.encode(s).subarray(0, len), off);
  const oct = (n: number, off: number, len: number): void => put(`${n.toString(8).padStart(len - 1, "0")}\0`, off, len);
  const name = f.dir && !f.name.endsWith("/") ? `${f.name}/` : f.name;
  if (enc.encode(name).length > 99) throw new TypeError(`tar name too long: ${name}`);
  put(name, 0, 100);
  oct(f.dir ? 0o755 : 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(f.dir ? 0 : f.data?.length ?? 0, 124, 12);
  oct(mtime, 136, 12);
  put("        ", 148, 8);
  put(f.dir ? "5" : "0", 156, 1);
  put("ustar\0" + "00", 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

export function writeTar(files: readonly TarFile[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    parts.push(header(f, mtime));
    if (!f.dir && f.data?.length) {
      parts.push(f.data);
      const pad = (512 - (f.data.length % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(1024));
  return concatBytes(parts);
}
