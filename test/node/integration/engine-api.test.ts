// The Docker Engine API of `berth daemon`, driven by the real docker CLI (the
// machine's, 28.x): its output and exit codes are the assertions. Malformed
// requests get Docker's error shapes and never take the daemon down.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { berthBin, berthDirs, type BerthResult } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let dir: { dir: string; remove: () => Promise<void> };
let daemon: ChildProcess;
let sock: string;
let img: string;

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  img = `${registry.host}/test/busybox`;
  dir = await tempDir("berth-api-");
  sock = join(dir.dir, "docker.sock");
  daemon = spawn(process.execPath, [berthBin, ...berthDirs(dir.dir), "daemon", "-H", `unix://${sock}`], { stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  await new Promise<void>((resolve, reject) => {
    daemon.stderr!.on("data", (b: Buffer) => {
      said += b;
      if (said.includes("API listening on")) resolve();
    });
    daemon.on("exit", (code) => reject(new Error(`berth daemon exited ${code}: ${said}`)));
  });
});

after(async () => {
  daemon?.kill("SIGTERM");
  await new Promise((r) => daemon?.once("exit", r));
  await registry?.stop();
  await dir?.remove();
});

/** The machine's docker CLI against the daemon. */
function docker(args: string[], o: { stdin?: string | Buffer } = {}): Promise<BerthResult> {
  return new Promise((resolve) => {
    const p = spawn("docker", args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir.dir, "docker-config") }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.stdin.end(o.stdin ?? "");
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The docker CLI's stdout as bytes (export, save), stdin closed. */
function dockerBytes(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn("docker", args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir.dir, "docker-config") }, stdio: ["ignore", "pipe", "pipe"] });
    const parts: Buffer[] = [];
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => parts.push(b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.on("close", (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`docker ${args.join(" ")} exited ${code}: ${stderr}`))));
  });
}

/** A raw request on the socket: status and body. */
function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) } }, (res) => {
      let text = "";
      res.on("data", (b: Buffer) => (text += b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("docker version and info through the socket: API 1.47 negotiated, the engine's facts", async () => {
  const v = await docker(["version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}}"]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, "1.47 1.47 linux/386\n");
  const i = await docker(["info", "--format", "{{.OSType}} {{.Architecture}} {{.Driver}} {{.NCPU}} {{.Swarm.LocalNodeState}}"]);
  assert.equal(i.code, 0, i.stderr);
  assert.equal(i.stdout, "linux i686 overlay2 1 inactive\n");
});

test("docker pull, images and run --rm: Docker's progress lines, output, stderr apart, exit codes", async () => {
  const pull = await docker(["pull", img]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /^Using default tag: latest\nlatest: Pulling from test\/busybox\n[0-9a-f]{12}: Pulling fs layer\n/);
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${img.replace(/\./g, "\\.")}:latest\n${img.replace(/\./g, "\\.")}:latest\n$`));
  const images = await docker(["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
  assert.equal(images.stdout, `${img}:latest 2.09MB\n`);
  const run = await docker(["run", "--rm", img, "sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual([run.code, run.stdout, run.stderr], [3, "out\n", "err\n"]);
  const ps = await docker(["ps", "-a", "-q"]);
  assert.equal(ps.stdout, "", "--rm removed it");
  const stdin = await docker(["run", "--rm", "-i", img, "wc", "-c"], { stdin: "12345" });
  assert.equal(stdin.stdout.trim(), "5", stdin.stderr);
});

test("a detached container: ps, logs, exec, inspect, stop, start, restart, kill, rm", async () => {
  const id = (await docker(["run", "-d", "--name", "web", "-e", "A=1", "-p", "8080:80", img, "sh", "-c", "echo started; echo to-err >&2; sleep 1000"])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await docker(["ps", "--format", "{{.ID}} {{.Names}} {{.Ports}} {{.Status}}"]);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} web 0\\.0\\.0\\.0:8080->80/tcp Up `));
  const sized = await docker(["ps", "-s", "--format", "{{.Size}}"]);
  assert.match(sized.stdout, /^\d+(\.\d+)?k?B \(virtual 2\.\d+MB\)\n$/, "ps -s through the API: the writable layer and the image");
  const logs = await docker(["logs", "web"]);
  assert.deepEqual([logs.stdout, logs.stderr], ["started\n", "to-err\n"]);
  const exec = await docker(["exec", "web", "sh", "-c", "echo $A; exit 5"]);
  assert.deepEqual([exec.code, exec.stdout], [5, "1\n"]);
  const execIn = await docker(["exec", "-i", "web", "cat"], { stdin: "through exec\n" });
  assert.equal(execIn.stdout, "through exec\n");
  // Docker's daemon lists the user's entries first, then the image's
  const inspect = await docker(["inspect", "--format", "{{.State.Status}} {{.Name}} {{index .Config.Env 0}}", "web"]);
  assert.equal(inspect.stdout, "running /web A=1\n");
  assert.equal((await docker(["stop", "-t", "1", "web"])).stdout, "web\n");
  const stopped = await docker(["ps", "-a", "--format", "{{.Status}}|{{.Ports}}"]);
  assert.match(stopped.stdout, /^Exited \(137\) .*\|\n$/, "stopped: no ports shown");
  const again = await docker(["stop", "web"]);
  assert.equal(again.code, 0, "stopping a stopped container is not an error (304)");
  for (const cmd of [["start", "web"], ["restart", "-t", "0", "web"], ["kill", "web"], ["rm", "web"]]) {
    const r = await docker(cmd);
    assert.deepEqual([r.code, r.stdout], [0, "web\n"], `${cmd.join(" ")}: ${r.stderr}`);
  }
  assert.equal((await docker(["ps", "-a", "-q"])).stdout, "");
});

test("tag, history, rmi and container prune through the socket; docker login posts /auth", async () => {
  assert.equal((await docker(["tag", img, "berth/copy:v1"])).code, 0);
  const history = await docker(["history", "--format", "{{.ID}} {{.Size}}", "berth/copy:v1"]);
  assert.equal(history.code, 0, history.stderr);
  assert.match(history.stdout, /^[0-9a-f]{12} 2\.09MB\n/);
  const untag = await docker(["rmi", "berth/copy:v1"]);
  assert.deepEqual([untag.code, untag.stdout], [0, "Untagged: berth/copy:v1\n"]);
  await docker(["create", "--name", "user", img, "true"]);
  const conflict = await docker(["rmi", img]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /Error response from daemon: conflict: unable to remove repository reference .* \(must force\) - container [0-9a-f]{12} is using its referenced image/);
  const prune = await docker(["container", "prune", "-f"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n/);
  const login = await docker(["login", "-u", "someone", "--password-stdin", registry.host], { stdin: "secret\n" });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
});

test("a container's files and resources: top, stats, cp both ways, diff, export | import, commit, save | load, update, system df and prune, events", async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await docker(["run", "-d", "--name", "box", img, "sleep", "1000"]);
  const top = await docker(["top", "box"]);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\nroot\s+\d+\s+\d+\s+0\s+\d\d:\d\d\s+\?\s+00:00:00\s+sleep 1000\n$/);
  const stats = await docker(["stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "box"]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^box \d+\.\d\d% [\d.]+[KM]iB \/ [\d.]+MiB 1\n$/, "numbers from the cgroup, not the CLI's -- placeholders");
  const host = await tempDir("berth-cp-");
  try {
    await writeFile(join(host.dir, "note.txt"), "from the host\n");
    await mkdir(join(host.dir, "tree", "sub"), { recursive: true });
    await writeFile(join(host.dir, "tree", "sub", "leaf"), "leaf\n");
    assert.equal((await docker(["cp", join(host.dir, "note.txt"), "box:/tmp/"])).code, 0);
    assert.equal((await docker(["cp", join(host.dir, "tree"), "box:/tmp/copied"])).code, 0);
    assert.equal((await docker(["exec", "box", "cat", "/tmp/note.txt", "/tmp/copied/sub/leaf"])).stdout, "from the host\nleaf\n");
    await docker(["exec", "box", "sh", "-c", "echo made > /made; rm /bin/wc"]);
    assert.equal((await docker(["cp", "box:/made", join(host.dir, "back.txt")])).code, 0);
    assert.equal(await readFile(join(host.dir, "back.txt"), "utf8"), "made\n");
    assert.equal((await docker(["cp", "box:/tmp/copied", join(host.dir, "again")])).code, 0);
    assert.equal(await readFile(join(host.dir, "again", "sub", "leaf"), "utf8"), "leaf\n");
    const missing = await docker(["cp", "box:/nope", host.dir]);
    assert.deepEqual([missing.code, missing.stderr], [1, "Error response from daemon: Could not find the file /nope in container box\n"]);
  } finally {
    await host.remove();
  }
  const diff = await docker(["diff", "box"]);
  assert.equal(diff.stdout, "C /bin\nD /bin/wc\nA /made\nC /tmp\nA /tmp/copied\nA /tmp/copied/sub\nA /tmp/copied/sub/leaf\nA /tmp/note.txt\n");
  const exported = await dockerBytes(["export", "box"]);
  const imported = await docker(["import", "-", "berth/flat:1"], { stdin: exported });
  assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/, imported.stderr);
  assert.equal((await docker(["run", "--rm", "berth/flat:1", "cat", "/made"])).stdout, "made\n");
  const commit = await docker(["commit", "-c", 'CMD ["cat", "/made"]', "-m", "a change", "box", "berth/snap:v1"]);
  assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/, commit.stderr);
  assert.equal((await docker(["run", "--rm", "berth/snap:v1"])).stdout, "made\n");
  assert.match((await docker(["history", "--format", "{{.Comment}}|{{.CreatedBy}}", "berth/snap:v1"])).stdout, /^a change\|sleep 1000\n/);
  const saved = await dockerBytes(["save", "berth/snap:v1"]);
  assert.equal((await docker(["rmi", "berth/snap:v1"])).code, 0);
  const load = await docker(["load"], { stdin: saved });
  assert.deepEqual([load.code, load.stdout], [0, "Loaded image: berth/snap:v1\n"], load.stderr);
  assert.equal((await docker(["run", "--rm", "berth/snap:v1"])).stdout, "made\n", "the loaded image runs");
  const update = await docker(["update", "--memory", "64m", "--restart", "unless-stopped", "box"]);
  assert.deepEqual([update.code, update.stdout], [0, "box\n"], update.stderr);
  assert.equal((await docker(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}", "box"])).stdout, "67108864 unless-stopped\n");
  const df = await docker(["system", "df"]);
  assert.equal(df.code, 0, df.stderr);
  assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+3\s+1\s+[\d.]+MB\s+[\d.]+[kM]?B \(\d+%\)\nContainers\s+1\s+1\s+[\d.]+kB\s+0B \(0%\)\nLocal Volumes\s+0\s+0\s+0B\s+0B\nBuild Cache\s+0\s+0\s+0B\s+0B\n$/);
  assert.equal((await docker(["rm", "-f", "box"])).code, 0);
  const prune = await docker(["system", "prune", "-a", "-f"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /^Deleted Images:\n(.+\n)*untagged: berth\/snap:v1\ndeleted: sha256:[0-9a-f]{64}\n/);
  assert.match(prune.stdout, /Total reclaimed space: [\d.]+MB\n$/);
  const events = await docker(["events", "--since", String(since), "--until", String(Math.ceil(Date.now() / 1000)), "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}}"]);
  assert.equal(events.code, 0, events.stderr);
  const seen = events.stdout.split("\n");
  for (const line of ["create box", "start box", "exec_die box", "commit box", "update box", "kill box", "die box", "destroy box"]) assert.ok(seen.includes(line), `events: ${line} in\n${events.stdout}`);
});

test("networks, port, logs -f, attach, and exec -it on a real terminal (script(1)) through the socket", async () => {
  assert.equal((await docker(["network", "create", "appnet"])).code, 0);
  await docker(["run", "-d", "--name", "ticker", "--network", "appnet", "-p", "8081:80", img, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]);
  // the previous test's prune took the image and its blobs: this run pulled it again, its layers back in the blob store
  assert.ok((await dockerBytes(["save", img])).length > 1_000_000, "docker save after rmi and a new pull");
  assert.equal((await docker(["port", "ticker"])).stdout, "80/tcp -> 0.0.0.0:8081\n");
  await docker(["run", "-d", "--name", "peer", img, "sleep", "100"]);
  assert.equal((await docker(["network", "connect", "appnet", "peer"])).code, 0);
  const peerId = (await docker(["inspect", "-f", "{{.Id}}", "peer"])).stdout.trim();
  assert.equal((await docker(["exec", "peer", "sh", "-c", "cat /etc/hostname; echo $HOSTNAME"])).stdout, `${peerId.slice(0, 12)}\n${peerId.slice(0, 12)}\n`, "/etc/hostname and HOSTNAME, as Docker's");
  const missing = await docker(["exec", "peer", "nosuch"]);
  assert.deepEqual([missing.code, missing.stderr], [127, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown\n']);
  const who = await docker(["exec", "-u", "nobody", "peer", "busybox", "id", "-u"]);
  assert.deepEqual([who.code, who.stdout], [0, "65534\n"], `exec -u by name, from the image's /etc/passwd: ${who.stderr}`);
  const gid = await docker(["exec", "-u", "65534", "peer", "busybox", "id", "-g"]);
  assert.equal(gid.stdout, "65534\n", "a numeric user gets its passwd group, as Docker's");
  const ping = await docker(["exec", "peer", "busybox", "ping", "-c", "1", "-W", "3", "ticker"]);
  assert.match(ping.stdout, /^PING ticker \(172\.\d+\.0\.\d+\)[^]*1 packets received/, `the peer reaches the container by name on the network: ${ping.stderr}`);
  assert.match((await docker(["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "peer"])).stdout, /appnet bridge|bridge appnet/);
  // logs -f follows until the client goes: three lines in about three seconds
  const follow = spawn("docker", ["logs", "-f", "ticker"], { env: { ...process.env, DOCKER_HOST: `unix://${sock}` } });
  let followed = "";
  await new Promise<void>((resolve) => follow.stdout.on("data", (b: Buffer) => ((followed += b), followed.split("\n").length > 3 && resolve())));
  follow.kill();
  assert.match(followed, /^tick 0\ntick 1\ntick 2\n/);
  // a -d -i container's stdin stays open when an attached client's ends (Docker's StdinOnce is false for it)
  await docker(["run", "-d", "-i", "--name", "catter", img, "cat"]);
  const attach = spawn("docker", ["attach", "catter"], { env: { ...process.env, DOCKER_HOST: `unix://${sock}` } });
  let attached = "";
  await new Promise<void>((resolve) => {
    attach.stdout.on("data", (b: Buffer) => ((attached += b), attached.includes("\n") && resolve()));
    attach.stdin.end("through attach\n");
  });
  assert.equal(attached, "through attach\n");
  await new Promise((r) => setTimeout(r, 300));
  assert.match((await docker(["ps", "--filter", "name=catter", "--format", "{{.Status}}"])).stdout, /^Up /, "cat still runs");
  attach.kill();
  const piped = await docker(["run", "-i", "--rm", img, "cat"], { stdin: "through run -i\n" });
  assert.deepEqual([piped.code, piped.stdout], [0, "through run -i\n"], "run -i: the end of stdin ends cat (StdinOnce)");
  const pty = await new Promise<string>((resolve) => {
    const p = spawn("script", ["-qec", "docker exec -it ticker sh -c 'test -t 0 && test -t 1 && echo on-a-tty'", "/dev/null"], { env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b));
    p.on("close", () => resolve(out));
  });
  assert.match(pty, /on-a-tty\r\n/, "exec -it gives the process a terminal, with the terminal's CR LF");
  for (const c of ["ticker", "peer", "catter"]) assert.equal((await docker(["rm", "-f", c])).code, 0);
  assert.equal((await docker(["network", "rm", "appnet"])).stdout, "appnet\n");
});

test("volumes through the socket: create, ls, inspect, run -v and --mount, in use (409), rm, prune, df -v", async () => {
  const create = await docker(["volume", "create", "--label", "k=v", "apidata"]);
  assert.deepEqual([create.code, create.stdout], [0, "apidata\n"], create.stderr);
  const write = await docker(["run", "--rm", "-v", "apidata:/data", img, "sh", "-c", "echo 12345 > /data/f"]);
  assert.equal(write.code, 0, write.stderr);
  const read = await docker(["run", "--rm", "--mount", "type=volume,src=apidata,dst=/d,readonly", img, "cat", "/d/f"]);
  assert.deepEqual([read.code, read.stdout], [0, "12345\n"], read.stderr);
  const ls = await docker(["volume", "ls", "--filter", "label=k=v"]);
  assert.equal(ls.stdout, "DRIVER    VOLUME NAME\nlocal     apidata\n");
  const inspect = await docker(["volume", "inspect", "apidata"]);
  const doc = JSON.parse(inspect.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual([doc[0]!["Name"], doc[0]!["Driver"], doc[0]!["Mountpoint"], doc[0]!["Labels"], doc[0]!["Scope"]], ["apidata", "local", "/var/lib/docker/volumes/apidata/_data", { k: "v" }, "local"]);
  const held = await docker(["run", "-d", "--name", "holder", "-v", "apidata:/data", "-v", "/anon", img, "sleep", "300"]);
  assert.equal(held.code, 0, held.stderr);
  const mounts = await docker(["inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}", "holder"]);
  assert.equal(mounts.stdout.trim().split(" ").sort().join(" "), "volume:/anon:true volume:/data:true");
  const inUse = await docker(["volume", "rm", "apidata"]);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /^Error response from daemon: remove apidata: volume is in use - \[[0-9a-f]{64}\]\n$/);
  const df = await docker(["system", "df", "-v"]);
  assert.match(df.stdout, /Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/);
  assert.match(df.stdout, /\napidata +1 +6B\n/);
  const rm = await docker(["rm", "-f", "-v", "holder"]);
  assert.equal(rm.code, 0, rm.stderr);
  const left = await docker(["volume", "ls", "-q"]);
  assert.equal(left.stdout, "apidata\n", "rm -v took the anonymous volume, not the named one");
  const missing = await docker(["volume", "inspect", "nope"]);
  assert.deepEqual([missing.code, missing.stderr], [1, "Error response from daemon: get nope: no such volume\n"]);
  const prune = await docker(["volume", "prune", "-a", "-f"]);
  assert.equal(prune.stdout, "Deleted Volumes:\napidata\n\nTotal reclaimed space: 6B\n");
});

test("errors in Docker's words and exit codes", async () => {
  const rm = await docker(["rm", "nosuch"]);
  assert.deepEqual([rm.code, rm.stderr], [1, "Error response from daemon: No such container: nosuch\n"]);
  const inspect = await docker(["inspect", "nosuch"]);
  assert.equal(inspect.code, 1);
  assert.match(inspect.stderr, /Error: No such object: nosuch/);
  const run = await docker(["run", "--rm", img, "no-such-command"]);
  assert.equal(run.code, 127, run.stderr);
  assert.match(run.stderr, /docker: Error response from daemon: .*exec: "no-such-command": executable file not found in \$PATH/);
  const notExec = await docker(["run", "--rm", img, "/etc/passwd"]);
  assert.equal(notExec.code, 126, notExec.stderr);
  assert.equal((await docker(["ps", "-a", "-q"])).stdout, "", "--rm removed the containers that could not start");
  const pull = await docker(["pull", `${registry.host}/test/nosuch`]);
  assert.equal(pull.code, 1);
  assert.match(pull.stderr, /Error response from daemon: /);
});

test("malformed requests get Docker's error shapes, and the daemon stays up", async () => {
  assert.deepEqual(await raw("GET", "/v1.47/no/such/route"), { status: 404, body: '{"message":"page not found"}\n' });
  assert.equal((await raw("PUT", "/v1.47/containers/json")).status, 405);
  const badJson = await raw("POST", "/v1.47/containers/create", "{not json");
  assert.equal(badJson.status, 400);
  assert.match(JSON.parse(badJson.body).message, /invalid JSON/);
  const wrongType = await raw("POST", "/v1.47/containers/create", JSON.stringify({ Image: 42 }));
  assert.equal(wrongType.status, 400);
  const huge = await raw("POST", "/v1.47/containers/create", Buffer.alloc(17 * 1024 * 1024, 32));
  assert.equal(huge.status, 413);
  const tooNew = await raw("GET", "/v9.99/version");
  assert.deepEqual([tooNew.status, JSON.parse(tooNew.body).message], [400, "client version 9.99 is too new. Maximum supported API version is 1.47"]);
  const noImage = await raw("POST", "/v1.47/containers/create", JSON.stringify({ Image: "nosuch:1" }));
  assert.deepEqual([noImage.status, JSON.parse(noImage.body).message], [404, "No such image: nosuch:1"]);
  const ping = await raw("GET", "/_ping");
  assert.deepEqual(ping, { status: 200, body: "OK" });
});

test("Debian's docker-compose (1.29, python) brings a two-service file up, lists and logs it, and takes it down through the socket", async () => {
  const project = join(dir.dir, "app");
  const { mkdir, writeFile } = await import("node:fs/promises");
  await mkdir(project, { recursive: true });
  await writeFile(join(project, "docker-compose.yml"), `version: "3"
services:
  web:
    image: ${img}
    command: ["sh", "-c", "echo web up; sleep 1000"]
  client:
    image: ${img}
    depends_on: [web]
    command: ["sh", "-c", "grep -q web /etc/hosts && echo client sees web; sleep 1000"]
`);
  const compose = (args: string[]): Promise<BerthResult> => new Promise((resolve) => {
    const p = spawn("docker-compose", ["-p", "berthapi", ...args], { cwd: project, env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b));
    p.stderr.on("data", (b: Buffer) => (stderr += b));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  const up = await compose(["up", "-d"]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /Creating network "berthapi_default" with the default driver/);
  assert.match(up.stderr, /Creating berthapi_web_1/);
  const ps = await compose(["ps"]);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /berthapi_web_1 .* Up/);
  assert.match(ps.stdout, /berthapi_client_1 .* Up/);
  let logs = "";
  for (let i = 0; i < 20 && !/client sees web/.test(logs); i++) {
    await new Promise((r) => setTimeout(r, 500));
    logs = (await compose(["logs", "--no-color"])).stdout;
  }
  assert.match(logs, /web_1 +\| web up/);
  assert.match(logs, /client_1 +\| client sees web/, "the client found the web service by name on the project's network");
  const down = await compose(["down"]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /Removing network berthapi_default/);
  assert.equal((await docker(["ps", "-a", "-q"])).stdout, "");
  assert.doesNotMatch((await docker(["network", "ls"])).stdout, /berthapi_default/);
});
