// What a reload keeps (same browser profile): a new engine in a new Worker, as
// the next page load has, finds the volumes, containers and logs of the last.
import { createEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

const check = (ok: boolean, what: string, got: unknown): void => {
  if (!ok) throw new Error(`${what}: got ${JSON.stringify(got)}`);
};

describe("a reload", () => {
  it("finds the volume written before it, and the stopped container with its logs and files", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const img = `${host}/test/busybox`;
    const guestUrl = new URL("/build/guest/", location.href).href;
    const before = createEngine({ guestUrl });
    const write = await before.docker(["run", "--rm", "-v", "pagevol:/data", img, "sh", "-c", "echo kept-across-reload > /data/f"]);
    check(write.code === 0, "write", write);
    const stopped = await before.docker(["run", "--name", "stopped", img, "sh", "-c", "echo line-one; echo changed > /made"]);
    check(stopped.code === 0 && stopped.stdout === "line-one\n", "stopped", stopped);
    await before.close();

    const after = createEngine({ guestUrl });
    const read = await after.docker(["run", "--rm", "-v", "pagevol:/data", img, "cat", "/data/f"]);
    check(read.code === 0 && read.stdout === "kept-across-reload\n", "read", read);
    const ps = await after.docker(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    check(/^stopped Exited \(0\) /.test(ps.stdout), "ps -a", ps);
    const logs = await after.docker(["logs", "stopped"]);
    check(logs.stdout === "line-one\n", "logs", logs);
    const again = await after.docker(["start", "-a", "stopped"]);
    const diff = await after.docker(["diff", "stopped"]);
    check(again.code === 0 && diff.stdout.includes("A /made"), "the writable layer", diff);
    await after.docker(["rm", "-f", "stopped"]);
    await after.docker(["volume", "rm", "pagevol"]);
    await after.close();
  });
});
