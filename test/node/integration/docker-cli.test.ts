// The guest's `docker` command, answered by the engine: what a Docker course
// types first, through `berth sh -c`, against docker-registry on 127.0.0.1.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { humanAgo, humanSize } from "../../../src/common/docker-format.js";
import { berthBin as bin, berthDirs, berthSh, tagged, type BerthResult } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let snapshots: { dir: string; remove: () => Promise<void> };

const berth = (script: string): Promise<BerthResult> => berthSh(snapshots.dir, script);

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  snapshots = await tempDir("berth-docker-");
});
after(async () => {
  await registry?.stop();
  await snapshots?.remove();
});

test("docker pull, images and run, with Docker's output and exit codes", async () => {
  const r = registry.host;
  const out = await berth(`docker pull ${r}/test/busybox && docker images && docker run --rm ${r}/test/layered:v1 && docker run ${r}/test/busybox sh -c 'echo $((6 * 7)); exit 4'; echo "status $?"`);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.split("\n");
  assert.equal(lines[0], "Using default tag: latest");
  assert.equal(lines[1], "latest: Pulling from test/busybox");
  // Docker's lines for a layer, as its CLI prints the daemon's progress off a terminal
  const layer = lines[2]!.slice(0, 12);
  assert.match(layer, /^[0-9a-f]{12}$/);
  assert.deepEqual(lines.slice(2, 6), ["Pulling fs layer", "Verifying Checksum", "Download complete", "Pull complete"].map((s) => `${layer}: ${s}`));
  assert.match(lines[6]!, /^Digest: sha256:[0-9a-f]{64}$/);
  assert.equal(lines[7], `Status: Downloaded newer image for ${r}/test/busybox:latest`);
  assert.equal(lines[8], `${r}/test/busybox:latest`);
  assert.match(lines[9]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(lines[10]!, new RegExp(`^${r.replace(/\./g, "\\.")}/test/busybox\\s+latest\\s+[0-9a-f]{12}\\s+\\d+ years ago\\s+2\\.\\d+MB$`));
  assert.deepEqual(lines.slice(11), ["from the upper layer", "42", "status 4", ""]);
  assert.match(out.stderr, new RegExp(`Unable to find image '${r.replace(/\./g, "\\.")}/test/layered:v1' locally`));
  // run's pull shows the daemon's messages alone: no "Using default tag", no reference at the end (docker/cli create.go)
  assert.doesNotMatch(out.stderr, new RegExp(`^(Using default tag|${r.replace(/\./g, "\\.")}/test/layered:v1$)`, "m"));
  // test/layered is busybox's layer plus one: the shared layer is neither downloaded nor unpacked again
  assert.match(out.stderr, /\n[0-9a-f]{12}: Already exists\n[0-9a-f]{12}: Pulling fs layer\n(?:[0-9a-f]{12}: [A-Z][A-Za-z ]+\n)*[0-9a-f]{12}: Pull complete\n/);
});

test("docker run -i feeds stdin to the container; without -i it reads EOF", async () => {
  const r = registry.host;
  // (the fixture's busybox has a few applets: cat, wc, head, ... but no sort)
  const out = await berth(`printf 'b\\na\\n' | docker run -i ${r}/test/busybox cat; echo x | docker run ${r}/test/busybox cat; echo "done $?"`);
  assert.equal(out.stdout.split("\n").filter((l) => !/Pull|Digest|Status|latest|tag/.test(l)).join("\n"), "b\na\ndone 0\n");
});

test("wrong input gets Docker's words and codes", async () => {
  const out = await berth(`docker frob; echo "s=$?"; docker run --bogus x; echo "s=$?"; docker pull; echo "s=$?"; docker pull ${registry.host}/test/nothing:1; echo "s=$?"; docker pull Bad/Name; echo "s=$?"`);
  assert.deepEqual(out.stdout.split("\n").filter((l) => l.startsWith("s=")), ["s=1", "s=125", "s=1", "s=1", "s=1"]);
  assert.match(out.stderr, /^docker: unknown command: docker frob\n\nRun 'docker --help' for more information$/m);
  assert.match(out.stderr, /^unknown flag: --bogus\n\nUsage:  docker run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nRun 'docker run --help' for more information$/m);
  assert.match(out.stderr, /^docker: 'docker pull' requires 1 argument\n\nUsage:  docker pull \[OPTIONS\] NAME\[:TAG\|@DIGEST\]\n\nRun 'docker pull --help' for more information$/m);
  assert.match(out.stderr, /^Error response from daemon: manifest for .*test\/nothing:1 not found: manifest unknown: manifest unknown$/m);
  assert.match(out.stderr, /^invalid reference format: repository name \(Name\) must be lowercase$/m);
});

test("the client's signals reach the container (--sig-proxy, Docker's default), or not with --sig-proxy=false; ps -s sizes; /.dockerenv", async () => {
  const r = registry.host;
  const out = await berth(`docker pull -q ${r}/test/busybox >/dev/null
docker run --rm ${r}/test/busybox sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1; done' > /tmp/proxied & pid=$!
until grep -q ready /tmp/proxied 2>/dev/null; do sleep 0.2; done
kill -TERM $pid; wait $pid; echo "proxied: $?"; grep got /tmp/proxied
docker run -d --name keeps ${r}/test/busybox sleep 100 >/dev/null
docker run --sig-proxy=false --name unproxied ${r}/test/busybox sh -c 'echo ready; sleep 100' > /tmp/unproxied & pid=$!
until grep -q ready /tmp/unproxied 2>/dev/null; do sleep 0.2; done
kill -TERM $pid; wait $pid; echo "client: $?"; docker inspect -f '{{.State.Status}}' unproxied | sed 's/^/container: /'
docker exec keeps sh -c 'head -c 5000 /dev/zero > /big; test -f /.dockerenv && echo dockerenv: yes'
docker ps -s --filter name=keeps --format '{{.Size}}' | sed 's/^/size: /'
docker rm -f keeps unproxied >/dev/null`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "proxied:"), ["3"], out.stderr);
  assert.ok(out.stdout.includes("got TERM"), out.stdout);
  assert.deepEqual(tagged(out.stdout, "client:"), ["143"]);
  assert.deepEqual(tagged(out.stdout, "container:"), ["running"]);
  assert.deepEqual(tagged(out.stdout, "dockerenv:"), ["yes"]);
  assert.match(tagged(out.stdout, "size:")[0]!, /^[4-9]\.\d+kB \(virtual 2\.\d+MB\)$/);
});

test("the conformance issue's examples, each with Docker 28's text and status", async () => {
  const img = `${registry.host}/test/busybox`;
  const out = await berth(`docker pull -q ${img} >/dev/null
s() { echo "s: $1 $2"; }
docker network create n1 >/dev/null; docker run -d --name c1 ${img} sleep 1000 >/dev/null
docker network connect n1 c1; docker network connect n1 c1; s connect-twice $?
docker rename c1 c1; s rename-same $?
docker ps --filter status=bogus; s ps-bogus $?
docker run -p 8080:abc ${img} true; s bad-port $?
docker run --name ex ${img} true; docker create --name cr ${img} true >/dev/null
docker ps --filter status=exited --format '{{.Names}}' | sed 's/^/exited: /'
docker ps --filter status=created --filter status=running --format '{{.Names}}' | sort | sed 's/^/created-or-running: /'
docker ps --filter exited=abc; s exited-abc $?
docker rm -f nosuch; s rm-f $?
docker rmi -f nosuch:1; s rmi-f $?
docker exec c1 no-such-cmd; s exec-missing $?
docker exec c1 /etc/passwd; s exec-nonexec $?
unset NOPE; docker run --rm -e PATH=/bin -e NOPE ${img} env | grep -c '^NOPE=' | sed 's/^/nope: /'
docker run --rm -e =x ${img} true; s env-empty-name $?
printf 'export A=1\n' > /tmp/ef; docker run --rm --env-file /tmp/ef ${img} true; s env-file-export $?
docker run --name envo -e Z=1 ${img} true; docker inspect -f '{{json .Config.Env}}' envo | sed 's/^/env: /'
docker info --format '{{.NCPU}}' | sed 's/^/ncpu: /'
docker export c1 | busybox tar -t | grep -E '^(\./)?(\.dockerenv|etc/hostname)$' | sort | sed 's/^/exported: /'
for f in "--expose 8080" "--device /dev/null:/dev/xnull" "--cpuset-cpus 0" "--ulimit nofile=100:200" "--shm-size 64m" "--sysctl net.ipv4.ip_forward=1" "--group-add 10" "--memory-reservation 10m" "--pid host" "--log-driver json-file" "--runtime runc" "--cgroupns host" "--userns host" "--isolation default"; do
  docker run --rm $f ${img} true 2>/dev/null; s "$f" $?
done
docker run --rm --gpus all ${img} true; s gpus $?
docker image ls --tree; s tree $?
docker run --rm -w /made/here ${img} sh -c pwd | sed 's/^/workdir: /'
docker run --rm --network none ${img} cat /etc/hostname | sed 's/^/hostname: /'
docker rm -f c1 ex cr envo >/dev/null`);
  const st = new Map(tagged(out.stdout, "s:").map((l) => [l.slice(0, l.lastIndexOf(" ")), l.slice(l.lastIndexOf(" ") + 1)]));
  const e = out.stderr;
  assert.deepEqual([st.get("connect-twice"), st.get("rename-same"), st.get("ps-bogus"), st.get("bad-port")], ["1", "1", "1", "125"], out.stderr);
  assert.match(e, /^Error response from daemon: endpoint with name c1 already exists in network n1$/m);
  assert.match(e, /^Error response from daemon: Renaming a container with the same name as its current name$/m);
  assert.match(e, /^Error response from daemon: invalid filter 'status=bogus': invalid value for state \(bogus\)/m);
  assert.match(e, /^docker: invalid containerPort: abc\n\nRun 'docker run --help' for more information$/m);
  assert.deepEqual(tagged(out.stdout, "exited:"), ["ex"]);
  assert.deepEqual(tagged(out.stdout, "created-or-running:"), ["c1", "cr"]);
  assert.equal(st.get("exited-abc"), "1");
  assert.deepEqual([st.get("rm-f"), st.get("rmi-f")], ["0", "0"]);
  assert.match(e, /^Error response from daemon: No such container: nosuch$/m);
  assert.match(e, /^Error response from daemon: No such image: nosuch:1$/m);
  assert.deepEqual([st.get("exec-missing"), st.get("exec-nonexec")], ["127", "126"]);
  assert.deepEqual(tagged(out.stdout, "nope:"), ["0"]);
  assert.deepEqual([st.get("env-empty-name"), st.get("env-file-export")], ["125", "125"]);
  assert.match(e, /^invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x$/m);
  assert.match(e, /^docker: invalid env file \(\/tmp\/ef\): variable 'export A' contains whitespaces$/m);
  assert.deepEqual(tagged(out.stdout, "env:"), ['["Z=1","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]']);
  assert.deepEqual(tagged(out.stdout, "ncpu:"), ["1"]);
  assert.deepEqual(tagged(out.stdout, "exported:"), ["./.dockerenv", "./etc/hostname"]);
  for (const f of ["--expose 8080", "--device /dev/null:/dev/xnull", "--cpuset-cpus 0", "--ulimit nofile=100:200", "--shm-size 64m", "--sysctl net.ipv4.ip_forward=1", "--group-add 10", "--memory-reservation 10m", "--pid host", "--log-driver json-file", "--runtime runc", "--cgroupns host", "--userns host", "--isolation default"]) {
    assert.equal(st.get(f), "0", `docker run ${f}: ${out.stderr}`);
  }
  assert.equal(st.get("gpus"), "125");
  assert.match(e, /^docker: Error response from daemon: could not select device driver "" with capabilities: \[\[gpu\]\]$/m);
  assert.equal(st.get("tree"), "1");
  assert.match(e, /^Error response from daemon: Berth does not support --tree yet$/m);
  assert.doesNotMatch(e, /unknown flag/);
  assert.deepEqual(tagged(out.stdout, "workdir:"), ["/made/here"], "a working directory the image has not got is made, as Docker's");
  assert.match(tagged(out.stdout, "hostname:")[0] ?? "", /^[0-9a-f]{12}$/, "every container has /etc/hostname");
});

test("sizes and ages in Docker's wording", () => {
  assert.equal(humanSize(2_064_000), "2.06MB");
  assert.equal(humanSize(999), "999B");
  assert.equal(humanSize(4_300_000_000), "4.3GB");
  const now = new Date("2026-01-01T00:00:00Z");
  assert.equal(humanAgo(new Date("2025-12-31T23:59:57Z"), now), "3 seconds ago");
  assert.equal(humanAgo(new Date("2025-12-31T23:00:00Z"), now), "About an hour ago");
  assert.equal(humanAgo(new Date("2025-12-25T00:00:00Z"), now), "7 days ago");
  assert.equal(humanAgo(new Date("2023-11-14T00:00:00Z"), now), "2 years ago");
});

test("docker run -it: an interactive shell in the container, then back to the guest's", async () => {
  // script(1) gives berth a pty; in the guest, docker's terminal goes raw and the container gets a pty
  const p = spawn("script", ["-qfec", `${process.execPath} ${bin} ${berthDirs(snapshots.dir).join(" ")}`, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", (b: Buffer) => (out += b));
  const closed = new Promise((resolve) => p.on("close", resolve));
  const waitFor = async (re: RegExp): Promise<void> => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > 60000) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(/~ # /);
  p.stdin.write(`docker run -it --rm ${registry.host}/test/busybox sh\r`);
  await waitFor(/\n\/ # /);
  p.stdin.write("echo in-$(hostname) $((3 * 4)) on $(tty)\r");
  await waitFor(/in-\w+ 12 on \/dev\/pts\/0\r+\n/);
  assert.doesNotMatch(out, /job control turned off/);
  // Ctrl-C reaches the container's foreground job: it has a controlling terminal
  p.stdin.write("sleep 100; echo slept\r");
  await new Promise((r) => setTimeout(r, 1500));
  p.stdin.write("\x03");
  await waitFor(/sleep 100; echo slept\r+\n(\^C)?[^]*\/ # /);
  p.stdin.write("exit 5\r");
  await waitFor(/exit 5[^]*~ # /);
  p.stdin.write("echo rc=$?; exit\r");
  await waitFor(/rc=5/);
  await closed;
});

test("images outlive the engine: a new berth lists them and runs them without pulling", async () => {
  const r = registry.host;
  const first = await berth(`docker pull -q ${r}/test/busybox >/dev/null && docker tag ${r}/test/busybox kept:1 && echo tagged`);
  assert.equal(first.code, 0, first.stderr);
  const second = await berth(`docker images --format 'image: {{.Repository}}:{{.Tag}}' kept; docker run --rm kept:1 echo still-here`);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.stdout.split("\n").filter((l) => l.startsWith("image:")), ["image: kept:1"]);
  assert.match(second.stdout, /^still-here$/m);
  assert.doesNotMatch(second.stderr, /Unable to find image|Pulling/);
});

test("removing every image frees its blobs (garbage collection of the blob store)", async () => {
  const before = await readdir(join(snapshots.dir, "images", "sha256"));
  assert.ok(before.length > 0);
  const out = await berth(`docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker rmi -f $(docker images -q) | grep -c '^Deleted:'; docker images -q | wc -l`);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim().split("\n").at(-1), "0");
  assert.deepEqual(await readdir(join(snapshots.dir, "images", "sha256")), []);
});
