// A whole session saved and restored (persist="session"), with the Engine as
// the page's worker drives it: a real guest, images from docker-registry on
// 127.0.0.1, the stores in directories. The first engine's VM is destroyed
// without a clean stop, as a closed tab's is.
import assert from "node:assert/strict";
import { readdir, truncate } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Engine, EngineOptions } from "../../../src/engine/engine.js";
import { RegistryClient } from "../../../src/engine/registry/registry-client.js";
import { DirBlobStore } from "../../../src/node/dir-blob-store.js";
import { DirSnapshotStore } from "../../../src/node/dir-snapshot-store.js";
import { startEngine, tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let work: { dir: string; remove: () => Promise<void> };
let img: string;

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  work = await tempDir("berth-session-");
  img = `${registry.host}/test/busybox`;
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

function options(warnings: string[]): Partial<EngineOptions> {
  const d = work.dir;
  return {
    snapshots: new DirSnapshotStore(join(d, "snapshots")),
    session: new DirSnapshotStore(join(d, "session")),
    onWarning: (w) => warnings.push(`${w.code}: ${w.message}`),
    docker: { client: new RegistryClient(), store: new DirBlobStore(join(d, "images")), stateStore: new DirBlobStore(join(d, "state")) },
  };
}

async function docker(e: Engine, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const code = await e.docker!.command(argv, { stdout: (b) => out.push(b), stderr: (b) => err.push(b) });
  const text = (p: Uint8Array[]): string => p.map((b) => new TextDecoder().decode(b)).join("");
  return { code, out: text(out), err: text(err) };
}

async function ok(e: Engine, ...argv: string[]): Promise<string> {
  const r = await docker(e, ...argv);
  assert.equal(r.code, 0, `docker ${argv.join(" ")}: ${r.err}`);
  return r.out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("a saved session comes back with its containers running: Up, their log going on, exec, networks, volumes and stop work; a state written after it discards it", async () => {
  const warnings: string[] = [];
  const first = await startEngine(options(warnings));
  await first.saved();
  await ok(first, "pull", "-q", img);
  await ok(first, "network", "create", "net1");
  await ok(first, "run", "-d", "--name", "ticker", img, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done");
  await ok(first, "run", "-d", "--name", "peer", "--network", "net1", "-v", "data:/data", img, "sh", "-c", "echo kept > /data/f; exec sleep 1000");
  await ok(first, "run", "--name", "done", img, "echo", "finished");
  await sleep(1500);
  const saved = await first.saveSession();
  assert.ok(saved.bytes > 0);
  // the tab goes: no clean stop
  await first.vm.destroy();

  const second = await startEngine(options(warnings));
  try {
    assert.equal(second.info.session, true, warnings.join("\n"));
    assert.deepEqual(warnings, []);
    const ps = await ok(second, "ps", "-a", "--format", "{{.Names}} {{.Status}}");
    assert.match(ps, /^ticker Up /m);
    assert.match(ps, /^peer Up /m);
    assert.match(ps, /^done Exited \(0\) /m);
    // its output goes on into the same log
    const before = (await ok(second, "logs", "ticker")).trim().split("\n");
    await sleep(2500);
    const later = (await ok(second, "logs", "ticker")).trim().split("\n");
    assert.ok(later.length > before.length, `the log went on: ${before.length} then ${later.length} lines`);
    assert.deepEqual(later.slice(0, before.length), before);
    assert.equal(later.at(-1)?.replace(/\d+$/, ""), "tick ");
    assert.equal(await ok(second, "exec", "peer", "cat", "/data/f"), "kept\n");
    assert.equal(await ok(second, "logs", "done"), "finished\n");
    // the network's endpoints came with it: a new container finds the old by name, with its own address
    const ping = await docker(second, "run", "--rm", "--network", "net1", img, "busybox", "ping", "-c", "1", "-W", "2", "peer");
    assert.equal(ping.code, 0, ping.out + ping.err);
    // its exit is seen
    await ok(second, "stop", "-t", "1", "ticker");
    assert.match(await ok(second, "ps", "-a", "--filter", "name=ticker", "--format", "{{.Status}}"), /^Exited \((137|143)\) /);

    // a container made is saved in the session by itself, a moment later
    await ok(second, "create", "--name", "auto", img, "true");
    await sleep(2500);
    await second.vm.destroy();
  } finally {
    await second.vm.destroy();
  }
  const again = await startEngine(options(warnings));
  try {
    assert.equal(again.info.session, true, warnings.join("\n"));
    assert.match(await ok(again, "ps", "-a", "--format", "{{.Names}} {{.Status}}"), /^auto Created/m);
    await again.saveSession();
  } finally {
    await again.vm.destroy();
  }

  // another engine on the same state (no session: berth in Node) writes it: the session is not used
  const { session: _, ...plain } = options(warnings);
  const other = await startEngine(plain);
  await other.daemon!.ready();
  await ok(other, "create", "--name", "late", img, "true");
  await other.stop();

  const third = await startEngine(options(warnings));
  try {
    assert.notEqual(third.info.session, true);
    assert.ok(warnings.some((w) => /^snapshot-invalid: Discarded the saved session.*saved after it/.test(w)), warnings.join("\n"));
    await third.daemon!.ready();
    const ps = await ok(third, "ps", "-a", "--format", "{{.Names}} {{.Status}}");
    // the daemon's own restore: what was running is Exited (255), as after a daemon restart
    assert.match(ps, /^peer Exited \(255\) /m);
    assert.match(ps, /^late Created/m);
  } finally {
    await third.stop();
  }

  // a session cut short (a full disk, a crash while it was written) is refused and removed
  const dir = join(work.dir, "session");
  const [file] = (await readdir(dir)).filter((f) => f.endsWith(".snap"));
  assert.ok(file, "the session saved last is kept until a new one replaces it");
  await truncate(join(dir, file), 1000);
  warnings.length = 0;
  const fourth = await startEngine(options(warnings));
  try {
    assert.notEqual(fourth.info.session, true);
    assert.ok(warnings.some((w) => /^snapshot-invalid: Discarded the saved session.*checksum/.test(w)), warnings.join("\n"));
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith(".snap")), []);
  } finally {
    await fourth.stop();
  }
});
