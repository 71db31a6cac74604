import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const berthBin = fileURLToPath(new URL("../../../bin/berth.js", import.meta.url));

export interface BerthResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `berth sh -c SCRIPT` with its snapshots in `snapshotDir`. */
export function berthSh(snapshotDir: string, script: string): Promise<BerthResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [berthBin, "--snapshot-dir", snapshotDir, "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lines of `out` that start with `tag` (scripts mark what they check). */
export function tagged(out: string, tag: string): string[] {
  return out.split("\n").filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length).trim());
}
