// docker run/create arguments to Docker's create request, with no VM: the
// body the real docker CLI would send, and its flag errors in Docker's words.
import { cliFailure } from "../../../../src/common/cli/cli-errors.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRunArgs } from "../../../../src/common/api/run-flags.js";
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

test("wrong flags: Docker's words and statuses, as docker 28 prints them for run", () => {
  const run = "Run 'docker run --help' for more information";
  const usage = "Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]";
  const bad: Array<[string[], string, number]> = [
    [["--bogus", "busybox"], `unknown flag: --bogus\n\n${usage}\n\n${run}`, 125],
    [[], `docker: 'docker run' requires at least 1 argument\n\n${usage}\n\nSee 'docker run --help' for more information`, 1],
    [["--rm", "--restart", "always", "busybox"], `docker: conflicting options: cannot specify both --restart and --rm\n\n${run}`, 125],
    [["--pids-limit", "lots", "busybox"], `invalid argument "lots" for "--pids-limit" flag: strconv.ParseInt: parsing "lots": invalid syntax\n\n${usage}\n\n${run}`, 125],
    [["-m", "12x", "busybox"], `invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'\n\n${usage}\n\n${run}`, 125],
    [["-e", "=x", "busybox"], `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x\n\n${usage}\n\n${run}`, 125],
    [["-p", "8080:abc", "busybox"], `docker: invalid containerPort: abc\n\n${run}`, 125],
  ];
  for (const [args, text, status] of bad) {
    let thrown: unknown;
    try {
      parseRunArgs("run", args, []);
    } catch (e) {
      thrown = e;
    }
    assert.deepEqual(cliFailure(thrown, "run"), { text, status }, args.join(" "));
  }
  assert.throws(() => parseRunArgs("run", ["--network-alias", "x", "busybox"], []), (e: BerthError) => /network-scoped alias is supported only for containers in user defined networks/.test(e.message));
});
