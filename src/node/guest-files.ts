import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError, ErrorCode } from "../common/errors.js";
import type { GuestAssets } from "../engine/engine.js";

/** The package root: the nearest directory above this module with a package.json (from dist/src/node/ or the dist/node/ bundle). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) return join(dir, "..", "..", "..");
  }
}

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

/**
 * Reads the guest files of `dir` (default build/guest/) and checks each against
 * the manifest, so a corrupt or half-copied file fails here, clearly, instead of
 * as a guest that hangs. Files given as overrides are the user's and not checked.
 */
export async function loadGuestAssets(options: { dir?: string; bzimage?: string; initrd?: string } = {}): Promise<GuestAssets> {
  const dir = options.dir ?? guestDir;
  const manifest = JSON.parse(Buffer.from(await read(join(dir, "manifest.json"))).toString()) as GuestManifest;
  const load = async (name: string, override?: string): Promise<ArrayBuffer> => {
    const data = await read(override ?? join(dir, name));
    const want = manifest.files[name]?.sha256;
    if (!override && want !== createHash("sha256").update(new Uint8Array(data)).digest("hex")) {
      throw new BerthError(ErrorCode.vmBootFailed, `Cannot boot the guest: "${join(dir, name)}" does not match its manifest (corrupt, or from another build: run "npm run build")`);
    }
    return data;
  };
  if (dir === guestDir) wasmModule ??= load("v86.wasm").then((b) => WebAssembly.compile(b));
  const [bios, bzimage, initrdGz, wasm] = await Promise.all([
    load("bios.bin"),
    load("bzImage", options.bzimage),
    load("initramfs.cpio.gz", options.initrd),
    dir === guestDir ? wasmModule! : load("v86.wasm").then((b) => WebAssembly.compile(b)),
  ]);
  return { bios, bzimage, initrdGz, wasm, emulator: `v86 ${manifest.v86}` };
}
