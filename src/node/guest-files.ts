import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError, ErrorCode } from "../common/errors.js";
import type { GuestAssets } from "../engine/engine.js";

/** The package root: dist/src/node/ -> ../../.. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** build/guest/, written by scripts/build-guest.sh: the kernel, initramfs, BIOS and a manifest. */
export const guestDir = process.env["BERTH_GUEST_DIR"] ?? join(packageRoot, "build", "guest");

export interface GuestManifest {
  v86: string;
  files: Record<string, { size: number; sha256: string }>;
}

async function read(path: string): Promise<ArrayBuffer> {
  try {
    const b = await readFile(path);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new BerthError(ErrorCode.vmAssetMissing, `Cannot find the guest file "${path}": run "npm run build" first`);
    }
    throw e;
  }
}

let wasmModule: Promise<WebAssembly.Module> | undefined;

export async function loadGuestAssets(overrides: { bzimage?: string; initrd?: string } = {}): Promise<GuestAssets> {
  const manifest = JSON.parse(Buffer.from(await read(join(guestDir, "manifest.json"))).toString()) as GuestManifest;
  wasmModule ??= read(join(guestDir, "v86.wasm")).then((b) => WebAssembly.compile(b));
  const [bios, bzimage, initrdGz, wasm] = await Promise.all([
    read(join(guestDir, "bios.bin")),
    read(overrides.bzimage ?? join(guestDir, "bzImage")),
    read(overrides.initrd ?? join(guestDir, "initramfs.cpio.gz")),
    wasmModule,
  ]);
  return { bios, bzimage, initrdGz, wasm, emulator: `v86 ${manifest.v86}` };
}
