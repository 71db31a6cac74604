// Volumes, bind mounts and --share the way a Docker course's "persisting data"
// chapter drives them, through `berth sh -c` in a real guest, with images from
// docker-registry on 127.0.0.1. Each script marks the lines it checks with a tag.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { berthSh, tagged, type BerthResult } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";

let registry: TestRegistry;
let work: { dir: string; remove: () => Promise<void> };
let img: string;
const berth = (script: string, o: { args?: string[]; cwd?: string } = {}): Promise<BerthResult> => berthSh(work.dir, script, { ...o, keepState: true });

before(async () => {
  registry = await startRegistry();
  for (const i of await buildFixtures()) await pushImage(registry.url, i);
  work = await tempDir("berth-volumes-");
  img = `${registry.host}/test/busybox`;
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

test("a named volume outlives berth: written by one berth sh -c, read by the next; ro, copy-up, VOLUME, --volumes-from, rm -v, prune", async () => {
  const first = await berth(`docker pull -q ${img} >/dev/null
docker volume create --label course=ch5 notes
docker run --rm -v notes:/data ${img} sh -c 'echo kept > /data/f; mkdir /data/d; chown 1000:1000 /data/d; ln -s f /data/l'
docker run --rm -v notes:/data:ro ${img} sh -c 'echo x > /data/g' 2>&1 | sed 's/^/ro: /'
docker run --rm -v etc:/etc ${img} ls /etc | sed 's/^/copyup: /'
docker run -d --name cpto -v cpvol:/data ${img} sleep 300 >/dev/null
echo via-cp > /tmp/cp.txt; docker cp /tmp/cp.txt cpto:/data/cp.txt; docker exec cpto cat /data/cp.txt | sed 's/^/cp: /'
docker cp cpto:/data/cp.txt - | wc -c | sed 's/^/cpout: /'
docker ps --filter volume=cpvol --format 'psvol: {{.Names}} {{.Mounts}}'
docker rm -f cpto >/dev/null
mkdir -p /root/rel && echo relative > /root/rel/r && cd /root && docker run --rm -v ./rel:/r ${img} cat /r/r | sed 's/^/rel: /' && cd /
docker run --rm --mount type=volume,src=empty,dst=/etc,volume-nocopy ${img} ls /etc | wc -l | sed 's/^/nocopy: /'
docker run --name src -v /anon ${img} sh -c 'echo from-src > /anon/x'
docker run --rm --volumes-from src ${img} cat /anon/x | sed 's/^/from: /'
docker run --rm --volumes-from src:ro ${img} sh -c 'touch /anon/y' 2>&1 | sed 's/^/fromro: /'
docker inspect -f 'mounts: {{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.RW}} {{end}}' src
docker commit --change 'VOLUME /state' src volimg >/dev/null
docker run --name v2 volimg sh -c 'echo s > /state/s'
docker inspect -f 'imgvol: {{range .Mounts}}{{.Destination}} {{.Driver}}{{end}} {{json .Config.Volumes}}' v2
docker volume ls -q | wc -l | sed 's/^/count: /'
docker rm -v src v2 >/dev/null
docker volume ls -q | wc -l | sed 's/^/after rm -v: /'
docker run -d --name keeper -v notes:/n ${img} sleep 300 >/dev/null
docker volume prune -af | sed 's/^/prune: /'
docker volume ls --format 'left: {{.Name}} {{.Labels}}'
docker volume rm notes 2>&1 | sed 's/^/inuse: /'
docker rm -f keeper >/dev/null
docker system df | grep Volumes | sed 's/^/df: /'
docker run --rm -v kept-etc:/etc ${img} true`);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(tagged(first.stdout, "ro:"), ["sh: can't create /data/g: Read-only file system"]);
  assert.ok(tagged(first.stdout, "copyup:").includes("passwd"), first.stdout);
  assert.deepEqual(tagged(first.stdout, "cp:"), ["via-cp"]);
  assert.ok(Number(tagged(first.stdout, "cpout:")[0]) > 512, "docker cp out of a volume gives a tar");
  assert.deepEqual(tagged(first.stdout, "psvol:"), ["cpto cpvol"]);
  assert.deepEqual(tagged(first.stdout, "rel:"), ["relative"]);
  assert.deepEqual(tagged(first.stdout, "nocopy:"), ["0"]);
  assert.deepEqual(tagged(first.stdout, "from:"), ["from-src"]);
  assert.deepEqual(tagged(first.stdout, "fromro:"), ["touch: /anon/y: Read-only file system"]);
  assert.deepEqual(tagged(first.stdout, "mounts:"), ["volume /anon  true"]);
  assert.deepEqual(tagged(first.stdout, "imgvol:"), ['/state local {"/state":{}}']);
  assert.deepEqual(tagged(first.stdout, "count:"), ["6"]);
  assert.deepEqual(tagged(first.stdout, "after rm -v:"), ["4"]);
  // prune -a: every unused volume (etc, empty), never one a container uses
  assert.deepEqual(tagged(first.stdout, "prune:").filter(Boolean).sort(), ["Deleted Volumes:", "Total reclaimed space: 132B", "cpvol", "empty", "etc"].sort());
  assert.deepEqual(tagged(first.stdout, "left:"), ["notes course=ch5"]);
  assert.match(tagged(first.stdout, "inuse:")[0]!, /^Error response from daemon: remove notes: volume is in use - \[[0-9a-f]{64}\]$/);
  assert.match(tagged(first.stdout, "df:")[0]!, /^Local Volumes\s+1\s+0\s+5B\s+5B \(100%\)$/);

  const second = await berth(`docker volume ls --format 'ls: {{.Name}}'
docker run --rm -v notes:/data ${img} sh -c 'cat /data/f; ls -ln /data | sed 1d' | sed 's/^/read: /'
docker run --rm -v kept-etc:/backup ${img} ls /backup | sed 's/^/copied: /'
docker volume rm kept-etc >/dev/null
docker volume inspect -f 'inspect: {{.Name}} {{.Driver}} {{.Mountpoint}} {{.Labels}}' notes
docker volume rm notes; docker volume ls -q | wc -l | sed 's/^/gone: /'`);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(tagged(second.stdout, "ls:"), ["kept-etc", "notes"]);
  assert.ok(tagged(second.stdout, "copied:").includes("passwd"), "the image's content copied into a volume is kept by the next berth");
  const read = tagged(second.stdout, "read:");
  assert.equal(read[0], "kept");
  assert.match(read[1]!, /^drwxr-xr-x\s+2 1000\s+1000 .* d$/);
  assert.match(read[2]!, /^-rw-r--r--\s+1 0\s+0\s+5 .* f$/);
  assert.match(read[3]!, /^l.* l -> f$/);
  assert.deepEqual(tagged(second.stdout, "inspect:"), ["notes local /var/lib/docker/volumes/notes/_data map[course:ch5]"]);
  assert.deepEqual(tagged(second.stdout, "gone:"), ["0"]);
});

test("--share: the host's directory in the guest and back (owner, mode, symlink, a 5 MB file)", async () => {
  const dir = join(work.dir, "project");
  await mkdir(join(dir, "sub"), { recursive: true });
  await writeFile(join(dir, "index.html"), "<h1>host</h1>\n");
  await chmod(join(dir, "index.html"), 0o640);
  await symlink("index.html", join(dir, "home.html"));
  const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
  await writeFile(join(dir, "big.bin"), big);
  const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");
  const me = await stat(join(dir, "index.html"));
  const out = await berth(`echo "pwd: $(pwd)"
docker run --rm -v "$PWD":/app -w /app ${img} sh -c '
  stat -c "owner: %u %g %a" index.html
  echo "link: $(readlink home.html) $(cat home.html)"
  md5sum big.bin | sed "s/^/md5: /"
  echo made > new.txt; chmod 604 new.txt; ln -s new.txt new-link; mkdir -p out/deep; cp big.bin out/deep/copy.bin; rm -r sub
'`, { args: ["--share", dir], cwd: dir });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "pwd:"), [dir]);
  assert.deepEqual(tagged(out.stdout, "owner:"), [`${me.uid} ${me.gid} 640`]);
  assert.deepEqual(tagged(out.stdout, "link:"), ["index.html <h1>host</h1>"]);
  assert.deepEqual(tagged(out.stdout, "md5:"), [`${md5(big)}  big.bin`]);
  assert.equal(await readFile(join(dir, "new.txt"), "utf8"), "made\n");
  assert.equal((await stat(join(dir, "new.txt"))).mode & 0o777, 0o604);
  assert.equal((await stat(join(dir, "new.txt"))).uid, process.getuid!());
  assert.equal(await readlink(join(dir, "new-link")), "new.txt");
  assert.equal(md5(await readFile(join(dir, "out/deep/copy.bin"))), md5(big));
  await assert.rejects(lstat(join(dir, "sub")));
});

test("bind mounts of guest paths, tmpfs sizes, and Docker's words for bad mounts", async () => {
  const out = await berth(`mkdir -p /root/app && echo guest > /root/app/g
docker run --rm -v /root/app:/app ${img} sh -c 'cat /app/g; echo back > /app/h'; cat /root/app/h | sed 's/^/bind: /'
docker run --rm -v /root/made:/m ${img} true; [ -d /root/made ] && echo "made: yes"
docker run --rm --mount type=bind,src=/root/app,dst=/app,readonly ${img} sh -c 'echo > /app/z' 2>&1 | sed 's/^/bindro: /'
docker run --rm --tmpfs /t:size=1m,mode=1770 ${img} sh -c 'stat -c "%a" /t; df -k /t | tail -1' | sed 's/^/tmpfs: /'
docker run --rm --mount type=tmpfs,dst=/t,tmpfs-size=2m ${img} sh -c 'dd if=/dev/zero of=/t/f bs=1k count=4096 2>&1 | grep -o "No space left on device"' | sed 's/^/full: /'
for a in "-v=" "-v data:app" "-v a:/x:rx" "-v a::b" "--mount type=volume,foo=bar" "--mount type=bind,src=/nope,dst=/x" "-v /x:/"; do
  docker run --rm $a ${img} true 2>&1 | sed -n 1p | sed "s|^|bad: |"; done
docker volume create a/b 2>&1 | sed 's/^/name: /'
docker volume create -o type=tmpfs -o device=tmpfs -o o=size=1m,mode=1777 tmpvol >/dev/null
docker run --rm -v tmpvol:/t ${img} sh -c 'df -k /t | tail -1; echo x > /t/f; ls /t' | sed 's/^/optmp: /'
docker run --rm -v tmpvol:/t ${img} ls /t | wc -l | sed 's/^/optmp-after: /'
docker volume inspect -f '{{json .Options}}' tmpvol | sed 's/^/opts: /'
mkdir -p /root/dev && echo from-dev > /root/dev/d
docker volume create -o type=none -o o=bind -o device=/root/dev devvol >/dev/null
docker run --rm -v devvol:/d ${img} sh -c 'cat /d/d; echo w > /d/w' | sed 's/^/optbind: /'; cat /root/dev/w | sed 's/^/optbind-host: /'
docker volume rm devvol tmpvol | sed 's/^/optrm: /'; [ -f /root/dev/d ] && echo "optkept: yes"
docker volume create -o type=none -o o=bind -o device=/nope nodev >/dev/null
docker run --rm -v nodev:/d ${img} true 2>&1 | sed -n 1p | sed 's/^/optbad: /'
docker create --name zz2 -v nodev:/d ${img} true >/dev/null && docker start zz2 2>&1 | tail -1 | sed 's/^/optstart: /'
docker ps -a --filter name=zz2 --format '{{.Status}}' | sed 's/^/optstate: /'; docker rm zz2 >/dev/null; docker volume rm nodev >/dev/null
docker run --rm --mount type=volume,src=mv,dst=/x,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m ${img} sh -c 'df -k /x | tail -1' | sed 's/^/volopt: /'
docker run --rm --mount type=volume,src=mv2,dst=/x,volume-opt=bogus=1 ${img} true 2>&1 | sed -n 1p | sed 's/^/volopt-bad: /'; docker volume rm mv >/dev/null
before=$(docker volume ls -q | wc -l); docker run --rm -v /anonx ${img} true; echo "rmanon: $before $(docker volume ls -q | wc -l)"
docker run -d --name zz3 ${img} nonexist 2>/tmp/dm; echo "dmissing-status: $?"; sed 's/^/dmissing: /' /tmp/dm; docker rm zz3 >/dev/null
docker volume create -o bogus=1 xx 2>&1 | sed 's/^/optbogus: /'`);
  assert.equal(out.code, 0, out.stderr);
  // the local driver's options: a tmpfs volume (its data gone once no container uses it), a bind to a guest path
  const optmp = tagged(out.stdout, "optmp:");
  assert.match(optmp[0]!, /^tmpfs\s+1024\s/);
  assert.equal(optmp[1], "f");
  assert.deepEqual(tagged(out.stdout, "optmp-after:"), ["0"]);
  assert.deepEqual(JSON.parse(tagged(out.stdout, "opts:")[0]!), { type: "tmpfs", device: "tmpfs", o: "size=1m,mode=1777" });
  assert.deepEqual(tagged(out.stdout, "optbind:"), ["from-dev"]);
  assert.deepEqual(tagged(out.stdout, "optbind-host:"), ["w"]);
  assert.deepEqual(tagged(out.stdout, "optrm:"), ["devvol", "tmpvol"]);
  assert.deepEqual(tagged(out.stdout, "optkept:"), ["yes"]);
  assert.deepEqual(tagged(out.stdout, "optbad:"), ["docker: Error response from daemon: error while mounting volume '/var/lib/docker/volumes/nodev/_data': failed to mount local volume: mount /nope:/var/lib/docker/volumes/nodev/_data, flags: 0x1000: no such file or directory"]);
  assert.deepEqual(tagged(out.stdout, "optbogus:"), ['Error response from daemon: create xx: invalid option: "bogus"']);
  // a volume that cannot be mounted fails the start, not the create (Docker mounts it at the start)
  assert.deepEqual(tagged(out.stdout, "optstart:"), ["Error: failed to start containers: zz2"]);
  assert.match(tagged(out.stdout, "optstate:")[0]!, /^Created/);
  // --mount volume-opt makes the new volume with the local driver's options
  assert.match(tagged(out.stdout, "volopt:")[0]!, /^tmpfs\s+1024\s/);
  assert.deepEqual(tagged(out.stdout, "volopt-bad:"), ['docker: Error response from daemon: create mv2: invalid option: "bogus"']);
  // run --rm answers once its anonymous volume is gone too
  const [before, after] = tagged(out.stdout, "rmanon:")[0]!.split(" ");
  assert.equal(after, before);
  assert.match(out.stdout, /^dmissing-status: 127$/m);
  assert.deepEqual(tagged(out.stdout, "dmissing:"), ["docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"nonexist\": executable file not found in $PATH: unknown", "", "Run 'docker run --help' for more information"]);
  assert.ok(out.stdout.includes("guest\n"));
  assert.deepEqual(tagged(out.stdout, "bind:"), ["back"]);
  assert.deepEqual(tagged(out.stdout, "made:"), ["yes"]);
  assert.deepEqual(tagged(out.stdout, "bindro:"), ["sh: can't create /app/z: Read-only file system"]);
  const tmpfs = tagged(out.stdout, "tmpfs:");
  assert.equal(tmpfs[0], "1770");
  assert.match(tmpfs[1]!, /^tmpfs\s+1024\s/);
  assert.match(tagged(out.stdout, "full:")[0]!, /No space left on device/);
  assert.deepEqual(tagged(out.stdout, "bad:"), [
    "docker: invalid empty volume spec",
    `docker: Error response from daemon: invalid volume specification: 'data:app': invalid mount config for type "volume": invalid mount path: 'app' mount path must be absolute`,
    "docker: Error response from daemon: invalid mode: rx",
    "docker: invalid spec: a::b: empty section between colons",
    `invalid argument "type=volume,foo=bar" for "--mount" flag: unexpected key 'foo' in 'foo=bar'`,
    `docker: Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /nope`,
    `docker: Error response from daemon: invalid volume specification: '/x:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
  ]);
  assert.deepEqual(tagged(out.stdout, "name:"), [`Error response from daemon: create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`]);
});

test("containers and networks survive berth: the next run finds them stopped, with logs, files and names; --restart always starts again", async () => {
  const first = await berth(`docker network create keepnet >/dev/null
docker run --name finished --network keepnet ${img} sh -c 'echo made > /made; rm /etc/motd; echo "log line"'
docker run -d --name always --restart always ${img} sh -c 'echo "always up"; exec sleep 600' >/dev/null
docker run -d --name plain ${img} sleep 600 >/dev/null
docker run -d --rm --name gone ${img} sleep 600 >/dev/null
sleep 1`);
  assert.equal(first.code, 0, first.stderr);
  const second = await berth(`docker ps -a --format 'ps: {{.Names}} {{.Status}}' | sed 's/ [0-9]* seconds\\{0,1\\} ago$//; s/Up .*/Up/'
docker logs finished | sed 's/^/logs: /'
docker diff finished | sed 's/^/diff: /'
docker network ls --format 'net: {{.Name}}' | grep keepnet
docker start -a finished | sed 's/^/again: /'
docker inspect -f 'plain: {{.State.ExitCode}} {{.State.Running}}' plain
docker rm -f finished always plain >/dev/null; docker network rm keepnet >/dev/null`);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(tagged(second.stdout, "ps:").sort(), ["always Up", "finished Exited (0)", "plain Exited (255)"]);
  assert.deepEqual(tagged(second.stdout, "logs:"), ["log line"]);
  assert.deepEqual(tagged(second.stdout, "diff:"), ["C /etc", "D /etc/motd", "A /made"]);
  assert.deepEqual(tagged(second.stdout, "net:"), ["keepnet"]);
  assert.deepEqual(tagged(second.stdout, "again:"), ["log line"]);
  assert.deepEqual(tagged(second.stdout, "plain:"), ["255 false"]);
});
