import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const berthBin = fileURLToPath(new URL("../../../bin/berth.js", import.meta.url));

export interface BerthResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `berth sh -c SCRIPT` with its snapshots in `dir`, and its images (blobs and
 * the image list, which outlive a run as Docker's do) in `dir`/images. Its
 * containers and volumes are its own, unless `o.keepState` (then in `dir`/state,
 * kept from run to run); `o.args` go before "sh" (--share), `o.cwd` is its directory.
 */
export function berthSh(dir: string, script: string, o: { args?: string[]; cwd?: string; keepState?: boolean } = {}): Promise<BerthResult> {
  // each run starts with no containers or volumes (a state of its own), unless the test is about keeping them
  const state = o.keepState ? ["--state-dir", `${dir}/state`] : ["--state-dir", `${dir}/state-${++runs}`];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [berthBin, ...berthDirs(dir), ...state, ...(o.args ?? []), "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let runs = 0;

export function berthDirs(dir: string): string[] {
  return ["--snapshot-dir", dir, "--image-dir", `${dir}/images`];
}

/** The lines of `out` that start with `tag` (scripts mark what they check). */
export function tagged(out: string, tag: string): string[] {
  return out.split("\n").filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length).trim());
}
