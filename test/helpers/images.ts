// Reproducible linux/386 test images from Debian's i386 packages, pushed to a
// real registry over the distribution API. Tars follow DESIGN.md's recipe:
// sorted names, a fixed mtime, owner 0, POSIX format, `gzip -n`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile, link } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { MediaType } from "../../src/common/oci-image.js";

const EPOCH = "1700000000";
const cache = join(process.env["BERTH_CACHE"] ?? join(homedir(), ".cache", "berth"), "fixtures");

export const sha256 = (b: Uint8Array): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Debian's busybox-static:i386 binary, downloaded once into the cache. */
function busyboxBinary(): string {
  const dir = join(cache, "busybox-static");
  const bin = join(dir, "bin", "busybox");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  execFileSync("apt-get", ["download", "busybox-static:i386"], { cwd: dir, stdio: "ignore" });
  const deb = readdirSync(dir).find((f) => f.endsWith(".deb"))!;
  execFileSync("dpkg-deb", ["-x", join(dir, deb), dir]);
  return bin;
}

/** A gzip'd layer tar of `dir`, reproducibly. */
function tarGz(dir: string): Uint8Array {
  return execFileSync("gzip", ["-n", "-6"], { input: tarOf(dir), maxBuffer: 1 << 28 });
}

/** The same tar, zstd-compressed (Debian's zstd), for a layer of type tar+zstd. */
function tarZstd(dir: string): Uint8Array {
  return execFileSync("zstd", ["-q", "-3", "-c"], { input: tarOf(dir), maxBuffer: 1 << 28 });
}

function tarOf(dir: string): Uint8Array {
  return execFileSync("tar", ["--sort=name", `--mtime=@${EPOCH}`, "--owner=0", "--group=0", "--numeric-owner", "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-C", dir, "-cf", "-", "."], { maxBuffer: 1 << 28 });
}

export interface Blob {
  mediaType: string;
  data: Uint8Array;
  digest: string;
}

export interface TestImage {
  repository: string;
  tag: string;
  /** the manifest pushed (or the index, for multi-platform images) */
  manifest: Blob;
  config: Blob;
  layers: Blob[];
  /** the bytes of every blob to push, with the manifests last */
  extraManifests?: Blob[];
}

function blob(mediaType: string, data: Uint8Array | string): Blob {
  const d = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return { mediaType, data: d, digest: sha256(d) };
}

function image(repository: string, tag: string, layers: Blob[], cfg: Record<string, unknown>, arch = "386"): TestImage {
  const diffIds = layers.map((l) => sha256(execFileSync(l.mediaType.endsWith("zstd") ? "zstd" : "gzip", ["-dc"], { input: l.data, maxBuffer: 1 << 28 })));
  const config = blob(MediaType.ociConfig, JSON.stringify({
    architecture: arch, os: "linux", created: "2023-11-14T22:13:20Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"], ...cfg },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: layers.map(() => ({ created: "2023-11-14T22:13:20Z", created_by: "berth test fixture" })),
  }));
  const manifest = blob(MediaType.ociManifest, JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.data.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.data.length })),
  }));
  return { repository, tag, manifest, config, layers };
}

async function busyboxTree(root: string): Promise<void> {
  await mkdir(join(root, "bin"), { recursive: true });
  for (const d of ["etc", "root", "tmp", "proc", "sys", "dev"]) await mkdir(join(root, d), { recursive: true });
  await chmod(join(root, "tmp"), 0o1777);
  await writeFile(join(root, "bin", "busybox"), await readFile(busyboxBinary()));
  await chmod(join(root, "bin", "busybox"), 0o755);
  for (const a of ["sh", "ls", "cat", "echo", "true", "false", "id", "hostname", "ps", "sleep", "wc", "head", "stat", "readlink", "find", "env"]) {
    await symlink("busybox", join(root, "bin", a));
  }
  await writeFile(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  await writeFile(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
}

/**
 * The fixture set: `busybox` (one layer), `layered` (a second layer with a
 * whiteout, an opaque directory, a symlink and a hardlink), `multi` (an index
 * with linux/386 and linux/amd64) and `no386` (an index without linux/386).
 */
export async function buildFixtures(): Promise<TestImage[]> {
  const work = await mkdtemp(join(tmpdir(), "berth-images-"));
  try {
    const base = join(work, "base");
    await busyboxTree(base);
    await mkdir(join(base, "opt", "data"), { recursive: true });
    await writeFile(join(base, "opt", "data", "old"), "from the lower layer\n");
    await writeFile(join(base, "etc", "motd"), "deleted by the upper layer\n");
    const baseLayer = blob(MediaType.ociLayerGzip, tarGz(base));

    const upper = join(work, "upper");
    await mkdir(join(upper, "opt", "data"), { recursive: true });
    await mkdir(join(upper, "etc"), { recursive: true });
    await writeFile(join(upper, "opt", "data", ".wh..wh..opq"), "");
    await writeFile(join(upper, "opt", "data", "new"), "from the upper layer\n");
    await link(join(upper, "opt", "data", "new"), join(upper, "opt", "data", "hard"));
    await writeFile(join(upper, "etc", ".wh.motd"), "");
    await symlink("/opt/data/new", join(upper, "link"));
    const upperLayer = blob(MediaType.ociLayerGzip, tarGz(upper));

    const busybox = image("test/busybox", "latest", [baseLayer], {});
    // the layered image again with zstd layers (as BuildKit writes with compression=zstd)
    const zstd = image("test/zstd", "latest", [blob(MediaType.ociLayerZstd, tarZstd(base)), blob(MediaType.ociLayerZstd, tarZstd(upper))], { Env: ["PATH=/bin", "GREETING=hello"] });
    const layered = image("test/layered", "v1", [baseLayer, upperLayer], { Env: ["PATH=/bin", "GREETING=hello"], Cmd: ["cat", "/opt/data/new"], WorkingDir: "/opt" });
    const amd64 = image("test/multi", "latest", [baseLayer], {}, "amd64");
    const indexFor = (repository: string, entries: Array<[TestImage, string]>): TestImage => {
      const index = blob(MediaType.ociIndex, JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.ociIndex,
        manifests: entries.map(([img, arch]) => ({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.data.length, platform: { os: "linux", architecture: arch } })),
      }));
      const all = entries.map(([img]) => img);
      return { repository, tag: "latest", manifest: index, config: all[0]!.config, layers: [baseLayer], extraManifests: all.flatMap((img) => [img.config, img.manifest]) };
    };
    const multi = indexFor("test/multi", [[amd64, "amd64"], [busybox, "386"]]);
    const no386 = indexFor("test/no386", [[amd64, "amd64"]]);
    return [busybox, layered, multi, no386, zstd];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Pushes an image's blobs and manifests with the distribution API (monolithic uploads). */
export async function pushImage(registryUrl: string, img: TestImage, o: { authorization?: string } = {}): Promise<void> {
  const auth: Record<string, string> = o.authorization ? { authorization: o.authorization } : {};
  const push = async (b: Blob): Promise<void> => {
    const head = await fetch(`${registryUrl}/v2/${img.repository}/blobs/${b.digest}`, { method: "HEAD", headers: auth });
    if (head.ok) return;
    const start = await fetch(`${registryUrl}/v2/${img.repository}/blobs/uploads/`, { method: "POST", headers: auth });
    if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
    const loc = new URL(start.headers.get("location")!, registryUrl);
    loc.searchParams.set("digest", b.digest);
    const put = await fetch(loc, { method: "PUT", body: b.data as Uint8Array<ArrayBuffer>, headers: { ...auth, "content-type": "application/octet-stream" } });
    if (put.status !== 201) throw new Error(`upload ${b.digest}: ${put.status} ${await put.text()}`);
  };
  const putManifest = async (m: Blob, ref: string): Promise<void> => {
    const r = await fetch(`${registryUrl}/v2/${img.repository}/manifests/${ref}`, { method: "PUT", body: m.data as Uint8Array<ArrayBuffer>, headers: { ...auth, "content-type": m.mediaType } });
    if (r.status !== 201) throw new Error(`manifest ${ref}: ${r.status} ${await r.text()}`);
  };
  for (const l of img.layers) await push(l);
  await push(img.config);
  for (const m of img.extraManifests ?? []) {
    if (m.mediaType === MediaType.ociConfig) await push(m);
    else await putManifest(m, m.digest);
  }
  await putManifest(img.manifest, img.tag);
}

/**
 * A Debian bookworm i386 minbase image (one layer, ~30+ MB gzip) built with
 * mmdebstrap from Debian's mirror, cached by the day's package set. For the
 * pull benchmark; slow the first time (a few minutes).
 */
export async function buildDebianImage(): Promise<TestImage> {
  const dir = join(cache, "debian-i386");
  const layerPath = join(dir, "layer.tar.gz");
  if (!existsSync(layerPath)) {
    mkdirSync(dir, { recursive: true });
    const tar = join(dir, "rootfs.tar");
    // the host's main archive only: the security suite's i386 index is sometimes mid-sync,
    // which fails mmdebstrap's apt-get update (DESIGN.md); minbase needs nothing from it
    const sources = execFileSync("sh", ["-c", "cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true"]).toString();
    const uri = [...sources.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s*)?)(\S+)/gm)].map((m) => m[1]!).find((u) => !/security/.test(u));
    if (!uri) throw new Error("no Debian mirror in the host's apt sources");
    execFileSync("mmdebstrap", ["--variant=minbase", "--arch=i386", "--mode=root", "--format=tar", "bookworm", tar, `deb ${uri} bookworm main`], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
    });
    execFileSync("sh", ["-c", `gzip -n -6 < "${tar}" > "${layerPath}.tmp" && mv "${layerPath}.tmp" "${layerPath}" && rm -f "${tar}"`]);
  }
  const layer = blob(MediaType.ociLayerGzip, await readFile(layerPath));
  return image("test/debian", "bookworm", [layer], { Cmd: ["bash"] });
}
