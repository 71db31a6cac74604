import { UsageError, last, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { MediaType } from "../../common/oci-image.js";
import { familiarName, formatReference, parseReference } from "../../common/reference.js";
import { readAllStdin, shortName, type CliContext, type Handler } from "./docker-cli-context.js";
import { addImage } from "./docker-container-extra.js";
import { sha256Hex } from "../digest.js";
import { gunzip } from "../unpack/gunzip.js";
import type { ImageConfig } from "../images/image-puller.js";
import type { LocalImage } from "../images/images.js";
import { readTar } from "../unpack/tar-reader.js";
import { writeTar, type TarFile } from "../unpack/tar-writer.js";

/**
 * `docker save` / `docker load`: the archive Docker 25+ writes, which is at
 * once an OCI image layout (oci-layout, index.json, blobs/sha256/…) and a
 * docker-archive (manifest.json, repositories), with uncompressed layers.
 * `load` reads either kind, gzipped layers included.
 */
const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
const isGzip = (b: Uint8Array): boolean => b[0] === 0x1f && b[1] === 0x8b;

async function blob(ctx: CliContext, digest: string, what: string): Promise<Uint8Array> {
  const b = await ctx.store?.get(digest);
  if (!b) throw new BerthError(ErrorCode.imageNotFound, `Cannot save ${what}: blob ${digest.slice(0, 19)} is not in the blob store`);
  return b;
}

async function archive(ctx: CliContext, images: Array<{ local: LocalImage; names: string[] }>): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const index: unknown[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { local, names } of images) {
    const what = `"${names[0] ?? local.id.slice(7, 19)}"`;
    const config = (await ctx.store?.get(local.id)) ?? json(local.image.config);
    files.set(`blobs/sha256/${local.id.slice(7)}`, config);
    const layers: Array<{ digest: string; size: number }> = [];
    for (const l of local.image.layers) {
      const raw = await blob(ctx, l.digest, what);
      const tar = isGzip(raw) ? gunzip(raw) : raw;
      const digest = `sha256:${await sha256Hex(tar)}`;
      files.set(`blobs/sha256/${digest.slice(7)}`, tar);
      layers.push({ digest, size: tar.length });
    }
    const m = json({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: local.id, size: config.length },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l })),
    });
    const mDigest = `sha256:${await sha256Hex(m)}`;
    files.set(`blobs/sha256/${mDigest.slice(7)}`, m);
    const tags = names.length ? names : [undefined];
    for (const name of tags) {
      index.push({
        mediaType: MediaType.ociManifest, digest: mDigest, size: m.length,
        ...(name ? { annotations: { "io.containerd.image.name": formatReference(parseReference(name)), "org.opencontainers.image.ref.name": parseReference(name).tag ?? "latest" } } : {}),
      });
    }
    manifest.push({ Config: `blobs/sha256/${local.id.slice(7)}`, RepoTags: names, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    for (const name of names) {
      const r = parseReference(name);
      (repositories[familiarName(r)] ??= {})[r.tag ?? "latest"] = local.id.slice(7);
    }
  }
  const out: TarFile[] = [{ name: "blobs", dir: true }, { name: "blobs/sha256", dir: true }];
  for (const [name, data] of [...files].sort(([a], [b]) => a.localeCompare(b))) out.push({ name, data });
  out.push({ name: "index.json", data: json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: index }) });
  out.push({ name: "manifest.json", data: json(manifest) });
  out.push({ name: "oci-layout", data: json({ imageLayoutVersion: "1.0.0" }) });
  if (Object.keys(repositories).length) out.push({ name: "repositories", data: json(repositories) });
  return writeTar(out);
}

const save: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "o,output": "value", platform: "value" }, "save", { interspersed: true });
  requireArgs(rest, { min: 1 }, "save", "[OPTIONS] IMAGE [IMAGE...]\n\nSave one or more images to a tar archive (streamed to STDOUT by default)");
  const out = last(opts, "output");
  if (!out && ctx.s.tty) throw new UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  const chosen = new Map<string, { local: LocalImage; names: string[] }>();
  for (const name of rest) {
    const local = ctx.images.require(name, `save "${name}"`);
    const entry = chosen.get(local.id) ?? { local, names: [] };
    // by name: that tag; by ID: every tag it has
    const byId = local.id.slice(7).startsWith(name.replace(/^sha256:/, "")) && !/[:/]/.test(name.replace(/^sha256:/, ""));
    for (const t of byId ? ctx.images.tagsOf(local).map(shortName) : [shortName(parseReference(name))]) if (!entry.names.includes(t)) entry.names.push(t);
    chosen.set(local.id, entry);
  }
  const tar = await archive(ctx, [...chosen.values()]);
  if (!out) {
    ctx.s.stdout(tar);
    return 0;
  }
  const r = await ctx.containers.guest(["/bin/sh", "-c", 'cat > "$1"', "save", out], { stdin: tar, cwd: ctx.s.cwd });
  if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot save to "${out}": ${r.stderr.trim().replace(/^sh: /, "")}`);
  return 0;
};

const load: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "i,input": "value", "q,quiet": "bool", platform: "value" }, "load", { interspersed: true });
  requireArgs(rest, { exact: 0 }, "load", "[OPTIONS]\n\nLoad an image from a tar archive or STDIN");
  const input = last(opts, "input");
  let data: Uint8Array;
  if (input) {
    const r = await ctx.containers.guest(["/bin/cat", "--", input], { cwd: ctx.s.cwd });
    if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot load "${input}": ${r.stderr.trim().replace(/^cat: /, "")}`);
    data = r.stdout;
  } else {
    if (ctx.s.tty) throw new UsageError("requested load from stdin, but stdin is empty");
    data = await readAllStdin(ctx);
  }
  if (isGzip(data)) data = gunzip(data);
  const what = `"${input ?? "stdin"}"`;
  const files = new Map<string, Uint8Array>();
  for (const e of readTar(data, `the archive ${what}`)) if (e.type === "file") files.set(e.path, e.data);
  const read = (path: string): Uint8Array => {
    const f = files.get(path.replace(/^\.?\//, ""));
    if (!f) throw new BerthError(ErrorCode.imageNotFound, `Cannot load ${what}: the archive has no "${path}"`);
    return f;
  };
  // docker-archive's manifest.json is enough (Docker 25+ writes it next to the OCI layout)
  let entries: Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
  if (files.has("manifest.json")) entries = JSON.parse(dec.decode(read("manifest.json"))) as typeof entries;
  else if (files.has("index.json")) {
    const index = JSON.parse(dec.decode(read("index.json"))) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    entries = index.manifests.map((d) => {
      const m = JSON.parse(dec.decode(read(`blobs/sha256/${d.digest.slice(7)}`))) as { config: { digest: string }; layers: Array<{ digest: string }> };
      const name = d.annotations?.["io.containerd.image.name"];
      return { Config: `blobs/sha256/${m.config.digest.slice(7)}`, RepoTags: name ? [name] : [], Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) };
    });
  } else throw new BerthError(ErrorCode.unsupportedMediaType, `Cannot load ${what}: it is neither a docker-archive nor an OCI image layout`);
  for (const e of entries) {
    const configBytes = read(e.Config);
    const config = JSON.parse(dec.decode(configBytes)) as ImageConfig;
    if (config.architecture && config.architecture !== "386") {
      throw new BerthError(ErrorCode.platformNotAvailable, `Cannot load ${what}: it is a ${config.os ?? "linux"}/${config.architecture} image, not linux/386`);
    }
    const layers: Array<{ digest: string; mediaType: string; size: number }> = [];
    const blobs: Array<{ digest: string; data: Uint8Array }> = [];
    const sizes: number[] = [];
    for (const path of e.Layers) {
      const raw = read(path);
      const tar = isGzip(raw) ? gunzip(raw) : raw;
      const digest = `sha256:${await sha256Hex(tar)}`;
      layers.push({ digest, mediaType: "application/vnd.oci.image.layer.v1.tar", size: tar.length });
      blobs.push({ digest, data: tar });
      sizes.push(tar.length);
    }
    const id = `sha256:${await sha256Hex(configBytes)}`;
    // the config's own bytes keep its digest (the image ID)
    await ctx.store?.put(id, configBytes);
    const tags = e.RepoTags ?? [];
    const image = { manifestDigest: "", config, neutralised: [], layerSizes: sizes, layers };
    const got = await addImage(ctx, image, tags[0], blobs, id);
    for (const t of tags.slice(1)) ctx.images.tag(ctx.images.require(got), parseReference(t));
    if (tags.length) for (const t of tags) ctx.s.stdout(`Loaded image: ${shortName(parseReference(t))}\n`);
    else ctx.s.stdout(`Loaded image ID: ${got}\n`);
  }
  return 0;
};

export const ARCHIVE_COMMANDS: Record<string, Handler> = { save, load, "image-save": save, "image-load": load };
