import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatBytes } from "../../src/common/bytes.js";
import { Engine, type EngineOptions } from "../../src/engine/engine.js";
import { loadGuestAssets } from "../../src/node/guest-files.js";

export { loadGuestAssets };

/** A fresh directory for a test's snapshots, removed by the returned function. */
export async function tempDir(prefix = "berth-test-"): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startEngine(options: Partial<EngineOptions> = {}): Promise<Engine> {
  return Engine.start({ assets: await loadGuestAssets(), ...options });
}

/** One member of a newc cpio archive: `mode` has the file type bits (0o100644, 0o120777 for a symlink whose data is its target). */
export interface CpioMember {
  name: string;
  mode: number;
  data: Uint8Array;
}

/** Makes a newc cpio archive of `members`, in order, with its trailer. */
export function cpioArchive(members: Iterable<CpioMember>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const pad = (n: number): Uint8Array => new Uint8Array((4 - (n % 4)) % 4);
  let ino = 900000;
  const entry = ({ name, mode, data }: CpioMember): void => {
    const hex = (n: number): string => n.toString(16).padStart(8, "0");
    const nameBytes = enc.encode(`${name}\0`);
    const header = enc.encode("070701" + [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex).join(""));
    parts.push(header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length));
  };
  for (const m of members) entry(m);
  entry({ name: "TRAILER!!!", mode: 0, data: new Uint8Array(0) });
  return concatBytes(parts);
}

/** Makes a newc cpio archive of regular files (appended to an initramfs, later entries win). */
export function cpioFiles(files: Record<string, { data: string; mode?: number }>): Uint8Array {
  const enc = new TextEncoder();
  return cpioArchive(Object.entries(files).map(([name, f]) => ({ name, mode: 0o100000 | (f.mode ?? 0o644), data: enc.encode(f.data) })));
}
