// The container service against a fake guest (no VM): Docker's identities,
// lifecycle and states, output to logs and attached clients, exit codes,
// restart policies, --rm, stop/kill/remove rules and the events they publish.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Status } from "../../../../src/common/container-state.js";
import { ErrorCode, type BerthError } from "../../../../src/common/errors.js";
import { ContainerService, type ContainerConfig, type HostConfig } from "../../../../src/engine/containers/containers.js";
import { EventBus } from "../../../../src/engine/daemon/events.js";
import { FakeGuest } from "../../../helpers/fake-guest.js";

const dec = new TextDecoder();

function config(cmd: string[], o: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    image: "busybox", imageId: "sha256:1", layers: ["/layers/a"], entrypoint: [], cmd, env: [], workingDir: "", user: "", uid: 0, gid: 0,
    hostname: "", labels: {}, tty: false, openStdin: false, stdinOnce: false, stopSignal: "SIGTERM", stopTimeout: undefined, ...o,
  };
}

function host(o: Partial<HostConfig> = {}): HostConfig {
  return {
    memory: 0, memorySwap: 0, nanoCpus: 0, cpuShares: 0, pidsLimit: 0, readonlyRootfs: false, restartPolicy: { name: "no", maximumRetryCount: 0 },
    autoRemove: false, capAdd: [], capDrop: [], privileged: false, securityOpt: [], init: false, tmpfs: {}, networkMode: "none", networks: [],
    aliases: {}, links: [], extraHosts: [], dns: [], portBindings: [], publishAll: false, exposed: [], ...o,
  };
}

function setup(): { guest: FakeGuest; svc: ContainerService; events: string[] } {
  const guest = new FakeGuest();
  const bus = new EventBus();
  const events: string[] = [];
  bus.subscribe((e) => events.push(`${e.Action}${e.Actor.Attributes["exitCode"] ? ` ${e.Actor.Attributes["exitCode"]}` : ""}`));
  return { guest, svc: new ContainerService(guest, bus), events };
}

test("identities: 64-hex IDs, generated and given names, lookup by name or unique prefix, Docker's conflict words", () => {
  const { svc } = setup();
  const a = svc.create(config(["true"]), host(), "web");
  const b = svc.create(config(["true"]), host());
  assert.match(a.id, /^[0-9a-f]{64}$/);
  assert.match(b.name, /^[a-z]+_[a-z]+$/);
  assert.equal(svc.find("web"), a);
  assert.equal(svc.find(a.id.slice(0, 6)), a);
  assert.throws(() => svc.find("nosuch"), (e: BerthError) => e.code === ErrorCode.containerNotFound && e.message.endsWith("No such container: nosuch"));
  assert.throws(() => svc.create(config(["true"]), host(), "web"), (e: BerthError) => e.code === ErrorCode.containerWrongState && /The container name "\/web" is already in use by container "[0-9a-f]{64}"/.test(e.message));
  assert.throws(() => svc.rename(a, "bad name"), (e: BerthError) => e.code === ErrorCode.invalidParameter);
});

test("a run: mounted, created, started; output to its log and to attached clients; the exit status and events", async () => {
  const { guest, svc, events } = setup();
  guest.behave = () => ({ stdout: "hello\nwor", stderr: "oops\n", exit: 3 });
  const c = svc.create(config(["sh", "-c", "x"]), host(), "job");
  const seen: string[] = [];
  c.attached.add({ stdout: (b) => seen.push(`out:${dec.decode(b)}`), stderr: (b) => seen.push(`err:${dec.decode(b)}`) });
  const exited = svc.nextExit(c);
  await svc.start(c);
  assert.equal(c.state.status, Status.running);
  assert.equal(await exited, 3);
  assert.equal(c.state.status, Status.exited);
  assert.equal(c.state.exitCode, 3);
  assert.deepEqual(seen, ["out:hello\nwor", "err:oops\n"]);
  assert.deepEqual(c.logs.map((l) => `${l.stream}:${dec.decode(l.bytes)}`), ["stdout:hello\n", "stderr:oops\n", "stdout:wor"], "a partial line is logged at the exit");
  assert.deepEqual(guest.calls.slice(0, 5), [`mount ${c.rootfs} /layers/a`, `writeFile ${c.rootfs}/.dockerenv`, `writeFile ${c.bundle}/hostname`, `create ${c.id}`, `start ${c.id}`]);
  assert.deepEqual(events, ["create", "start", "die 3"]);
  assert.equal(await svc.wait(c), 3, "wait on a stopped container answers at once");
});

test("a command crun cannot run: 127 or 126 in the state, crun's words in the error", async () => {
  const { guest, svc } = setup();
  const c = svc.create(config(["nosuch"]), host());
  guest.failCreate = "executable file `nosuch` not found in $PATH: No such file or directory";
  await assert.rejects(svc.start(c), (e: BerthError) => e.code === ErrorCode.containerStartFailed && e.message.includes("`nosuch` not found"));
  assert.deepEqual([c.state.status, c.state.exitCode], [Status.exited, 127]);
  guest.failCreate = "exec `/etc/passwd`: Permission denied";
  await assert.rejects(svc.start(c));
  assert.equal(c.state.exitCode, 126);
});

test("stop sends the stop signal, then SIGKILL after the timeout; kill and pause need a running container", async () => {
  const { guest, svc, events } = setup();
  guest.behave = () => ({ exit: "run" });
  const c = svc.create(config(["sleep", "1000"]), host());
  await svc.start(c);
  await svc.stop(c, 5);
  assert.deepEqual([c.state.status, c.state.exitCode], [Status.exited, 143], "SIGTERM ended it: 128 + 15");
  assert.ok(guest.calls.includes(`kill ${c.id} 15`));
  assert.deepEqual(events, ["create", "start", "kill", "die 143", "stop"], "Docker's order: kill (the stop signal), die, stop");
  await svc.stop(c);
  assert.equal(c.state.exitCode, 143, "stopping a stopped container changes nothing");
  await assert.rejects(svc.kill(c), (e: BerthError) => e.code === ErrorCode.containerWrongState && e.message.endsWith(`container ${c.id} is not running`));
  await assert.rejects(svc.pause(c), (e: BerthError) => e.code === ErrorCode.containerWrongState);
});

test("restart policies: on-failure:2 starts again twice, then stays exited; a manual stop is not restarted", async () => {
  const { guest, svc } = setup();
  let runs = 0;
  guest.behave = () => (runs++, { exit: 1 });
  const c = svc.create(config(["false"]), host({ restartPolicy: { name: "on-failure", maximumRetryCount: 2 } }));
  await svc.start(c);
  for (let i = 0; i < 100 && (runs < 3 || c.state.status !== Status.exited); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual([runs, c.restartCount, c.state.status], [3, 2, Status.exited]);
  guest.behave = () => ({ exit: "run" });
  const always = svc.create(config(["sleep", "1"]), host({ restartPolicy: { name: "always", maximumRetryCount: 0 } }));
  await svc.start(always);
  await svc.stop(always, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(always.state.status, Status.exited, "docker stop is not undone by the policy");
});

test("--rm removes at the exit; a running container is removed only by force, which kills it", async () => {
  const { guest, svc, events } = setup();
  const once = svc.create(config(["true"]), host({ autoRemove: true }));
  await svc.start(once);
  await once.removed;
  assert.equal(svc.tryFind(once.id), undefined);
  guest.behave = () => ({ exit: "run" });
  const c = svc.create(config(["sleep", "1000"]), host(), "busy");
  await svc.start(c);
  await assert.rejects(svc.remove(c), (e: BerthError) => e.code === ErrorCode.containerWrongState && e.message.endsWith("container is running: stop the container before removing or force remove"));
  await svc.remove(c, { force: true });
  assert.equal(svc.tryFind("busy"), undefined);
  assert.ok(guest.calls.includes(`kill ${c.id} 9`));
  assert.deepEqual(events.filter((e) => e === "destroy").length, 2);
});

test("exec: crun's failure to start the command is Docker's OCI words and 127/126; a program's own stderr passes", async () => {
  const { guest, svc } = setup();
  guest.behave = () => ({ exit: "run" });
  const c = svc.create(config(["sleep", "1000"]), host());
  await svc.start(c);
  const run = async (argv: string[]): Promise<[number, string]> => {
    let err = "";
    const p = svc.exec(c, argv, { onStderr: (b) => (err += dec.decode(b)) });
    return [await p.exit, err];
  };
  guest.answer = (argv) => (argv.includes("nosuch") ? { code: 255, stderr: "crun: executable file `nosuch` not found in $PATH: No such file or directory\n" } : argv.includes("/etc/passwd") ? { code: 255, stderr: "crun: open executable: Permission denied\n" } : { code: 3, stderr: "crun: not my words\n" });
  assert.deepEqual(await run(["nosuch"]), [127, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown\n']);
  assert.deepEqual(await run(["/etc/passwd"]), [126, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown\n']);
  assert.deepEqual(await run(["sh", "-c", "exit 3"]), [3, "crun: not my words\n"], "other output and statuses are the program's");
});
