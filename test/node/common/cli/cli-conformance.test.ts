// The guest docker's words and statuses for what the client decides alone
// (flags, argument counts, option values), table-tested; where the machine has
// Docker's own CLI (the reference, 28.x), every row is also checked against
// what it prints, with a daemon address that does not answer (these checks
// come before any connection). And the generated flag table is Docker's.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parseRunArgs } from "../../../../src/common/api/run-flags.js";
import { cliFailure } from "../../../../src/common/cli/cli-errors.js";
import { commandSpec } from "../../../../src/common/cli/command-spec.js";
import { DOCKER_COMMANDS } from "../../../../src/common/cli/docker-commands.js";
import { parseFlags, requireArgs } from "../../../../src/common/docker-flags.js";
import { parseReference } from "../../../../src/common/reference.js";

const hasDocker = spawnSync("docker", ["--version"]).status === 0;

/** What Berth's CLI prints for argv (the client's own checks only), and its status. */
function berth(argv: string[]): { text: string; status: number } | undefined {
  const group = ["container", "image", "network", "system", "context", "manifest", "volume"].includes(argv[0]!) ? 2 : 1;
  const path = argv.slice(0, group).join(" ");
  const args = argv.slice(group);
  try {
    // references are the client's to check too (docker/cli parses them before asking the daemon)
    if (/^(container )?(run|create)$/.test(path)) parseReference(parseRunArgs(path, args, []).body.Image);
    else {
      const { rest } = parseFlags(args, Object.fromEntries(Object.entries(commandSpec(path)!.flags).map(([k, t]) => [k, t === "bool" ? "bool" : "value"])), path, { interspersed: !["exec", "top"].includes(path) });
      requireArgs(rest, ARGS[path] ?? {}, path);
      if (path === "pull") parseReference(rest[0]!);
    }
  } catch (e) {
    return cliFailure(e, path);
  }
  return undefined;
}

/** The argument counts of the commands in the table (docker/cli's Args rules). */
const ARGS: Record<string, { min?: number; max?: number; exact?: number }> = {
  pull: { exact: 1 }, ps: { exact: 0 }, "container ls": { exact: 0 }, rename: { exact: 2 }, logs: { exact: 1 }, exec: { min: 2 },
  logout: { max: 1 }, port: { min: 1, max: 2 }, stop: { min: 1 }, "network create": { exact: 1 }, "system df": { exact: 0 }, tag: { exact: 2 },
  "volume rm": { min: 1 }, "volume inspect": { min: 1 }, "volume create": { max: 1 }, "volume ls": { exact: 0 }, "volume prune": { exact: 0 },
};

const RUN = "Run 'docker run --help' for more information";
const RUN_USAGE = "Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]";

/** argv → Docker 28.2.2's stderr and status (read off the real CLI). */
const CASES: Array<[string[], string, number]> = [
  [["run", "--bogus", "x"], `unknown flag: --bogus\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run"], `docker: 'docker run' requires at least 1 argument\n\n${RUN_USAGE}\n\nSee 'docker run --help' for more information`, 1],
  [["run", "-p", "8080:abc", "busybox"], `docker: invalid containerPort: abc\n\n${RUN}`, 125],
  [["run", "-p", "abc:80", "busybox"], `docker: invalid hostPort: abc\n\n${RUN}`, 125],
  [["run", "-p", "80/xyz", "busybox"], `docker: invalid proto: xyz\n\n${RUN}`, 125],
  [["run", "-p", "1.2.3:80:80", "busybox"], `docker: invalid IP address: 1.2.3\n\n${RUN}`, 125],
  [["run", "-p", "8080-8082:80-81", "busybox"], `docker: invalid ranges specified for container and host Ports: 80-81 and 8080-8082\n\n${RUN}`, 125],
  [["run", "-e", "=x", "busybox"], `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--memory", "1x", "busybox"], `invalid argument "1x" for "-m, --memory" flag: invalid suffix: 'x'\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "-m", "-1", "busybox"], `invalid argument "-1" for "-m, --memory" flag: invalid size: '-1'\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--shm-size", "-5", "busybox"], `invalid argument "-5" for "--shm-size" flag: invalid size: '-5'\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--pids-limit", "lots", "busybox"], `invalid argument "lots" for "--pids-limit" flag: strconv.ParseInt: parsing "lots": invalid syntax\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--health-interval", "5", "busybox"], `invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--ulimit", "nofile", "busybox"], `invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--rm", "--restart", "always", "busybox"], `docker: conflicting options: cannot specify both --restart and --rm\n\n${RUN}`, 125],
  [["run", "--pull", "bogus", "busybox"], `docker: invalid pull option: 'bogus': must be one of "always", "missing" or "never"\n\n${RUN}`, 125],
  [["create", "-p", "8080:abc", "busybox"], "docker: invalid containerPort: abc\n\nRun 'docker create --help' for more information", 125],
  [["container", "run", "-x", "busybox"], "unknown shorthand flag: 'x' in -x\n\nUsage:  docker container run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'docker container run --help' for more information", 125],
  [["pull"], "docker: 'docker pull' requires 1 argument\n\nUsage:  docker pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nRun 'docker pull --help' for more information", 1],
  [["ps", "x"], "docker: 'docker ps' accepts no arguments\n\nUsage:  docker ps [OPTIONS]\n\nRun 'docker ps --help' for more information", 1],
  [["ps", "-x"], "unknown shorthand flag: 'x' in -x\n\nUsage:  docker ps [OPTIONS]\n\nRun 'docker ps --help' for more information", 125],
  [["container", "ls", "x"], "docker: 'docker container ls' accepts no arguments\n\nUsage:  docker container ls [OPTIONS]\n\nRun 'docker container ls --help' for more information", 1],
  [["rename", "a"], "docker: 'docker rename' requires 2 arguments\n\nUsage:  docker rename CONTAINER NEW_NAME\n\nRun 'docker rename --help' for more information", 1],
  [["logout", "a", "b"], "docker: 'docker logout' requires at most 1 argument\n\nUsage:  docker logout [SERVER]\n\nSRun 'docker logout --help' for more information", 1],
  [["port"], "docker: 'docker port' requires at least 1 and at most 2 arguments\n\nUsage:  docker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'docker port --help' for more information", 1],
  [["exec", "c"], "docker: 'docker exec' requires at least 2 arguments\n\nUsage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'docker exec --help' for more information", 1],
  [["stop", "-t", "abc", "x"], "invalid argument \"abc\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\n\nUsage:  docker stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'docker stop --help' for more information", 125],
  [["network", "create", "--bogus"], "unknown flag: --bogus\n\nUsage:  docker network create [OPTIONS] NETWORK\n\nRun 'docker network create --help' for more information", 125],
  [["system", "df", "-x"], "unknown shorthand flag: 'x' in -x\n\nUsage:  docker system df [OPTIONS]\n\nRun 'docker system df --help' for more information", 125],
  [["ps", "--filter", "x"], "invalid argument \"x\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n\nUsage:  docker ps [OPTIONS]\n\nRun 'docker ps --help' for more information", 125],
  [["run", "--mac-address", "xx", "busybox"], `docker: xx is not a valid mac address\n\n${RUN}`, 125],
  [["run", "--ulimit", "nofile=1:x", "busybox"], `invalid argument "nofile=1:x" for "--ulimit" flag: strconv.ParseInt: parsing "x": invalid syntax\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--ulimit", "bogus=1", "busybox"], `invalid argument "bogus=1" for "--ulimit" flag: invalid ulimit type: bogus\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--ulimit", "nofile=2:1", "busybox"], `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["pull", "Bad:Ref"], "invalid reference format: repository name (library/Bad) must be lowercase", 1],
  [["pull", "a:b:c"], "invalid reference format", 1],
  [["run", "Bad:x"], `docker: invalid reference format: repository name (library/Bad) must be lowercase\n\n${RUN}`, 125],
  [["run", "--mount", "type=tmpfs,dst=/x,tmpfs-size=abc", "busybox"], `invalid argument "type=tmpfs,dst=/x,tmpfs-size=abc" for "--mount" flag: invalid value for tmpfs-size: abc\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--mount", "src=x", "busybox"], `invalid argument "src=x" for "--mount" flag: target is required\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--mount", "type=bind,dst=/x,volume-nocopy", "busybox"], `invalid argument "type=bind,dst=/x,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'bind'\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--mount", "garbage", "busybox"], `invalid argument "garbage" for "--mount" flag: invalid field 'garbage' must be a key=value pair\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["run", "--mount", "type=volume,dst=/x,readonly=maybe", "busybox"], `invalid argument "type=volume,dst=/x,readonly=maybe" for "--mount" flag: invalid value for readonly: maybe\n\n${RUN_USAGE}\n\n${RUN}`, 125],
  [["volume", "rm"], "docker: 'docker volume rm' requires at least 1 argument\n\nUsage:  docker volume rm [OPTIONS] VOLUME [VOLUME...]\n\nSee 'docker volume rm --help' for more information", 1],
  [["volume", "create", "a", "b"], "docker: 'docker volume create' requires at most 1 argument\n\nUsage:  docker volume create [OPTIONS] [VOLUME]\n\nSRun 'docker volume create --help' for more information", 1],
  [["volume", "ls", "x"], "docker: 'docker volume ls' accepts no arguments\n\nUsage:  docker volume ls [OPTIONS]\n\nRun 'docker volume ls --help' for more information", 1],
  [["volume", "create", "--bogus"], "unknown flag: --bogus\n\nUsage:  docker volume create [OPTIONS] [VOLUME]\n\nRun 'docker volume create --help' for more information", 125],
  [["logs", "--tail"], "flag needs an argument: --tail\n\nUsage:  docker logs [OPTIONS] CONTAINER\n\nRun 'docker logs --help' for more information", 125],
];

test("the client's own checks: Docker's text and status for each row", () => {
  for (const [argv, text, status] of CASES) assert.deepEqual(berth(argv), { text, status }, argv.join(" "));
});

test("the table's rows are what Docker's CLI prints (when the machine has it)", { skip: !hasDocker && "no docker CLI on this machine" }, () => {
  for (const [argv, text, status] of CASES) {
    const r = spawnSync("docker", argv, { encoding: "utf8", env: { ...process.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" }, input: "" });
    assert.deepEqual({ text: r.stderr.replace(/\n$/, ""), status: r.status }, { text, status }, `docker ${argv.join(" ")}`);
  }
});

test("every flag of Docker's commands is known: the generated table matches this machine's docker", { skip: !hasDocker && "no docker CLI on this machine" }, () => {
  const script = fileURLToPath(new URL("../../../../../scripts/docker-commands.mjs", import.meta.url));
  const version = /Docker version ([^,\s]+)/.exec(execFileSync("docker", ["--version"], { encoding: "utf8" }))?.[1] ?? "";
  if (!version.startsWith("28.")) return; // the table follows docker 28; another major version is not the reference
  const r = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("the flags courses use are accepted for run (implemented or refused by the daemon, never 'unknown flag')", () => {
  const flags = DOCKER_COMMANDS["run"]!.flags;
  for (const f of ["expose", "device", "cpuset-cpus", "ulimit", "shm-size", "sysctl", "group-add", "memory-reservation", "oom-kill-disable", "pid", "ipc", "uts", "cidfile", "label-file", "log-driver", "log-opt", "health-cmd", "mac-address", "runtime", "cgroupns", "userns", "isolation", "gpus"]) {
    assert.ok(Object.keys(flags).some((k) => k.split(",").at(-1) === f), f);
  }
  const body = parseRunArgs("run", ["--expose", "8080", "--ulimit", "nofile=100:200", "--sysctl", "net.ipv4.ip_forward=1", "--group-add", "10", "--pid", "host", "--gpus", "all", "--cpuset-cpus", "0", "--shm-size", "128m", "busybox"], []).body;
  assert.deepEqual(body.ExposedPorts, { "8080/tcp": {} });
  const h = body.HostConfig!;
  assert.deepEqual([h.Ulimits, h.Sysctls, h.GroupAdd, h.PidMode, h.CpusetCpus, h.ShmSize], [[{ Name: "nofile", Soft: 100, Hard: 200 }], { "net.ipv4.ip_forward": "1" }, ["10"], "host", "0", 128 * 1024 * 1024]);
  assert.deepEqual(h.DeviceRequests, [{ Driver: "", Count: -1, Capabilities: [["gpu"]] }]);
  assert.equal(parseRunArgs("run", ["-m", "64m", "--memory-swap", "-1", "busybox"], []).body.HostConfig!.MemorySwap, -1, "--memory-swap -1 is unlimited swap, as docker/cli's MemSwapBytes takes it");
});
