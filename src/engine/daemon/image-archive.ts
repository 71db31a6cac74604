import { BerthError, ErrorCode } from "../../common/errors.js";
import { MediaType } from "../../common/oci-image.js";
import { familiarName, formatReference, parseReference } from "../../common/reference.js";
import { sha256Hex } from "../digest.js";
import type { ImageConfig } from "../images/image-puller.js";
import type { LocalImage } from "../images/images.js";
import { gunzip } from "../unpack/gunzip.js";
import { readTar } from "../unpack/tar-reader.js";
import { writeTar, type TarFile } from "../unpack/tar-writer.js";
import type { Daemon } from "./daemon.js";
import { addImage } from "./image-commit.js";

/*
 * `docker save` / `docker load` (`GET /images/get`, `POST /images/load`): the
 * archive Docker 25+ writes, which is at once an OCI image layout (oci-layout,
 * index.json, blobs/sha256/…) and a docker-archive (manifest.json,
 * repositories), with uncompressed layers. Loading reads either kind, gzipped
 * layers included.
 */
const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
const isGzip = (b: Uint8Array): boolean => b[0] === 0x1f && b[1] === 0x8b;
const shortName = (name: string): string => {
  const r = parseReference(name);
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ""}`;
};

async function blob(d: Daemon, digest: string, what: string): Promise<Uint8Array> {
  const b = await d.store?.get(digest);
  if (!b) throw new BerthError(ErrorCode.imageNotFound, `Cannot save ${what}: blob ${digest.slice(0, 19)} is not in the blob store`);
  return b;
}

async function archive(d: Daemon, images: Array<{ local: LocalImage; names: string[] }>): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const index: unknown[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { local, names } of images) {
    const what = `"${names[0] ?? local.id.slice(7, 19)}"`;
    const config = (await d.store?.get(local.id)) ?? json(local.image.config);
    files.set(`blobs/sha256/${local.id.slice(7)}`, config);
    const layers: Array<{ digest: string; size: number }> = [];
    for (const l of local.image.layers) {
      const raw = await blob(d, l.digest, what);
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

/**
 * The archive of images named by reference or ID (`GET /images/get?names=`):
 * by name, that tag; by ID, every tag the image has.
 * @throws BerthError image-not-found (no such image, or a blob missing from the store)
 */
export async function saveImages(d: Daemon, names: readonly string[]): Promise<Uint8Array> {
  const chosen = new Map<string, { local: LocalImage; names: string[] }>();
  for (const name of names) {
    const local = d.images.require(name, `save "${name}"`);
    const entry = chosen.get(local.id) ?? { local, names: [] };
    const byId = local.id.slice(7).startsWith(name.replace(/^sha256:/, "")) && !/[:/]/.test(name.replace(/^sha256:/, ""));
    for (const t of byId ? d.images.tagsOf(local).map((r) => shortName(formatReference(r))) : [shortName(name)]) if (!entry.names.includes(t)) entry.names.push(t);
    chosen.set(local.id, entry);
  }
  const tar = await archive(d, [...chosen.values()]);
  for (const { local } of chosen.values()) d.images.event("save", local.id);
  return tar;
}

/**
 * Loads the images of an archive (`POST /images/load`, `docker load`): a
 * docker-archive or OCI image layout, plain or gzipped.
 * @param what how errors name the archive ("stdin", a file name)
 * @returns Docker's lines: "Loaded image: NAME" per tag, "Loaded image ID: sha256:…" for an untagged image
 * @throws BerthError unsupported-media-type (not an image archive), image-not-found (a file it names is missing),
 *   platform-not-available (not linux/386), invalid-archive-ish errors of the tar reader
 */
export async function loadImages(d: Daemon, data: Uint8Array, what: string): Promise<string[]> {
  const lines: string[] = [];
  if (isGzip(data)) data = gunzip(data);
  const files = new Map<string, Uint8Array>();
  for (const e of readTar(data, `the archive ${what}`)) if (e.type === "file") files.set(e.path, e.data);
  const read = (path: string): Uint8Array => {
    const f = files.get(path.replace(/^\.?\//, ""));
    if (!f) throw new BerthError(ErrorCode.imageNotFound, `Cannot load "${what}": the archive has no "${path}"`);
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
  } else throw new BerthError(ErrorCode.unsupportedMediaType, `Cannot load "${what}": it is neither a docker-archive nor an OCI image layout`);
  for (const e of entries) {
    const configBytes = read(e.Config);
    const config = JSON.parse(dec.decode(configBytes)) as ImageConfig;
    if (config.architecture && config.architecture !== "386") {
      throw new BerthError(ErrorCode.platformNotAvailable, `Cannot load "${what}": it is a ${config.os ?? "linux"}/${config.architecture} image, not linux/386`);
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
    await d.store?.put(id, configBytes);
    const tags = e.RepoTags ?? [];
    const image = { manifestDigest: "", config, neutralised: [], layerSizes: sizes, layers };
    const got = await addImage(d, image, tags[0], blobs, id);
    for (const t of tags.slice(1)) d.images.tag(got, parseReference(t));
    d.images.event("load", got.id);
    if (tags.length) for (const t of tags) lines.push(`Loaded image: ${shortName(t)}`);
    else lines.push(`Loaded image ID: ${got.id}`);
  }
  return lines;
}

