// Containers the way a Docker course drives them, through `berth sh -c` in a
// real guest (crun, cgroup v2, overlayfs), with images from docker-registry on
// 127.0.0.1. Each script marks the lines it checks with a tag.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { berthSh, tagged, type BerthResult } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let snapshots: { dir: string; remove: () => Promise<void> };
let img: string;
const berth = (script: string): Promise<BerthResult> => berthSh(snapshots.dir, script);

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  snapshots = await tempDir("berth-containers-");
  img = `${registry.host}/test/busybox`;
});
after(async () => {
  await registry?.stop();
  await snapshots?.remove();
});

test("run -d, ps, logs, exec, stop, ps -a, inspect --format, rm", async () => {
  const out = await berth(`docker pull -q ${img} >/dev/null
id=$(docker run -d --name web ${img} sh -c 'echo started; echo oops >&2; exec sleep 300')
echo "id: $id"
docker ps
docker ps --format 'ps: {{.Names}} {{.State}} {{.Status}} {{.Command}}'
sleep 1; docker logs web 2>&1 | sed 's/^/logs: /'
docker exec web sh -c 'echo exec in $(hostname); exit 3'; echo "exec: status $?"
docker exec -e X=42 -w /tmp web sh -c 'echo "exec: $X $(pwd)"'
docker stop -t 1 web; echo "stop: $?"
docker ps -q | wc -l | sed 's/^/running: /'
docker ps -a --format 'psa: {{.Names}} {{.Status}}'
docker inspect --format 'inspect: {{.State.Status}} {{.State.ExitCode}} {{json .Config.Cmd}} {{.Name}} {{.HostConfig.RestartPolicy.Name}}' web
docker exec web true; echo "exec stopped: $?"
docker start web >/dev/null; docker rm web; echo "rm running: $?"
docker rm -f web; echo "rm -f: $?"
docker ps -aq | wc -l | sed 's/^/left: /'`);
  assert.equal(out.code, 0, out.stderr);
  const id = tagged(out.stdout, "id:")[0]!;
  assert.match(id, /^[0-9a-f]{64}$/);
  const lines = out.stdout.split("\n");
  const header = lines.findIndex((l) => l.startsWith("CONTAINER ID"));
  assert.match(lines[header]!, /^CONTAINER ID   IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
  assert.match(lines[header + 1]!, new RegExp(`^${id.slice(0, 12)}   ${img.replace(/\./g, "\\.")}   "sh -c echo started;…"   \\S.* ago +Up .+ +web$`));
  assert.match(tagged(out.stdout, "ps:")[0]!, /^web running Up (Less than a second|\d+ seconds?) "sh -c echo started;…"$/);
  assert.deepEqual(tagged(out.stdout, "logs:"), ["started", "oops"]);
  assert.deepEqual(tagged(out.stdout, "exec"), [`in ${id.slice(0, 12)}`, ": status 3", ": 42 /tmp", "stopped: 1"]);
  assert.deepEqual(tagged(out.stdout, "stop:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "running:"), ["0"]);
  assert.match(tagged(out.stdout, "psa:")[0]!, /^web Exited \(137\) (Less than a second|\d+ seconds?) ago$/);
  assert.deepEqual(tagged(out.stdout, "inspect:"), ['exited 137 ["sh","-c","echo started; echo oops >&2; exec sleep 300"] /web no']);
  assert.deepEqual(tagged(out.stdout, "rm running:"), ["1"]);
  assert.deepEqual(tagged(out.stdout, "rm -f:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "left:"), ["0"]);
  assert.match(out.stderr, /^Error response from daemon: container [0-9a-f]{64} is not running$/m);
  assert.match(out.stderr, /^Error response from daemon: cannot remove container "\/web": container is running: stop the container before removing or force remove$/m);
});

test("limits: a memory hog is killed with 137, pids and a read-only rootfs hold", async () => {
  const out = await berth(`docker pull -q ${img} >/dev/null
docker run --name hog -m 8m ${img} sh -c 'x=a; while true; do x=$x$x; done'; echo "mem: $?"
docker inspect -f 'oom: {{.State.OOMKilled}} {{.HostConfig.Memory}}' hog
docker run --rm --pids-limit 4 ${img} sh -c 'for i in 1 2 3 4 5 6; do sleep 3 & done'; echo "pids: $?"
docker run --rm --read-only ${img} sh -c 'echo x > /file'; echo "ro: $?"
docker run --rm --read-only --tmpfs /tmp ${img} sh -c 'echo x > /tmp/file && echo "tmpfs: ok"'
docker run --rm --cap-drop ALL ${img} sh -c 'chown 1 /tmp'; echo "capdrop: $?"
docker run --rm -u 1000:1000 -h myhost -w /tmp -e A=1 ${img} sh -c 'echo "user: $(id -u):$(id -g) $(hostname) $(pwd) $A"'
docker run --rm --init ${img} sh -c 'echo "init: $(cat /proc/1/cmdline | tr "\\0" " ")"'`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "mem:"), ["137"]);
  assert.deepEqual(tagged(out.stdout, "oom:"), [`true ${8 * 1024 * 1024}`]);
  assert.match(out.stderr, /can't fork: Resource temporarily unavailable/);
  assert.deepEqual(tagged(out.stdout, "ro:"), ["1"]);
  assert.match(out.stderr, /Read-only file system/);
  assert.deepEqual(tagged(out.stdout, "tmpfs:"), ["ok"]);
  assert.deepEqual(tagged(out.stdout, "capdrop:"), ["1"]);
  assert.deepEqual(tagged(out.stdout, "user:"), ["1000:1000 myhost /tmp 1"]);
  assert.match(tagged(out.stdout, "init:")[0]!, /^\/sbin\/docker-init -- sh -c echo /);
});

test("restart policies: on-failure restarts a failing container, stop ends an always", async () => {
  const out = await berth(`docker pull -q ${img} >/dev/null
docker run -d --name flaky --restart on-failure:2 ${img} sh -c 'echo try; exit 1' >/dev/null
for i in $(seq 60); do [ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)" = "2 exited" ] && break; sleep 0.5; done
docker inspect -f 'flaky: {{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' flaky
docker logs flaky | sed 's/^/log: /'
docker run -d --name always --restart always ${img} sh -c 'sleep 0.2' >/dev/null
sleep 2
docker inspect -f 'always: {{gt .RestartCount 0}}' always 2>/dev/null || docker inspect -f 'always: {{.RestartCount}}' always
docker stop always >/dev/null; sleep 1
docker inspect -f 'stopped: {{.State.Status}}' always`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "flaky:"), ["2 exited 1"]);
  assert.deepEqual(tagged(out.stdout, "log:"), ["try", "try", "try"]);
  assert.ok(Number(tagged(out.stdout, "always:")[0]) > 0 || tagged(out.stdout, "always:")[0] === "true", out.stdout);
  assert.deepEqual(tagged(out.stdout, "stopped:"), ["exited"]);
});

test("cp in and out, diff, commit then run the new image, tag and rmi", async () => {
  const out = await berth(`docker pull -q ${img} >/dev/null
docker run -d --name box ${img} sleep 300 >/dev/null
echo from-guest > /tmp/in.txt
docker cp /tmp/in.txt box:/in.txt && docker exec box cat /in.txt | sed 's/^/in: /'
docker exec box sh -c 'echo made > /made.txt; rm /bin/ls'
docker cp box:/made.txt /tmp/out.txt && sed 's/^/out: /' /tmp/out.txt
docker cp box:/made.txt - | tar -tf - | sed 's/^/tar: /'
docker diff box | sed 's/^/diff: /'
docker commit -m 'made a file' -c 'CMD ["cat", "/made.txt"]' box mine:v1 | sed 's/^/commit: /'
docker run --rm mine:v1 | sed 's/^/run: /'
docker run --rm mine:v1 ls; echo "ls: $?"
docker history mine:v1 | sed -n 2p | sed 's/^/history: /'
docker tag mine:v1 mine:v2 && docker images --format 'images: {{.Repository}}:{{.Tag}}' mine
docker rmi mine:v1 | sed 's/^/rmi: /'
docker create --name user mine:v2 >/dev/null
docker rmi mine:v2; echo "rmi used: $?"
docker rm -f box >/dev/null; docker container prune -f >/dev/null; docker rmi mine:v2 | sed 's/^/rmi2: /'`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "in:"), ["from-guest"]);
  assert.deepEqual(tagged(out.stdout, "out:"), ["made"]);
  assert.deepEqual(tagged(out.stdout, "tar:"), ["made.txt"]);
  assert.deepEqual(tagged(out.stdout, "diff:"), ["C /bin", "D /bin/ls", "A /in.txt", "A /made.txt"]);
  assert.match(tagged(out.stdout, "commit:")[0]!, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(tagged(out.stdout, "run:"), ["made"]);
  assert.deepEqual(tagged(out.stdout, "ls:"), ["127"]);
  assert.match(tagged(out.stdout, "history:")[0]!, /^[0-9a-f]{12}   (Less than a second|\d+ seconds?) ago   sleep 300 .* made a file$/);
  assert.deepEqual(tagged(out.stdout, "images:"), ["mine:v1", "mine:v2"]);
  assert.deepEqual(tagged(out.stdout, "rmi:"), ["Untagged: mine:v1"]);
  assert.deepEqual(tagged(out.stdout, "rmi used:"), ["1"]);
  assert.match(out.stderr, /Error response from daemon: conflict: unable to remove repository reference "mine:v2" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
  assert.deepEqual(tagged(out.stdout, "rmi2:").slice(0, 1), ["Untagged: mine:v2"]);
  assert.match(tagged(out.stdout, "rmi2:")[1]!, /^Deleted: sha256:[0-9a-f]{64}$/);
});

test("wrong input gets Docker's behaviour, words and exit codes", async () => {
  const r = registry.host;
  const out = await berth(`docker pull -q ${img} >/dev/null
docker run --frob ${img}; echo "s: unknown flag $?"
docker run -m 12x ${img} true; echo "s: bad memory $?"
docker run --restart sometimes ${img} true; echo "s: bad restart $?"
docker run -d --name taken ${img} sleep 30 >/dev/null; docker run --name taken ${img} true; echo "s: name in use $?"
docker stop nosuch; echo "s: no such container $?"
docker run ${img} nosuchcmd; echo "s: not found $?"
docker run ${img} /etc/passwd; echo "s: not executable $?"
docker run --rm ${r}/test/no386 true; echo "s: no 386 $?"
docker run --rm -v data:relative ${img} true; echo "s: volume $?"
docker kill taken >/dev/null; docker kill taken; echo "s: kill stopped $?"
docker pause taken; echo "s: pause stopped $?"
docker logs; echo "s: logs no arg $?"`);
  assert.deepEqual(tagged(out.stdout, "s:"), [
    "unknown flag 125", "bad memory 125", "bad restart 125", "name in use 125", "no such container 1", "not found 127", "not executable 126",
    "no 386 125", "volume 125", "kill stopped 1", "pause stopped 1", "logs no arg 1",
  ]);
  const e = out.stderr;
  // Docker 28's shapes: pflag's errors with the usage line; the daemon's refusals as "docker: Error response from daemon: …"
  assert.match(e, /^unknown flag: --frob\n\nUsage:  docker run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nRun 'docker run --help' for more information$/m);
  assert.match(e, /invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'/);
  assert.match(e, /invalid restart policy format: sometimes/);
  assert.match(e, /Conflict\. The container name "\/taken" is already in use by container "[0-9a-f]{64}"/);
  assert.match(e, /^Error response from daemon: No such container: nosuch$/m);
  assert.match(e, /^docker: Error response from daemon: failed to create task for container: .*exec: "nosuchcmd": executable file not found in \$PATH: unknown\n\nRun 'docker run --help' for more information$/m);
  assert.match(e, /^docker: Error response from daemon: .*it has no linux\/386 image \(it has linux\/amd64\)/m);
  assert.match(e, /^docker: Error response from daemon: invalid volume specification: 'data:relative': invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute$/m);
  assert.match(e, /^Error response from daemon: cannot kill container: taken: container [0-9a-f]{64} is not running$/m);
  assert.match(e, /^docker: 'docker logs' requires 1 argument\n\nUsage:  docker logs \[OPTIONS\] CONTAINER\n\nRun 'docker logs --help' for more information$/m);
});

test("the rest of the course: create/start -a, attach, wait, rename, pause, top, stats, update, ps filters, logs options, export/import, cp with tar streams, system df", async () => {
  const out = await berth(`docker pull -q ${img} >/dev/null
docker create --name job ${img} sh -c 'echo one; echo two; echo three; exit 4' >/dev/null
docker ps -a --filter status=created --format 'created: {{.Names}} {{.Status}}'
docker start -a job; echo "start -a: $?"
docker wait job | sed 's/^/wait: /'
docker logs --tail 2 job | sed 's/^/tail: /'
docker logs -t job | head -1 | sed 's/^/ts: /'
docker rename job job2 && docker ps -a --format 'renamed: {{.Names}}'
echo hello | docker run -i --rm -a stdin -a stdout ${img} cat | sed 's/^/attach-a: /'
docker run -d --name srv -l tier=web --cpus 0.5 -m 64m --memory-swap 128m ${img} sleep 300 >/dev/null
docker ps --filter label=tier=web --format json | sed 's/^/json: /'
docker ps --filter exited=4 -a -q | wc -l | sed 's/^/exited4: /'
docker pause srv >/dev/null; docker ps --format 'paused: {{.Status}}'; docker exec srv true; echo "exec paused: $?"; docker unpause srv >/dev/null
docker top srv | sed -n 2p | sed 's/^/top: /'
docker stats --no-stream --format '{{.Name}} {{.PIDs}}' | sed 's/^/stats: /'
docker update --memory 32m --pids-limit 20 srv >/dev/null && docker inspect -f 'update: {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}' srv
docker exec srv cat /sys/fs/cgroup/memory.max | sed 's/^/memory.max: /'
docker exec srv sh -c 'mkdir -p /data && echo payload > /data/f'
docker cp srv:/data - | tar -tf - | sed 's/^/cp-: /'
mkdir -p /tmp/up && echo uploaded > /tmp/up/u.txt && tar -C /tmp/up -cf - u.txt | docker cp - srv:/data && docker exec srv cat /data/u.txt | sed 's/^/cp in-: /'
docker export srv | tar -tf - | grep -c '^./data/f$' | sed 's/^/export: /'
docker export srv > /tmp/srv.tar && docker import /tmp/srv.tar imported:v1 | cut -c1-7 | sed 's/^/import: /'
docker run --rm imported:v1 cat /data/u.txt | sed 's/^/imported: /'
docker system df | sed -n 1,2p | sed 's/^/df: /'
docker info 2>/dev/null | grep -E '^ (Containers|Cgroup Version):' | sed 's/^/info:/'
docker rm -f srv >/dev/null; docker network create unused-net >/dev/null; docker system prune -f | sed -n -e '/^Deleted Networks/,/^$/p' -e '/^Total/p' | sed 's/^/prune: /'`);
  assert.equal(out.code, 0, out.stderr);
  const t = (k: string): string[] => tagged(out.stdout, k);
  assert.deepEqual(t("created:"), ["job Created"]);
  assert.deepEqual(out.stdout.split("\n").slice(1, 5), ["one", "two", "three", "start -a: 4"]);
  assert.deepEqual(t("wait:"), ["4"]);
  assert.deepEqual(t("tail:"), ["two", "three"]);
  assert.match(t("ts:")[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$/);
  assert.deepEqual(t("renamed:"), ["job2"]);
  assert.deepEqual(t("attach-a:"), ["hello"]);
  const json = JSON.parse(t("json:")[0]!) as Record<string, string>;
  assert.equal(json["Names"], "srv");
  assert.equal(json["Labels"], "tier=web");
  assert.equal(json["State"], "running");
  assert.deepEqual(t("exited4:"), ["1"]);
  assert.match(t("paused:")[0]!, /^Up .* \(Paused\)$/);
  assert.deepEqual(t("exec paused:"), ["1"]);
  assert.match(t("top:")[0]!, /^root +\d+ +\d+ +0 +\d\d:\d\d +\? +00:00:00 +sleep 300$/);
  assert.deepEqual(t("stats:"), ["srv 1"]);
  assert.deepEqual(t("update:"), [`${32 * 1024 * 1024} 20 500000000`]);
  assert.deepEqual(t("memory.max:"), [String(32 * 1024 * 1024)]);
  assert.deepEqual(t("cp-:"), ["data/", "data/f"]);
  assert.deepEqual(t("cp in-:"), ["uploaded"]);
  assert.deepEqual(t("export:"), ["1"]);
  assert.deepEqual(t("import:"), ["sha256:"]);
  assert.deepEqual(t("imported:"), ["uploaded"]);
  assert.match(t("df:")[0]!, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
  assert.match(t("df:")[1]!, /^Images +\d+ +\d+ +\S+ +\S+ \(\d+%\)$/);
  assert.match(out.stderr, /WARNING: Your kernel does not support swap limit capabilities/);
  assert.deepEqual(t("info:"), ["Containers: 2", "Cgroup Version: 2"]);
  assert.deepEqual(t("prune:").slice(0, 2), ["Deleted Networks:", "unused-net"]);
  assert.match(t("prune:").at(-1)!, /^Total reclaimed space: /);
});

test("save and load: an OCI layout + docker-archive tar, from a file or a pipe, round trip", async () => {
  const layered = `${registry.host}/test/layered:v1`;
  const out = await berth(`docker pull -q ${layered} >/dev/null
docker save -o /tmp/img.tar ${layered}; echo "save: $?"
tar -tf /tmp/img.tar | grep -v '^blobs' | sed 's/^/entry: /'
docker rmi ${layered} >/dev/null; docker images -q ${registry.host}/test/layered | wc -l | sed 's/^/images after rmi: /'
docker load -i /tmp/img.tar
docker run --rm ${layered} | sed 's/^/run: /'
docker run -d --name changed ${layered} sh -c 'rm /etc/motd; echo new > /new; sleep 100' >/dev/null; sleep 1
docker commit changed mine:c >/dev/null; docker rm -f changed >/dev/null
docker save mine:c | gzip > /tmp/mine.tar.gz; docker rmi mine:c >/dev/null
docker load < /tmp/mine.tar.gz
docker run --rm mine:c sh -c 'cat /new; test -e /etc/motd || echo motd-gone' | sed 's/^/committed: /'
echo garbage > /tmp/bad.tar; docker load -i /tmp/bad.tar; echo "bad: $?"`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "save:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "entry:"), ["index.json", "manifest.json", "oci-layout", "repositories"]);
  assert.deepEqual(tagged(out.stdout, "images after rmi:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "Loaded image:"), [layered, "mine:c"]);
  assert.deepEqual(tagged(out.stdout, "run:"), ["from the upper layer"]);
  assert.deepEqual(tagged(out.stdout, "committed:"), ["new", "motd-gone"]);
  assert.deepEqual(tagged(out.stdout, "bad:"), ["1"]);
  assert.match(out.stderr, /^Error response from daemon: /m);
});
