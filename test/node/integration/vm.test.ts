// Boots one real guest under v86 and drives it through the agent.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { encodeFrame, Msg } from "../../../src/common/agent-protocol.js";
import type { BerthError } from "../../../src/common/errors.js";
import { makeBusyboxLayer, runContainer } from "../../../src/engine/containers/container-runner.js";
import type { Engine } from "../../../src/engine/engine.js";
import { DirSnapshotStore } from "../../../src/node/dir-snapshot-store.js";
import { startEngine, tempDir } from "../../helpers/guest.js";

let engine: Engine;
let snapshots: { dir: string; remove: () => Promise<void> };

before(async () => {
  snapshots = await tempDir("berth-vm-");
  engine = await startEngine({ snapshots: new DirSnapshotStore(snapshots.dir) });
});

after(async () => {
  await engine?.stop();
  await snapshots?.remove();
});

test("a cold boot reaches the agent, which runs commands", async () => {
  assert.equal(engine.info.restored, false);
  const r = await engine.run(["uname", "-sm"]);
  assert.deepEqual(r, { code: 0, stdout: "Linux i686\n", stderr: "" });
  const s = await engine.run(["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(s, { code: 3, stdout: "out\n", stderr: "err\n" });
});

test("exit statuses follow the shell: 127 not found, 128+N for a signal", async () => {
  assert.equal((await engine.run(["no-such-command"])).code, 127);
  assert.equal((await engine.run(["sh", "-c", "kill -9 $$"])).code, 137);
});

test("stdin reaches the process, in large pieces too", async () => {
  const big = "x".repeat(200_000) + "\n";
  const r = await engine.run(["wc", "-c"], { stdin: new TextEncoder().encode(big) });
  assert.equal(r.stdout.trim(), String(big.length));
});

test("the guest clock is the host's", async () => {
  const r = await engine.run(["date", "+%s"]);
  assert.ok(Math.abs(Number(r.stdout) - Date.now() / 1000) < 30, `guest says ${r.stdout}`);
});

test("garbage, truncated and malformed frames do not kill the agent", async () => {
  const ch = engine.vm.channel;
  ch.sendRaw(new TextEncoder().encode("BT this is not a frame BTBTBT"));
  ch.sendRaw(encodeFrame({ type: Msg.exec, id: 999_999, payload: new Uint8Array(50) }).subarray(0, 30));
  // a well-framed request whose payload is nonsense gets an error answer
  await assert.rejects(ch.request(Msg.writeFile, new Uint8Array([9, 9, 9])), (e: BerthError) => e.code === "agent-protocol" && /malformed/.test(e.message));
  await assert.rejects(ch.request(0x7f, new Uint8Array(0)), (e: BerthError) => /unknown request type/.test(e.message));
  const r = await engine.run(["echo", "still here"]);
  assert.equal(r.stdout, "still here\n");
});

test("crun runs a busybox container that sees only itself", async () => {
  await makeBusyboxLayer(engine.vm.channel, "/run/berth/layers/busybox");
  let out = "";
  const code = await runContainer(
    engine.vm.channel,
    { name: "ns-check", layers: ["/run/berth/layers/busybox"], args: ["sh", "-c", "echo pid=$$; hostname; ps -o pid | tail -n +2 | wc -l"], hostname: "box1" },
    { onStdout: (b) => (out += new TextDecoder().decode(b)) },
  );
  assert.equal(code, 0);
  // PID 1 is the shell; ps sees the shell and itself (and the pipe's tail and wc)
  const [pid, host, count] = out.trim().split("\n");
  assert.equal(pid, "pid=1");
  assert.equal(host, "box1");
  assert.ok(Number(count) <= 4, `container saw ${count} processes`);
});

test("a memory hog under memory.max is killed with 137", async () => {
  const code = await runContainer(engine.vm.channel, {
    name: "hog",
    layers: ["/run/berth/layers/busybox"],
    args: ["awk", 'BEGIN { s = "xxxxxxxxxxxxxxxx"; while (1) s = s s }'],
    memoryMax: 16 * 1024 * 1024,
  });
  assert.equal(code, 137);
});

test("a restore from the saved snapshot answers a command", async () => {
  await engine.stop();
  engine = await startEngine({ snapshots: new DirSnapshotStore(snapshots.dir) });
  assert.equal(engine.info.restored, true);
  const r = await engine.run(["echo", "restored"]);
  assert.equal(r.stdout, "restored\n");
});
