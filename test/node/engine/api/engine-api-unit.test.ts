// The Engine API's pure parts, table-tested with no VM: routing and versions,
// Docker's error shapes, query parameters, ps filters, runtime error words,
// progress lines, -H addresses.
import assert from "node:assert/strict";
import { test } from "node:test";
import { messageLine, progressBar } from "../../../../src/common/api/json-message.js";
import { newState, Status } from "../../../../src/common/container-state.js";
import { BerthError, ErrorCode } from "../../../../src/common/errors.js";
import { boolParam, frame, json } from "../../../../src/engine/api/api-types.js";
import { filtersParam } from "../../../../src/engine/api/container-routes.js";
import { execFailure, runtimeError } from "../../../../src/engine/containers/runtime-error.js";
import { ApiRouter, dockerMessage, errorReply, route } from "../../../../src/engine/api/router.js";
import type { Container } from "../../../../src/engine/containers/containers.js";
import { listContainers } from "../../../../src/engine/daemon/container-list.js";
import { ImageStore } from "../../../../src/engine/images/images.js";
import { parseHost } from "../../../../src/node/daemon-server.js";
import { BERTH_VERSION } from "../../../../src/common/version.js";
import { packageRoot } from "../../../../src/node/guest-files.js";
import { readFileSync } from "node:fs";

const enc = new TextEncoder();
const call = (r: ApiRouter, method: string, target: string, body = "") => r.handle({ method, target, headers: {}, body: enc.encode(body) });

test("the router strips /v1.NN, refuses versions out of range in Docker's words, 404s and 405s", async () => {
  const seen: string[] = [];
  const r = new ApiRouter([
    route("GET", "/containers/{id}/json", (req, [id]) => {
      seen.push(`${req.version} ${id}`);
      return json({ Id: id });
    }),
    route("GET", "/images/{name*}/json", (_req, [name]) => json({ name })),
    route("POST", "/boom", () => {
      throw new TypeError("a bug");
    }),
  ]);
  assert.deepEqual(await call(r, "GET", "/v1.41/containers/abc/json"), json({ Id: "abc" }));
  assert.deepEqual(await call(r, "GET", "/containers/abc/json"), json({ Id: "abc" }));
  assert.deepEqual(seen, ["1.41 abc", "1.47 abc"]);
  assert.deepEqual(await call(r, "GET", "/v1.47/images/127.0.0.1:5000/test/busybox:latest/json"), json({ name: "127.0.0.1:5000/test/busybox:latest" }));
  assert.deepEqual(await call(r, "GET", "/v1.48/containers/a/json"), json({ message: "client version 1.48 is too new. Maximum supported API version is 1.47" }, 400));
  assert.deepEqual(await call(r, "GET", "/v1.12/containers/a/json"), json({ message: "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version" }, 400));
  assert.deepEqual(await call(r, "GET", "/nope"), json({ message: "page not found" }, 404));
  assert.deepEqual(await call(r, "DELETE", "/containers/a/json"), json({ message: "method not allowed" }, 405));
  assert.deepEqual(await call(r, "POST", "/boom"), json({ message: "a bug" }, 500), "a handler's bug is a 500, not a crash");
  assert.deepEqual(await call(r, "GET", "/containers/%E0%A4%A/json"), json({ message: "invalid path: /containers/%E0%A4%A/json" }, 400));
});

test("errors carry Docker's status and Docker's part of the message", () => {
  const cases: Array<[BerthError, number, string]> = [
    [new BerthError(ErrorCode.containerNotFound, 'Cannot find container "x": No such container: x'), 404, "No such container: x"],
    [new BerthError(ErrorCode.imageNotFound, "Cannot create the container: No such image: busybox:latest"), 404, "No such image: busybox:latest"],
    [new BerthError(ErrorCode.nameInUse, 'Cannot create container "/web": Conflict. The container name "/web" is already in use'), 409, 'Conflict. The container name "/web" is already in use'],
    [new BerthError(ErrorCode.containerWrongState, "Cannot kill container: web: container abc is not running"), 409, "web: container abc is not running"],
    [new BerthError(ErrorCode.usage, "Cannot list containers: invalid filter 'bogus'"), 400, "invalid filter 'bogus'"],
    [new BerthError(ErrorCode.registryError, "no colon here"), 500, "no colon here"],
  ];
  for (const [e, status, message] of cases) {
    assert.deepEqual(errorReply(e), json({ message }, status), e.message);
    assert.equal(dockerMessage(e), message);
  }
});

test("query parameters: Docker's booleans and both forms of filters", () => {
  const q = new URLSearchParams("a=1&b=true&c=True&d=0&e=false&f=");
  assert.deepEqual(["a", "b", "c", "d", "e", "f", "g"].map((k) => boolParam(q, k)), [true, true, true, false, false, false, false]);
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"status":["exited","created"],"label":["a=b"]}' })), { status: ["exited", "created"], label: ["a=b"] });
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"status":{"running":true,"paused":false}}' })), { status: ["running"] });
  assert.throws(() => filtersParam(new URLSearchParams({ filters: "{nope" })), (e: BerthError) => e.code === ErrorCode.invalidParameter);
});

test("docker ps filters: status implies -a, one key's values are OR'ed, keys AND'ed, bad ones refused", () => {
  const mk = (id: string, name: string, status: string, created: number, exitCode = 0, labels: Record<string, string> = {}): Container =>
    ({ id, name, created, state: { ...newState(), status, exitCode }, config: { labels, image: "busybox", imageId: "sha256:1" }, hostConfig: { networks: ["bridge"], networkMode: "bridge" } }) as unknown as Container;
  const all = [mk("a1", "web", Status.running, 3, 0, { tier: "front" }), mk("b2", "db", Status.exited, 2, 3), mk("c3", "new", Status.created, 1)];
  const images = new ImageStore();
  const names = (q: Parameters<typeof listContainers>[2]): string[] => listContainers(all, images, q).map((c) => c.name);
  assert.deepEqual(names({}), ["web"]);
  assert.deepEqual(names({ all: true }), ["web", "db", "new"]);
  assert.deepEqual(names({ filters: { status: ["exited"] } }), ["db"], "a status filter implies -a");
  assert.deepEqual(names({ filters: { status: ["created", "running"] } }), ["web", "new"], "values of one key are OR'ed");
  assert.deepEqual(names({ all: true, filters: { status: ["running", "exited"], name: ["d"] } }), ["db"], "keys are AND'ed");
  assert.deepEqual(names({ filters: { exited: ["3"] } }), ["db"]);
  assert.deepEqual(names({ all: true, filters: { label: ["tier=front"] } }), ["web"]);
  assert.deepEqual(names({ all: true, filters: { label: ["tier=front", "tier=back"] } }), [], "every label must match");
  assert.deepEqual(names({ limit: 2 }), ["web", "db"], "-n shows every state");
  assert.deepEqual(names({ all: true, filters: { before: ["web"] } }), ["db", "new"]);
  // moby 28.2.2's words (daemon/list.go)
  const bad: Array<[Record<string, string[]>, string]> = [
    [{ status: ["bogus"] }, "invalid filter 'status=bogus': invalid value for state (bogus): must be one of created, running, paused, restarting, removing, exited, dead"],
    [{ exited: ["abc"] }, "invalid filter 'exited=abc': strconv.Atoi: parsing \"abc\": invalid syntax"],
    [{ health: ["ok"] }, "invalid filter 'health=ok': invalid value for health (ok): must be one of none, starting, healthy, unhealthy"],
    [{ colour: ["red"] }, "invalid filter 'colour'"],
    [{ publish: ["80:80"] }, "filter for 'publish' should not contain ':': 80:80"],
  ];
  for (const [filters, words] of bad) {
    assert.throws(() => listContainers(all, images, { filters }), (e: BerthError) => e.code === ErrorCode.invalidParameter && e.message.endsWith(words), words);
  }
  assert.throws(() => listContainers(all, images, { filters: { before: ["nosuch"] } }), (e: BerthError) => e.code === ErrorCode.containerNotFound);
  assert.deepEqual(names({ all: true, filters: { health: ["none"] } }), ["web", "db", "new"], "no health checks: every container's health is none");
});

test("crun's start failures in Docker's runtime words (the docker CLI picks 127/126 from them)", () => {
  assert.equal(runtimeError('Cannot start container "x": executable file `nosuch` not found in $PATH: No such file or directory'), 'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown');
  assert.match(runtimeError('Cannot start container "x": exec `/etc/passwd`: Permission denied'), /exec: "\/etc\/passwd": permission denied: unknown$/);
  assert.equal(runtimeError('Cannot start container "x": something else'), "something else");
  assert.match(runtimeError('Cannot start container "x": open executable: Permission denied', "/etc/passwd"), /exec: "\/etc\/passwd": permission denied: unknown$/, "the command named when crun's words do not");
  assert.match(runtimeError('Cannot start container "x": open executable: Operation not permitted', "/"), /exec: "\/": is a directory: unknown$/);
  // crun exec's complaints in runc exec's words, with the status the docker CLI exits with
  const pre = "OCI runtime exec failed: exec failed: unable to start container process";
  assert.deepEqual(execFailure("executable file `nosuch` not found in $PATH: No such file or directory", "nosuch"), { message: `${pre}: exec: "nosuch": executable file not found in $PATH: unknown`, code: 127 });
  assert.deepEqual(execFailure("exec `/etc/passwd`: Permission denied", "/etc/passwd"), { message: `${pre}: exec: "/etc/passwd": permission denied: unknown`, code: 126 });
  assert.deepEqual(execFailure("open executable: Operation not permitted", "/"), { message: `${pre}: exec: "/": is a directory: unknown`, code: 126 });
  assert.deepEqual(execFailure("chdir `/nonexist`: No such file or directory", "true"), { message: `${pre}: chdir to cwd ("/nonexist") set in config.json failed: no such file or directory: unknown`, code: 127 });
  assert.equal(execFailure("something else", "x"), undefined);
});

test("progress messages print as Docker's CLI prints them off a terminal; bars only on one", () => {
  assert.equal(messageLine({ status: "Pulling from library/busybox", id: "latest" }), "latest: Pulling from library/busybox\n");
  assert.equal(messageLine({ status: "Pull complete", progressDetail: {}, id: "abc123def456" }), "abc123def456: Pull complete\n");
  assert.equal(messageLine({ status: "Downloading", progressDetail: { current: 1, total: 2 }, progress: progressBar(1, 2), id: "abc" }), undefined);
  assert.equal(messageLine({ status: "Digest: sha256:00" }), "Digest: sha256:00\n");
  assert.equal(messageLine({ error: "x", errorDetail: { message: "x" } }), undefined);
  assert.equal(progressBar(1_200_000, 2_400_000), `[${"=".repeat(24)}>${" ".repeat(25)}] 1.2MB/2.4MB`);
});

test("stdcopy frames: stream byte, three zeros, big-endian length", () => {
  assert.deepEqual([...frame(2, enc.encode("hi"))], [2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

test("-H addresses as Docker's daemon takes them", () => {
  assert.deepEqual(parseHost("unix:///run/x.sock"), { kind: "unix", path: "/run/x.sock" });
  assert.deepEqual(parseHost("tcp://127.0.0.1:2375"), { kind: "tcp", host: "127.0.0.1", port: 2375 });
  assert.deepEqual(parseHost("tcp://[::1]:2375"), { kind: "tcp", host: "::1", port: 2375 });
  for (const bad of ["unix://relative.sock", "tcp://127.0.0.1", "http://x:1", "fd://", "tcp://h:99999"]) {
    assert.throws(() => parseHost(bad), (e: BerthError) => e.code === ErrorCode.usage, bad);
  }
});

test("the version the API reports is package.json's", () => {
  assert.equal(BERTH_VERSION, (JSON.parse(readFileSync(`${packageRoot}/package.json`, "utf8")) as { version: string }).version);
});

test("docker ps --filter publish/expose: a published host port, or a container port (moby's portOp, ranges too)", () => {
  const mk = (name: string, ports: Array<[number, number]>, exposed: string[]): Container =>
    ({ id: name, name, created: 1, state: { ...newState(), status: Status.running }, ports: ports.map(([hostPort, containerPort]) => ({ hostIp: "", hostPort, containerPort, proto: "tcp" })), config: { labels: {}, image: "busybox", imageId: "sha256:1" }, hostConfig: { networks: [], networkMode: "bridge", exposed } }) as unknown as Container;
  const all = [mk("web", [[8080, 80]], ["80/tcp"]), mk("db", [], ["5432/tcp"])];
  const names = (filters: Record<string, string[]>): string[] => listContainers(all, new ImageStore(), { filters }).map((c) => c.name);
  assert.deepEqual(names({ publish: ["8080"] }), ["web"]);
  assert.deepEqual(names({ publish: ["80"] }), [], "publish is the host's port");
  assert.deepEqual(names({ expose: ["5000-6000/tcp"] }), ["db"]);
  assert.deepEqual(names({ expose: ["80", "5432"] }), ["web", "db"]);
});
