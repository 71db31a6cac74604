import assert from "node:assert/strict";
import { test } from "node:test";
import type { BerthError } from "../../../src/common/errors.js";
import { familiarName, formatReference, isInsecureRegistry, parseReference } from "../../../src/common/reference.js";

const D = "sha256:" + "a".repeat(64);

// reference -> full form, as Docker's distribution/reference normalises it
const good: Array<[string, string]> = [
  ["busybox", "docker.io/library/busybox:latest"],
  ["busybox:1.36", "docker.io/library/busybox:1.36"],
  ["library/busybox", "docker.io/library/busybox:latest"],
  ["docker.io/busybox", "docker.io/library/busybox:latest"],
  ["index.docker.io/library/busybox:musl", "docker.io/library/busybox:musl"],
  ["python:3.12-alpine", "docker.io/library/python:3.12-alpine"],
  ["bitnami/redis", "docker.io/bitnami/redis:latest"],
  ["ghcr.io/owner/app:v1.2.3", "ghcr.io/owner/app:v1.2.3"],
  ["quay.io/prometheus/node-exporter", "quay.io/prometheus/node-exporter:latest"],
  ["localhost:5000/test", "localhost:5000/test:latest"],
  ["localhost/test", "localhost/test:latest"],
  ["127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000/a/b/c:tag"],
  [`busybox@${D}`, `docker.io/library/busybox@${D}`],
  [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
  ["my_app__x.y-z", "docker.io/library/my_app__x.y-z:latest"],
  ["registry.example.com:443/team/img:TAG_1", "registry.example.com:443/team/img:TAG_1"],
];

for (const [input, want] of good) {
  test(`parses ${input}`, () => {
    assert.equal(formatReference(parseReference(input)), want);
  });
}

const bad: Array<[string, RegExp]> = [
  ["", /: invalid reference format$/],
  ["Busybox", /: invalid reference format: repository name \(library\/Busybox\) must be lowercase$/],
  ["Me/App", /: invalid reference format: repository name \(App\) must be lowercase$/], // "Me" is a registry to distribution's rules
  ["docker.io/Library/busybox", /must be lowercase/],
  ["busybox:", /invalid reference format/],
  ["busybox:a:b", /invalid reference format/],
  ["busybox@sha256:1234", /invalid digest format/],
  ["busybox@sha256:" + "A".repeat(64), /invalid sha256 digest/],
  ["busybox@notadigest", /invalid digest format/],
  ["-busybox", /invalid reference format/],
  ["busy--box", /./], // allowed by Docker: "-+" separators
  ["a//b", /invalid reference format/],
  ["busybox:" + "x".repeat(129), /invalid reference format/],
  ["host:port/x", /invalid reference format/],
  ["a/" + "b".repeat(260), /255 characters/],
];

for (const [input, why] of bad) {
  if (input === "busy--box") {
    test("accepts repeated dashes like Docker", () => assert.equal(parseReference(input).repository, "library/busy--box"));
    continue;
  }
  test(`refuses ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.throws(() => parseReference(input), (e: BerthError) => e.code === "invalid-reference" && why.test(e.message));
  });
}

test("familiar names and plain-HTTP registries", () => {
  assert.equal(familiarName(parseReference("busybox")), "busybox");
  assert.equal(familiarName(parseReference("bitnami/redis")), "bitnami/redis");
  assert.equal(familiarName(parseReference("localhost:5000/x")), "localhost:5000/x");
  assert.equal(isInsecureRegistry("localhost:5000"), true);
  assert.equal(isInsecureRegistry("127.0.0.1:5000"), true);
  assert.equal(isInsecureRegistry("localhost"), true);
  assert.equal(isInsecureRegistry("docker.io"), false);
  assert.equal(isInsecureRegistry("127.example.com"), false);
});
