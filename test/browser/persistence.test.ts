// What a reload keeps (same browser profile): a new engine in a new Worker, as
// the next page load has, finds the volumes, containers and logs of the last.
import { createEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

const check = (ok: boolean, what: string, got: unknown): void => {
  if (!ok) throw new Error(`${what}: got ${JSON.stringify(got)}`);
};

describe("a shared folder", () => {
  it("shows the page's folder (a File System Access handle) in the guest and writes the guest's changes back", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const img = `${host}/test/busybox`;
    // the origin's private file system gives a real directory handle without a picker
    const root = await navigator.storage.getDirectory();
    const proj = await root.getDirectoryHandle("proj", { create: true });
    const w = await (await proj.getFileHandle("index.html", { create: true })).createWritable();
    await w.write("<h1>from the page</h1>\n");
    await w.close();
    const engine = createEngine({ guestUrl: new URL("/build/guest/", location.href).href });
    const path = await engine.share(proj);
    check(path === "/root/proj", "guest path", path);
    const r = await engine.docker(["run", "--rm", "-v", `${path}:/app`, img, "sh", "-c", "cat /app/index.html; mkdir -p /app/out; echo built > /app/out/result.txt"]);
    check(r.code === 0 && r.stdout === "<h1>from the page</h1>\n", "read in the container", r);
    await engine.flush();
    const out = await (await (await (await proj.getDirectoryHandle("out")).getFileHandle("result.txt")).getFile()).text();
    check(out === "built\n", "written back to the folder", out);
    const dropped = [new File(["dropped\n"], "note.txt")];
    Object.defineProperty(dropped[0], "webkitRelativePath", { value: "notes/note.txt" });
    const at = await engine.share(dropped);
    const d = await engine.docker(["run", "--rm", "-v", `${at}:/n`, img, "cat", "/n/note.txt"]);
    check(at === "/root/notes" && d.stdout === "dropped\n", "dropped files", { at, d });
    await engine.close();
    await root.removeEntry("proj", { recursive: true });
  });
});

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

describe("a reload with persist=\"session\"", () => {
  it("finds a detached container still running, its log going on, and a shell again", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const img = `${host}/test/busybox`;
    const guestUrl = new URL("/build/guest/", location.href).href;
    const snapshotDb = "berth-snapshots-session-test";
    const before = createEngine({ guestUrl, snapshotDb, persist: "session" });
    const run = await before.docker(["run", "-d", "--name", "ticking", img, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]);
    check(run.code === 0, "run -d", run);
    await new Promise((r) => setTimeout(r, 1500));
    // close() saves the session as the page does when it is hidden or goes, then ends the Worker
    await before.close();

    const after = createEngine({ guestUrl, snapshotDb, persist: "session" });
    const info = await after.start();
    check(info.session === true, "restored the session", info);
    const ps = await after.docker(["ps", "--format", "{{.Names}} {{.Status}}"]);
    check(/^ticking Up /.test(ps.stdout), "still running", ps);
    const first = (await after.docker(["logs", "ticking"])).stdout.trim().split("\n");
    await new Promise((r) => setTimeout(r, 2200));
    const later = (await after.docker(["logs", "ticking"])).stdout.trim().split("\n");
    check(first[0] === "tick 0" && later.length > first.length, "the log went on", { first, later, info });
    const df = await after.docker(["system", "df"]);
    check(/^TYPE +TOTAL/.test(df.stdout) && /Browser storage: \S+ used of \S+/.test(df.stderr), "system df with the browser's quota", df);
    const shell = await after.guest(["/bin/sh", "-c", "echo shell-ok"]);
    check(shell.stdout === "shell-ok\n", "a guest command", shell);
    await after.docker(["rm", "-f", "ticking"]);
    await after.close();
  });
});
