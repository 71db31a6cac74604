// The `berth` command as a user runs it: output, exit status, errors.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../helpers/guest.js";

const bin = fileURLToPath(new URL("../../../../bin/berth.js", import.meta.url));
let snapshots: { dir: string; remove: () => Promise<void> };

function berth(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, "--snapshot-dir", snapshots.dir, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.stdin.end(input ?? "");
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  snapshots = await tempDir("berth-cli-");
});
after(async () => {
  await snapshots?.remove();
});

test("berth sh -c runs the script in the guest and exits with its status", async () => {
  const r = await berth(["sh", "-c", "echo out; echo err >&2; uname -m; exit 42"]);
  assert.equal(r.code, 42);
  assert.equal(r.stdout, "out\ni686\n");
  assert.equal(r.stderr, "err\n");
});

test("berth sh -c reads piped stdin and restores the saved state", async () => {
  const r = await berth(["sh", "-c", "tr a-z A-Z"], "hello berth\n");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "HELLO BERTH\n");
});

test("berth sh -c runs a container with crun", async () => {
  const r = await berth(["sh", "-c", "berth-demo 'echo in a container as pid $$; exit 5'"]);
  assert.equal(r.stdout, "in a container as pid 1\n");
  assert.equal(r.code, 5);
});

test("bad flags and commands give one usage line and exit 125", async () => {
  for (const args of [["--bogus"], ["frobnicate"], ["sh"], ["--memory", "12", "sh", "-c", "true"], ["serve", "--port", "99999"]]) {
    const r = await berth(args);
    assert.equal(r.code, 125, `berth ${args.join(" ")}`);
    assert.match(r.stderr, /^berth: Error \[usage\]: .+\n$/, `berth ${args.join(" ")}`);
    assert.equal(r.stdout, "");
  }
});

test("a missing guest file is a clear error, not a stack trace", async () => {
  const r = await berth(["--kernel", "/nonexistent/bzImage", "sh", "-c", "true"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^berth: Error \[vm-asset-missing\]: Cannot find the guest file "\/nonexistent\/bzImage"/);
});

test("berth alone is an interactive shell on a terminal", async () => {
  // script(1) (bsdutils, always on Debian) gives berth a real pty, as a terminal would
  const p = spawn("script", ["-qfec", `${process.execPath} ${bin} --snapshot-dir ${snapshots.dir}`, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", (b: Buffer) => (out += b));
  const waitFor = async (re: RegExp): Promise<void> => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > 60000) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const closed = new Promise<number | null>((resolve) => p.on("close", resolve));
  await waitFor(/# (\x1b\[6n)?$/); // ash asks for the cursor position (ESC [6n) after its prompt
  p.stdin.write("echo $((20 + 22)); tty\r");
  await waitFor(/42\r+\n\/dev\/pts\/\d+/);
  p.stdin.write("exit 3\r");
  assert.equal(await closed, 3);
});
