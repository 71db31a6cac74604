import { BerthError, ErrorCode } from "../../common/errors.js";
import { sha256Hex } from "../digest.js";
import type { GuestAssets } from "../engine.js";

interface Manifest {
  v86: string;
  files: Record<string, { size: number; sha256: string }>;
}

const FILES = ["bios.bin", "bzImage", "initramfs.cpio.gz", "v86.wasm"] as const;

async function fetchOk(url: string): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new BerthError(ErrorCode.vmAssetMissing, `Cannot download "${url}": the server cannot be reached`, { cause: e });
  }
  if (!r.ok) throw new BerthError(ErrorCode.vmAssetMissing, `Cannot download "${url}": the server answered ${r.status}`);
  return r;
}

/** Downloads the guest files named in `<base>/manifest.json`, checked against it, reporting bytes as they come. */
export async function fetchGuestAssets(base: string, onProgress?: (loaded: number, total: number) => void): Promise<GuestAssets> {
  const dir = base.endsWith("/") ? base : `${base}/`;
  const manifest = (await (await fetchOk(`${dir}manifest.json`)).json()) as Manifest;
  const total = FILES.reduce((n, f) => n + (manifest.files[f]?.size ?? 0), 0);
  let loaded = 0;
  const get = async (name: (typeof FILES)[number]): Promise<ArrayBuffer> => {
    const r = await fetchOk(`${dir}${name}`);
    const reader = r.body?.getReader();
    const parts: Uint8Array[] = [];
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        loaded += value.length; // decoded bytes: the manifest's sizes are too
        onProgress?.(loaded, total);
      }
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    if ((await sha256Hex(out.buffer)) !== manifest.files[name]?.sha256) {
      throw new BerthError(ErrorCode.vmBootFailed, `Cannot boot the guest: "${name}" does not match its manifest (corrupt, or from another build)`);
    }
    return out.buffer;
  };
  const [bios, bzimage, initrdGz, wasmBytes] = await Promise.all(FILES.map(get));
  return { bios: bios!, bzimage: bzimage!, initrdGz: initrdGz!, wasm: await WebAssembly.compile(wasmBytes!), emulator: `v86 ${manifest.v86}` };
}
