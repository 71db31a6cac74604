// docker run/create arguments to Docker's create request, with no VM: the
// body the real docker CLI would send, and its flag errors in Docker's words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRunArgs } from "../../../../src/common/api/run-flags.js";
import { isFlagError } from "../../../../src/common/docker-flags.js";
import type { BerthError } from "../../../../src/common/errors.js";

test("flags become Docker's create body: Config and HostConfig with Docker's names and units", () => {
  const r = parseRunArgs("run", ["-d", "--name", "web", "-e", "A=1", "-e", "HOME", "-p", "8080:80", "-p", "53:53/udp", "-m", "64m", "--cpus", "1.5",
    "--restart", "on-failure:3", "-l", "tier=front", "--network", "appnet", "--network-alias", "api", "-w", "/srv", "-u", "1000:1000", "-it",
    "--entrypoint", "/bin/sh", "--tmpfs", "/run:size=1m", "--add-host", "db:10.0.0.2", "busybox", "-c", "echo hi"], ["HOME=/home/me", "PATH=/bin"]);
  assert.equal(r.name, "web");
  assert.equal(r.pull, "missing");
  assert.deepEqual(r.platform, { os: "linux", architecture: "386" });
  const b = r.body;
  assert.equal(b.Image, "busybox");
  assert.deepEqual(b.Cmd, ["-c", "echo hi"]);
  assert.deepEqual(b.Entrypoint, ["/bin/sh"]);
  assert.deepEqual(b.Env, ["A=1", "HOME=/home/me"], "-e NAME takes the client's value");
  assert.deepEqual([b.Tty, b.OpenStdin, b.WorkingDir, b.User], [true, true, "/srv", "1000:1000"]);
  assert.deepEqual(b.Labels, { tier: "front" });
  const h = b.HostConfig!;
  assert.deepEqual(h.PortBindings, { "80/tcp": [{ HostIp: "", HostPort: "8080" }], "53/udp": [{ HostIp: "", HostPort: "53" }] });
  assert.deepEqual([h.Memory, h.NanoCpus], [64 * 1024 * 1024, 1_500_000_000]);
  assert.deepEqual(h.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
  assert.deepEqual([h.NetworkMode, h.Tmpfs, h.ExtraHosts], ["appnet", { "/run": "size=1m" }, ["db:10.0.0.2"]]);
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { appnet: { Aliases: ["api"] } } });
  assert.equal(parseRunArgs("create", ["busybox"], []).body.HostConfig!.NetworkMode, "default");
  assert.equal(parseRunArgs("run", ["--pull", "never", "--platform", "linux/386", "busybox"], []).pull, "never");
});

test("wrong flags: Docker's words, as the CLI's own check (docker: …, exit 125)", () => {
  const bad: Array<[string[], RegExp]> = [
    [["--bogus", "busybox"], /^unknown flag: --bogus\nSee 'docker run --help'\.$/],
    [[], /^"docker run" requires at least 1 argument\./],
    [["--rm", "--restart", "always", "busybox"], /^conflicting options: cannot specify both --restart and --rm$/],
    [["--pids-limit", "lots", "busybox"], /^invalid argument "lots" for "--pids-limit" flag/],
    [["--add-host", "db", "busybox"], /^invalid argument "db" for "--add-host" flag/],
    [["-m", "12x", "busybox"], /invalid argument "12x" for "-m, --memory" flag/],
  ];
  for (const [args, words] of bad) {
    assert.throws(() => parseRunArgs("run", args, []), (e: BerthError) => isFlagError(e) && words.test(e.message), args.join(" "));
  }
  assert.throws(() => parseRunArgs("run", ["--network-alias", "x", "busybox"], []), (e: BerthError) => /network-scoped alias is supported only for containers in user defined networks/.test(e.message));
});
