// `docker context …` and `docker manifest inspect` against docker 28.2.2's
// exact text, with a fake session and a fake registry (no VM, no network).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { cliFailure } from "../../../../src/common/cli/cli-errors.js";
import { BerthError, ErrorCode } from "../../../../src/common/errors.js";
import type { CliContext } from "../../../../src/engine/cli/docker-cli-context.js";
import { CONTEXT_COMMANDS } from "../../../../src/engine/cli/docker-context-cli.js";
import { manifestCommands, type ManifestBytes, type ManifestSource } from "../../../../src/engine/cli/docker-manifest-cli.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs a handler with a session that keeps what it printed; a thrown error becomes what the CLI prints for it. */
async function run(handlers: Record<string, (ctx: CliContext, args: string[]) => Promise<number>>, path: string, args: string[]): Promise<{ out: string; err: string; status: number }> {
  let out = "";
  let err = "";
  const text = (b: Uint8Array | string): string => (typeof b === "string" ? b : dec.decode(b));
  const s = { stdout: (b: Uint8Array | string) => (out += text(b)), stderr: (b: Uint8Array | string) => (err += text(b)), env: ["HOME=/root", "PATH=/usr/bin:/bin"], cwd: "/" };
  const ctx = { s, path } as unknown as CliContext;
  try {
    const status = await handlers[path.replace(" ", "-")]!(ctx, args);
    return { out, err, status };
  } catch (e) {
    const f = cliFailure(e, path);
    return { out, err: `${err}${f.text}\n`, status: f.status };
  }
}

test("context ls: Docker's table with the current mark, -q, --format json and a template", async () => {
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context ls", []), {
    out: "NAME        DESCRIPTION                               DOCKER ENDPOINT               ERROR\n" +
      "default *   Current DOCKER_HOST based configuration   unix:///var/run/docker.sock   \n",
    err: "",
    status: 0,
  });
  assert.equal((await run(CONTEXT_COMMANDS, "context ls", ["--format", "table"])).out, (await run(CONTEXT_COMMANDS, "context ls", [])).out);
  assert.equal((await run(CONTEXT_COMMANDS, "context ls", ["-q"])).out, "default\n");
  assert.equal((await run(CONTEXT_COMMANDS, "context ls", ["--format", "json"])).out,
    '{"Current":true,"Description":"Current DOCKER_HOST based configuration","DockerEndpoint":"unix:///var/run/docker.sock","Error":"","Name":"default"}\n');
  assert.equal((await run(CONTEXT_COMMANDS, "context ls", ["--format", "{{.Name}}|{{.Current}}|{{.DockerEndpoint}}"])).out, "default|true|unix:///var/run/docker.sock\n");
  const extra = await run(CONTEXT_COMMANDS, "context ls", ["x"]);
  assert.equal(extra.status, 1);
  assert.match(extra.err, /^docker: 'docker context ls' accepts no arguments\n/);
});

test("context show and use: the one context, and Docker's words for another", async () => {
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context show", []), { out: "default\n", err: "", status: 0 });
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context use", ["default"]), { out: "default\n", err: 'Current context is now "default"\n', status: 0 });
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context use", ["other"]), {
    out: "",
    err: 'context "other": context not found: open /root/.docker/contexts/meta/d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa/meta.json: no such file or directory\n',
    status: 1,
  });
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context use", ["a b"]), {
    out: "",
    err: 'context name "a b" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"\n',
    status: 1,
  });
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context use", []), { out: "", err: "accepts 1 arg(s), received 0\n", status: 1 });
});

test("context inspect: Docker's JSON of the default context, --format, and a missing one", async () => {
  const doc = [
    "    {",
    '        "Name": "default",',
    '        "Metadata": {},',
    '        "Endpoints": {',
    '            "docker": {',
    '                "Host": "unix:///var/run/docker.sock",',
    '                "SkipTLSVerify": false',
    "            }",
    "        },",
    '        "TLSMaterial": {},',
    '        "Storage": {',
    '            "MetadataPath": "\\u003cIN MEMORY\\u003e",',
    '            "TLSPath": "\\u003cIN MEMORY\\u003e"',
    "        }",
    "    }",
  ].join("\n");
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context inspect", []), { out: `[\n${doc}\n]\n`, err: "", status: 0 });
  assert.equal((await run(CONTEXT_COMMANDS, "context inspect", ["-f", "{{.Name}} {{.Endpoints.docker.Host}}", "default"])).out, "default unix:///var/run/docker.sock\n");
  assert.equal((await run(CONTEXT_COMMANDS, "context inspect", ["-f", "json"])).out,
    '[{"Name":"default","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///var/run/docker.sock","SkipTLSVerify":false}},"TLSMaterial":{},"Storage":{"MetadataPath":"\\u003cIN MEMORY\\u003e","TLSPath":"\\u003cIN MEMORY\\u003e"}}]\n');
  assert.deepEqual(await run(CONTEXT_COMMANDS, "context inspect", ["default", "other"]), {
    out: `[\n${doc}\n]\n`,
    err: 'context "other": context not found: open /root/.docker/contexts/meta/d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa/meta.json: no such file or directory\n',
    status: 1,
  });
  assert.equal((await run(CONTEXT_COMMANDS, "context inspect", ["other"])).out, "[]\n");
});

// An image as a registry serves it: alpine's shape, compact JSON as buildx pushes it.
const sha = (b: Uint8Array | string): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const config = enc.encode('{"architecture":"386","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[]}}');
const layer = `sha256:${"b".repeat(64)}`;
const manifest = enc.encode(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${sha(config)}","size":${config.length}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${layer}","size":3642247}],"annotations":{"org.opencontainers.image.url":"https://hub.docker.com/_/alpine","empty":{}}}`);
const attestation = `sha256:${"c".repeat(64)}`;
const index = enc.encode(JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, platform: { architecture: "386", os: "linux" } },
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, platform: { architecture: "arm", os: "linux", variant: "v7" } },
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: attestation, size: 840, annotations: { "vnd.docker.reference.type": "attestation-manifest" }, platform: { architecture: "unknown", os: "unknown" } },
  ],
}));

function fakeRegistry(): ManifestSource & { asked: string[] } {
  const tags: Record<string, Uint8Array> = { "docker.io/library/alpine:single": manifest, "docker.io/library/alpine:latest": index };
  const asked: string[] = [];
  return {
    asked,
    async fetchManifest(ref: string): Promise<ManifestBytes> {
      asked.push(ref);
      const digest = ref.split("@")[1];
      const bytes = digest === sha(manifest) ? manifest : tags[ref];
      if (!bytes) throw new BerthError(ErrorCode.imageNotFound, `Cannot pull "${ref}": the registry has no such tag`);
      return { mediaType: (JSON.parse(dec.decode(bytes)) as { mediaType: string }).mediaType, digest: sha(bytes), size: bytes.length, bytes };
    },
    async fetchBlob(_ref: string, digest: string): Promise<Uint8Array> {
      assert.equal(digest, sha(config));
      return config;
    },
  };
}

test("manifest inspect: a single-platform OCI manifest, re-indented with tabs as json.Indent does", async () => {
  const reg = fakeRegistry();
  const r = await run(manifestCommands(() => reg), "manifest inspect", ["alpine:single"]);
  assert.deepEqual(r, {
    out: [
      "{",
      '\t"schemaVersion": 2,',
      '\t"mediaType": "application/vnd.oci.image.manifest.v1+json",',
      '\t"config": {',
      '\t\t"mediaType": "application/vnd.oci.image.config.v1+json",',
      `\t\t"digest": "${sha(config)}",`,
      `\t\t"size": ${config.length}`,
      "\t},",
      '\t"layers": [',
      "\t\t{",
      '\t\t\t"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",',
      `\t\t\t"digest": "${layer}",`,
      '\t\t\t"size": 3642247',
      "\t\t}",
      "\t],",
      '\t"annotations": {',
      '\t\t"org.opencontainers.image.url": "https://hub.docker.com/_/alpine",',
      '\t\t"empty": {}',
      "\t}",
      "}",
      "",
    ].join("\n"),
    err: "",
    status: 0,
  });
  assert.deepEqual(reg.asked, ["docker.io/library/alpine:single"], "only the manifest: nothing pulled");
});

test("manifest inspect --verbose: Ref, Descriptor with the config's platform, Raw, OCIManifest", async () => {
  const r = await run(manifestCommands(() => fakeRegistry()), "manifest inspect", ["-v", "alpine:single"]);
  assert.equal(r.status, 0);
  const lines = r.out.split("\n");
  assert.deepEqual(lines.slice(0, 12), [
    "{",
    '\t"Ref": "docker.io/library/alpine:single",',
    '\t"Descriptor": {',
    '\t\t"mediaType": "application/vnd.oci.image.manifest.v1+json",',
    `\t\t"digest": "${sha(manifest)}",`,
    `\t\t"size": ${manifest.length},`,
    '\t\t"platform": {',
    '\t\t\t"architecture": "386",',
    '\t\t\t"os": "linux"',
    "\t\t}",
    "\t},",
    `\t"Raw": "${Buffer.from(manifest).toString("base64")}",`,
  ]);
  assert.deepEqual(lines.slice(12, 16), ["\t\"OCIManifest\": {", '\t\t"schemaVersion": 2,', '\t\t"mediaType": "application/vnd.oci.image.manifest.v1+json",', '\t\t"config": {']);
  assert.deepEqual(lines.slice(-4), ["\t\t}", "\t}", "}", ""]);
});

test("manifest inspect: an index, rebuilt as docker/distribution's list with 3-space indent", async () => {
  const reg = fakeRegistry();
  const r = await run(manifestCommands(() => reg), "manifest inspect", ["alpine"]);
  const entry = (platform: string[], digest = sha(manifest), size = manifest.length): string[] => [
    "      {",
    '         "mediaType": "application/vnd.oci.image.manifest.v1+json",',
    `         "size": ${size},`,
    `         "digest": "${digest}",`,
    '         "platform": {',
    ...platform.map((p, i) => `            ${p}${i < platform.length - 1 ? "," : ""}`),
    "         }",
  ];
  assert.deepEqual(r, {
    out: [
      "{",
      '   "schemaVersion": 2,',
      '   "mediaType": "application/vnd.oci.image.index.v1+json",',
      '   "manifests": [',
      ...entry(['"architecture": "386"', '"os": "linux"']),
      "      },",
      ...entry(['"architecture": "arm"', '"os": "linux"', '"variant": "v7"']),
      "      },",
      ...entry(['"architecture": "unknown"', '"os": "unknown"'], attestation, 840),
      "      }",
      "   ]",
      "}",
      "",
    ].join("\n"),
    err: "",
    status: 0,
  });
  assert.deepEqual(reg.asked, ["docker.io/library/alpine:latest"]);
  // --verbose fetches each entry; the attestation is missing here, as a registry that lost it would answer
  const v = await run(manifestCommands(() => fakeRegistry()), "manifest inspect", ["--verbose", "alpine"]);
  assert.deepEqual(v, { out: "", err: "no such manifest: docker.io/library/alpine:latest\n", status: 1 });
});

test("manifest inspect --verbose of an index: one ImageManifest per entry, the index's platform", async () => {
  const reg = fakeRegistry();
  const one = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, platform: { architecture: "arm", os: "linux", variant: "v7" } }] }));
  const fetchManifest = reg.fetchManifest.bind(reg);
  reg.fetchManifest = async (ref) => (ref === "docker.io/library/alpine:one" ? { mediaType: "application/vnd.oci.image.index.v1+json", digest: sha(one), size: one.length, bytes: one } : fetchManifest(ref));
  const r = await run(manifestCommands(() => reg), "manifest inspect", ["-v", "alpine:one"]);
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.split("\n").slice(0, 13), [
    "[",
    "\t{",
    `\t\t"Ref": "docker.io/library/alpine:one@${sha(manifest)}",`,
    '\t\t"Descriptor": {',
    '\t\t\t"mediaType": "application/vnd.oci.image.manifest.v1+json",',
    `\t\t\t"digest": "${sha(manifest)}",`,
    `\t\t\t"size": ${manifest.length},`,
    '\t\t\t"platform": {',
    '\t\t\t\t"architecture": "arm",',
    '\t\t\t\t"os": "linux",',
    '\t\t\t\t"variant": "v7"',
    "\t\t\t}",
    "\t\t},",
  ]);
  assert.deepEqual(r.out.split("\n").slice(-3), ["\t}", "]", ""]);
  assert.deepEqual(reg.asked, [`docker.io/library/alpine@${sha(manifest)}`]);
});

test("manifest inspect: Docker's words for a missing tag, a bad reference, a local list", async () => {
  const handlers = manifestCommands(() => fakeRegistry());
  assert.deepEqual(await run(handlers, "manifest inspect", ["alpine:3.99"]), { out: "", err: "no such manifest: docker.io/library/alpine:3.99\n", status: 1 });
  assert.deepEqual(await run(handlers, "manifest inspect", ["Alpine"]), { out: "", err: "invalid reference format: repository name (library/Alpine) must be lowercase\n", status: 1 });
  assert.deepEqual(await run(handlers, "manifest inspect", ["alpine@sha256:abc"]), { out: "", err: "invalid reference format\n", status: 1 });
  assert.deepEqual(await run(handlers, "manifest inspect", ["mylist", "alpine"]), { out: "", err: "No such manifest: docker.io/library/alpine:latest\n", status: 1 });
  const none = await run(handlers, "manifest inspect", []);
  assert.equal(none.status, 1);
  assert.match(none.err, /^docker: 'docker manifest inspect' requires at least 1 and at most 2 arguments\n/);
});
