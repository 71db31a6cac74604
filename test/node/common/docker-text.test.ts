// Docker's words and layouts, table-driven: go templates, flags, the STATUS
// column, sizes and durations, restart policies, capabilities.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newState, parseRestartPolicy, shouldRestart, statusText, Status } from "../../../src/common/container-state.js";
import { isFlagError, parseBytes, parseFlags } from "../../../src/common/docker-flags.js";
import { columns, ellipsis, humanDuration, humanSize, rfc3339Nano } from "../../../src/common/docker-format.js";
import { renderTemplate } from "../../../src/common/go-template.js";
import { VALID_NAME, generateName } from "../../../src/common/names.js";
import { capabilities } from "../../../src/common/oci-spec.js";

const data = {
  Name: "/web",
  State: { Status: "running", ExitCode: 0, Running: true },
  Config: { Cmd: ["sleep", "300"], Env: ["A=1", "B=2"], Labels: { app: "web", "com.example.tier": "front" } },
  Mounts: [{ Source: "/a", Destination: "/b" }, { Source: "/c", Destination: "/d" }],
  Empty: [],
};

test("go templates: the forms people put in --format", () => {
  const cases: Array<[string, string]> = [
    ["{{.State.Status}}", "running"],
    ["{{.Name}} {{.State.ExitCode}}", "/web 0"],
    ["{{json .Config.Cmd}}", '["sleep","300"]'],
    ["{{json .State}}", '{"Status":"running","ExitCode":0,"Running":true}'],
    ['{{index .Config.Labels "com.example.tier"}}', "front"],
    ["{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/a:/b /c:/d "],
    ["{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}", "0=/b;1=/d;"],
    ["{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "app=web,com.example.tier=front,"],
    ["{{range .Empty}}x{{else}}none{{end}}", "none"],
    ["{{if .State.Running}}up{{else}}down{{end}}", "up"],
    ['{{if eq .State.Status "exited"}}a{{else if eq .State.Status "running"}}b{{else}}c{{end}}', "b"],
    ["{{with .State}}{{.Status}}{{end}}", "running"],
    ["{{.Name | upper}}", "/WEB"],
    ['{{join .Config.Env ","}}', "A=1,B=2"],
    ["{{len .Mounts}}", "2"],
    ["a {{- .Name -}} b", "a/webb"],
    ["{{.Missing}}", "<no value>"],
    ["{{.Config.Labels}}", "map[app:web com.example.tier:front]"],
    ["{{.Config.Cmd}}", "[sleep 300]"],
    ['{{printf "%s!" .Name}}', "/web!"],
    ["{{/* a comment */}}ok", "ok"],
    ["{{(index .Mounts 1).Destination}}", "/d"],
    ["{{len (index .Config.Cmd 0)}}", "5"],
    ["{{if (eq .Name \"/web\")}}yes{{end}}", "yes"],
  ];
  for (const [t, want] of cases) assert.equal(renderTemplate(t, data), want, t);
  for (const bad of ["{{.A", "{{if .A}}x", "{{end}}", "{{nosuchfunc .A}}"]) {
    assert.throws(() => renderTemplate(bad, data), (e: Error & { code?: string }) => e.code === "usage" && /^template: /.test(e.message), bad);
  }
});

test("flags: clusters, inline values, interspersed args, and Docker's words for mistakes", () => {
  const spec = { "d,detach": "bool", "i,interactive": "bool", "t,tty": "bool", "e,env": "value", name: "value", "p,publish": "value" } as const;
  const a = parseFlags(["-dit", "-eA=1", "--env", "B=2", "--name=web", "img", "-x"], spec, "run");
  assert.deepEqual([...a.opts.keys()].sort(), ["detach", "env", "interactive", "name", "tty"]);
  assert.deepEqual(a.opts.get("env"), ["A=1", "B=2"]);
  assert.deepEqual(a.rest, ["img", "-x"]);
  assert.deepEqual(parseFlags(["-dp", "8080:80", "img"], spec, "run").opts.get("publish"), ["8080:80"]);
  assert.deepEqual(parseFlags(["c1", "-f", "c2"], { "f,force": "bool" }, "rm", { interspersed: true }).rest, ["c1", "c2"]);
  assert.deepEqual(parseFlags(["--", "-d"], spec, "run").rest, ["-d"]);
  assert.throws(() => parseFlags(["--nope"], spec, "run"), (e: Error) => isFlagError(e) && e.message === "unknown flag: --nope\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'docker run --help' for more information");
  assert.throws(() => parseFlags(["--gpus", "all"], spec, "run"), (e: Error & { code?: string }) => e.code === "invalid-parameter" && /--gpus/.test(e.message), "a flag Docker has and the handler does not read is refused, not ignored");
  assert.throws(() => parseFlags(["-dz"], spec, "run"), (e: Error) => isFlagError(e) && /unknown shorthand flag: 'z' in -dz/.test(e.message));
  assert.throws(() => parseFlags(["--name"], spec, "run"), (e: Error) => isFlagError(e) && /flag needs an argument: --name/.test(e.message));
  assert.throws(() => parseFlags(["--detach=maybe"], spec, "run"), (e: Error) => isFlagError(e) && /invalid argument "maybe"/.test(e.message));
  assert.equal(parseBytes("512m", "-m"), 512 * 1024 * 1024);
  assert.equal(parseBytes("1g", "-m"), 1024 ** 3);
  assert.equal(parseBytes("64MB", "-m"), 64 * 1024 * 1024);
  assert.equal(parseBytes("1024", "-m"), 1024);
  assert.throws(() => parseBytes("12x", "-m, --memory"), (e: Error) => e.message === `invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'`);
  assert.throws(() => parseBytes("x", "-m, --memory"), (e: Error) => e.message === `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'`);
});

test("STATUS, CREATED and SIZE columns read like Docker's", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  const s = newState();
  assert.equal(statusText(s, now), "Created");
  Object.assign(s, { status: Status.running, startedAt: now - 3000 });
  assert.equal(statusText(s, now), "Up 3 seconds");
  s.status = Status.paused;
  assert.equal(statusText(s, now), "Up 3 seconds (Paused)");
  Object.assign(s, { status: Status.exited, exitCode: 137, finishedAt: now - 5 * 60_000 });
  assert.equal(statusText(s, now), "Exited (137) 5 minutes ago");
  const d: Array<[number, string]> = [
    [500, "Less than a second"], [1000, "1 second"], [59_000, "59 seconds"], [60_000, "About a minute"], [119_000, "About a minute"],
    [45 * 60_000, "45 minutes"], [60 * 60_000, "About an hour"], [3 * 3_600_000, "3 hours"], [3 * 86_400_000, "3 days"],
    [20 * 86_400_000, "2 weeks"], [90 * 86_400_000, "3 months"], [1000 * 86_400_000, "2 years"],
  ];
  for (const [ms, want] of d) assert.equal(humanDuration(ms), want, String(ms));
  assert.equal(humanSize(4_261_000), "4.26MB");
  assert.equal(humanSize(0), "0B");
  assert.equal(ellipsis("sh -c echo hello; echo bye", 20), "sh -c echo hello; e…");
  assert.equal(rfc3339Nano(Date.parse("2026-11-23T01:02:03.456Z")), "2026-11-23T01:02:03.456000000Z");
  assert.equal(columns([["CONTAINER ID", "PORTS", "NAMES"], ["abc", "", "web"]]), "CONTAINER ID   PORTS     NAMES\nabc                      web\n");
});

test("restart policies, names and capabilities follow Docker's rules", () => {
  assert.deepEqual(parseRestartPolicy("on-failure:3"), { name: "on-failure", maximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy("always"), { name: "always", maximumRetryCount: 0 });
  for (const bad of ["sometimes", "always:3", "on-failure:x", "on-failure:1:2"]) assert.throws(() => parseRestartPolicy(bad), /invalid restart policy format/, bad);
  assert.equal(shouldRestart(parseRestartPolicy("on-failure:2"), 1, 1), true);
  assert.equal(shouldRestart(parseRestartPolicy("on-failure:2"), 1, 2), false);
  assert.equal(shouldRestart(parseRestartPolicy("on-failure"), 0, 0), false);
  assert.equal(shouldRestart(parseRestartPolicy("unless-stopped"), 0, 9), true);
  assert.equal(shouldRestart(parseRestartPolicy("no"), 1, 0), false);
  assert.match(generateName(), /^[a-z]+_[a-z]+$/);
  assert.ok(VALID_NAME.test("web-1.a_b") && !VALID_NAME.test("x") && !VALID_NAME.test("-web") && !VALID_NAME.test("a b"));
  assert.deepEqual(capabilities({ capDrop: ["ALL"], capAdd: ["net_admin"] }), ["CAP_NET_ADMIN"]);
  assert.ok(!capabilities({ capDrop: ["CHOWN"] }).includes("CAP_CHOWN"));
  assert.ok(capabilities({ privileged: true }).includes("CAP_SYS_ADMIN"));
  assert.throws(() => capabilities({ capAdd: ["NOPE"] }), /unknown capability/);
});

test("-p specs, as Docker reads them", async () => {
  const { parsePublish, formatBinding } = await import("../../../src/common/port-spec.js");
  const one = (s: string): string[] => parsePublish(s).map(formatBinding);
  assert.deepEqual(one("8080:80"), ["0.0.0.0:8080->80/tcp"]);
  assert.deepEqual(one("127.0.0.1:8080:80/udp"), ["127.0.0.1:8080->80/udp"]);
  assert.deepEqual(one("80"), ["0.0.0.0:0->80/tcp"]);
  assert.deepEqual(one("127.0.0.1::80"), ["127.0.0.1:0->80/tcp"]);
  assert.deepEqual(one("8080-8081:80-81"), ["0.0.0.0:8080->80/tcp", "0.0.0.0:8081->81/tcp"]);
  // go-connections' words, as docker 28 prints them (checked against the real CLI in cli-conformance.test)
  const words: Array<[string, string]> = [
    ["80:80:80:80", "invalid IP address: 80:80"], ["abc", "invalid containerPort: abc"], ["70000:80", "invalid hostPort: 70000"],
    ["8080-8082:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8080-8082"], ["80/xyz", "invalid proto: xyz"],
    [":", "no port specified: :<empty>"], ["a/b/c", "invalid containerPort: a"],
  ];
  for (const [bad, message] of words) assert.throws(() => parsePublish(bad), (e: Error & { code?: string }) => e.code === "usage" && e.message === message, bad);
  assert.throws(() => parsePublish("80/sctp"), (e: Error & { code?: string }) => e.code === "invalid-parameter", "sctp is Docker's, not Berth's");
});

test("HTTP on the wire to a published port: requests out, responses in (length, chunked, until close)", async () => {
  const { serialiseRequest, parseResponse } = await import("../../../src/common/http-wire.js");
  const req = new TextDecoder().decode(serialiseRequest({ method: "POST", target: "/a?b=1", headers: [["Accept", "text/html"], ["Connection", "keep-alive"], ["X-Bad", "a\r\nInjected: 1"]], body: new TextEncoder().encode("hi") }, "127.0.0.1:8080"));
  assert.equal(req, "POST /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\nAccept: text/html\r\nContent-Length: 2\r\n\r\nhi");
  const enc = new TextEncoder();
  const r1 = parseResponse(enc.encode("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello and more"))!;
  assert.equal(r1.status, 200);
  assert.deepEqual(r1.headers, [["Content-Type", "text/plain"]]);
  assert.equal(new TextDecoder().decode(r1.body), "hello");
  const r2 = parseResponse(enc.encode("HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"))!;
  assert.equal(r2.status, 302);
  assert.equal(new TextDecoder().decode(r2.body), "abcde");
  const r3 = parseResponse(enc.encode("HTTP/1.0 404 Not Found\r\n\r\nuntil close"))!;
  assert.equal(new TextDecoder().decode(r3.body), "until close");
  assert.equal(parseResponse(enc.encode("SSH-2.0-OpenSSH\r\n")), undefined);
});
