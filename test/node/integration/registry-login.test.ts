// docker login/logout against Debian's docker-registry in htpasswd mode on
// 127.0.0.1, and docker pull -a: the credentials stay in the engine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { berthSh, tagged } from "../../helpers/berth.js";
import { tempDir } from "../../helpers/guest.js";
import { buildFixtures, pushImage } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { startTokenServer, type TokenServer } from "../../helpers/token-server.js";

let locked: TestRegistry;
let open: TestRegistry;
let snapshots: { dir: string; remove: () => Promise<void> };
let tokenDir: { dir: string; remove: () => Promise<void> };
let tokens: TokenServer;
let tokenAuth: TestRegistry;

before(async () => {
  // htpasswd (apache2-utils) makes the bcrypt line docker-registry wants
  const line = execFileSync("htpasswd", ["-nbB", "student", "s3cret"]).toString().trim();
  locked = await startRegistry({ htpasswd: `${line}\n` });
  open = await startRegistry();
  const fixtures = await buildFixtures();
  const busybox = fixtures.find((f) => f.repository === "test/busybox")!;
  await pushImage(locked.url, busybox, { authorization: `Basic ${btoa("student:s3cret")}` });
  for (const f of fixtures) await pushImage(open.url, f);
  // a second tag of the layered image, for pull -a
  const layered = fixtures.find((f) => f.repository === "test/layered")!;
  await pushImage(open.url, { ...layered, tag: "v2" });
  snapshots = await tempDir("berth-login-");
  // docker-registry in token-auth mode: anonymous pulls of test/busybox, test/layered for logged-in users only
  tokenDir = await tempDir("berth-token-");
  tokens = await startTokenServer(tokenDir.dir, { users: { student: "s3cret" }, publicRepos: ["test/busybox"] });
  tokenAuth = await startRegistry({ token: tokens });
  for (const f of fixtures.filter((f) => ["test/busybox", "test/layered"].includes(f.repository))) {
    await pushImage(tokenAuth.url, f, { authorization: `Bearer ${tokens.sign(f.repository, ["pull", "push"])}` });
  }
});
after(async () => {
  await tokenAuth?.stop();
  await tokens?.stop();
  await tokenDir?.remove();
  await locked?.stop();
  await open?.stop();
  await snapshots?.remove();
});

test("docker login to an htpasswd registry, pull, logout; a wrong password is refused", async () => {
  const r = locked.host;
  const out = await berthSh(snapshots.dir, `docker pull -q ${r}/test/busybox; echo "anonymous: $?"
docker login -u student -p wrong ${r}; echo "wrong: $?"
echo s3cret | docker login -u student --password-stdin ${r}; echo "login: $?"
docker pull -q ${r}/test/busybox | sed 's/^/pulled: /'
docker run --rm ${r}/test/busybox echo ran | sed 's/^/run: /'
docker logout ${r}; echo "logout: $?"
docker pull -q --platform linux/386 ${r}/test/busybox:nope; echo "after logout: $?"`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "anonymous:"), ["1"]);
  assert.match(out.stderr, /^Error response from daemon: /m);
  assert.deepEqual(tagged(out.stdout, "wrong:"), ["1"]);
  assert.match(out.stderr, /^Error response from daemon: .*unauthorized: incorrect username or password$/m);
  assert.match(out.stderr, /WARNING! Using --password via the CLI is insecure/);
  assert.deepEqual(tagged(out.stdout, "Login"), ["Succeeded"]);
  assert.deepEqual(tagged(out.stdout, "login:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "pulled:"), [`${r}/test/busybox:latest`]);
  assert.deepEqual(tagged(out.stdout, "run:"), ["ran"]);
  assert.deepEqual(tagged(out.stdout, "Removing"), [`login credentials for ${r}`]);
  assert.deepEqual(tagged(out.stdout, "after logout:"), ["1"]);
  assert.doesNotMatch(out.stdout + out.stderr, /s3cret/);
});

test("a token-auth registry: anonymous pull tokens, docker login, scoped refusals", async () => {
  const r = tokenAuth.host;
  const out = await berthSh(snapshots.dir, `docker pull -q ${r}/test/busybox; echo "public: $?"
docker pull -q ${r}/test/layered:v1; echo "private anonymous: $?"
docker login -u student -p nope ${r}; echo "wrong: $?"
echo s3cret | docker login -u student --password-stdin ${r}; echo "login: $?"
docker run --rm ${r}/test/layered:v1 | sed 's/^/run: /'
docker logout ${r} >/dev/null; docker pull -q ${r}/test/layered:v1 2>/dev/null; echo "after logout: $?"`);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(tagged(out.stdout, "public:"), ["0"], out.stderr);
  assert.deepEqual(tagged(out.stdout, "private anonymous:"), ["1"]);
  assert.match(out.stderr, /^Error response from daemon: pull access denied for [^\n]*test\/layered, repository does not exist or may require 'docker login': /m);
  assert.deepEqual(tagged(out.stdout, "wrong:"), ["1"]);
  assert.deepEqual(tagged(out.stdout, "login:"), ["0"]);
  assert.deepEqual(tagged(out.stdout, "run:"), ["from the upper layer"]);
  assert.deepEqual(tagged(out.stdout, "after logout:"), ["1"]);
  // the token server saw anonymous requests for the pull scope, and the user's after login
  assert.ok(tokens.log.some((l) => !l.user && l.scope === "repository:test/busybox:pull"));
  assert.ok(tokens.log.some((l) => l.user === "student" && l.scope === "repository:test/layered:pull"));
  assert.doesNotMatch(out.stdout + out.stderr, /s3cret/);
});

test("docker pull -a pulls every tag", async () => {
  const r = open.host;
  const out = await berthSh(snapshots.dir, `docker pull -a -q ${r}/test/layered | sed 's/^/pulled: /'
docker images --format '{{.Tag}}' ${r}/test/layered | sort | sed 's/^/tag: /'
docker pull -a ${r}/test/layered:v1; echo "with tag: $?"`);
  assert.deepEqual(tagged(out.stdout, "pulled:"), [`${r}/test/layered:v1`, `${r}/test/layered:v2`]);
  assert.deepEqual(tagged(out.stdout, "tag:"), ["v1", "v2"]);
  assert.deepEqual(tagged(out.stdout, "with tag:"), ["1"], "a client-side check of docker pull: the message, exit 1 (Docker 28)");
  assert.match(out.stderr, /tag can't be used with --all-tags\/-a/);
});

test("docker search: a private registry's catalog, filtered by the term", async () => {
  const r = open.host;
  const out = await berthSh(snapshots.dir, `docker search ${r}/lay; docker search --format '{{.Name}}' ${r}/test/ | sort | sed 's/^/name: /'; docker search --limit 0 x; echo "limit: $?"`);
  const lines = out.stdout.split("\n");
  assert.match(lines[0]!, /^NAME +DESCRIPTION +STARS +OFFICIAL$/);
  assert.match(lines[1]!, new RegExp(`^${r.replace(/\./g, "\\.")}/test/layered +0$`));
  assert.deepEqual(tagged(out.stdout, "name:"), [`${r}/test/busybox`, `${r}/test/layered`, `${r}/test/multi`, `${r}/test/no386`, `${r}/test/zstd`]);
  assert.deepEqual(tagged(out.stdout, "limit:"), ["1"]);
});
