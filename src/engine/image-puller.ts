import { BerthError, ErrorCode } from "../common/errors.js";
import {
  DEFAULT_PLATFORM, MediaType, isIndex, isManifest, selectPlatform,
  type ImageIndex, type ImageManifest, type Platform,
} from "../common/oci-image.js";
import { familiarName, type Reference } from "../common/reference.js";
import { gunzip } from "./gunzip.js";
import { LayerTree } from "./layer-tree.js";
import type { BlobStore } from "./blob-store.js";
import type { RegistryClient } from "./registry-client.js";
import { readTar } from "./tar-reader.js";

/** The parts of an image config that running it needs. */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    Volumes?: Record<string, unknown>;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
  author?: string;
  history?: Array<{ created?: string; created_by?: string; comment?: string; author?: string; empty_layer?: boolean }>;
}

export interface PulledImage {
  reference: Reference;
  /** the platform manifest's digest */
  manifestDigest: string;
  /** the config's digest: Docker's image ID */
  id: string;
  config: ImageConfig;
  tree: LayerTree;
  /** entries dropped from layers because they tried to escape the root */
  neutralised: string[];
  /** each layer's uncompressed (tar) size, bottom first */
  layerSizes: number[];
  /** the layers' blobs (in the blob store when there is one), bottom first */
  layers: Array<{ digest: string; mediaType: string; size: number }>;
}

export interface PullProgress {
  layer: string;
  loaded: number;
  total: number;
}

const LAYER_GZIP = new Set<string>([MediaType.ociLayerGzip, MediaType.dockerLayerGzip, MediaType.dockerForeignLayerGzip]);
const json = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

/**
 * Pull as a walk over descriptors (containerd's images/handlers.go): index ->
 * the platform's manifest -> config and layers, each verified by the client,
 * then the layers applied in order into one tree.
 */
export interface PullOptions {
  platform?: Platform;
  onProgress?: (p: PullProgress) => void;
  /** blobs found here are not downloaded; downloaded ones are kept here */
  store?: BlobStore;
}

/** The digest of the platform's manifest `ref` names now: one or two manifest requests, no blobs. */
export async function currentManifestDigest(client: RegistryClient, ref: Reference, platform: Platform = DEFAULT_PLATFORM): Promise<string> {
  const what = `${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  const m = await client.manifest(ref.registry, ref.repository, ref.digest ?? ref.tag ?? "latest", what);
  return isIndex(m.mediaType) ? selectPlatform(json<ImageIndex>(m.body), platform, what).digest : m.digest;
}

export async function pullImage(client: RegistryClient, ref: Reference, o: PullOptions = {}): Promise<PulledImage> {
  const what = `${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  const platform = o.platform ?? DEFAULT_PLATFORM;
  let m = await client.manifest(ref.registry, ref.repository, ref.digest ?? ref.tag ?? "latest", what);
  if (isIndex(m.mediaType)) {
    const d = selectPlatform(json<ImageIndex>(m.body), platform, what);
    m = await client.manifest(ref.registry, ref.repository, d.digest, what);
  }
  if (!isManifest(m.mediaType)) {
    throw new BerthError(ErrorCode.unsupportedMediaType, `Cannot pull "${what}": the manifest is of type "${m.mediaType}", not an OCI or Docker v2 image`);
  }
  const manifest = json<ImageManifest>(m.body);
  const fetchBlob = async (digest: string, size: number, onProgress?: (n: number) => void): Promise<Uint8Array> => {
    const cached = await o.store?.get(digest).catch(() => undefined);
    if (cached) {
      onProgress?.(cached.length);
      return cached;
    }
    const data = await client.blob(ref.registry, ref.repository, digest, { what, size, ...(onProgress ? { onProgress } : {}) });
    // storage-full reaches the user; what was stored before stays intact
    await o.store?.put(digest, data);
    return data;
  };
  const configBytes = await fetchBlob(manifest.config.digest, manifest.config.size);
  const config = json<ImageConfig>(configBytes);
  if (config.architecture && config.architecture !== platform.architecture) {
    throw new BerthError(ErrorCode.platformNotAvailable, `Cannot pull "${what}": it is a ${config.os ?? "linux"}/${config.architecture} image, not ${platform.os}/${platform.architecture}`);
  }
  const tree = new LayerTree();
  const neutralised: string[] = [];
  const layerSizes: number[] = [];
  for (const layer of manifest.layers) {
    if (!LAYER_GZIP.has(layer.mediaType) && layer.mediaType !== MediaType.ociLayer) {
      throw new BerthError(ErrorCode.unsupportedMediaType, `Cannot pull "${what}": layers of type "${layer.mediaType}" are not supported`);
    }
    const blob = await fetchBlob(layer.digest, layer.size, o.onProgress ? (loaded) => o.onProgress!({ layer: layer.digest, loaded, total: layer.size }) : undefined);
    let tar: Uint8Array;
    try {
      tar = LAYER_GZIP.has(layer.mediaType) ? gunzip(blob) : blob;
    } catch (e) {
      throw new BerthError(ErrorCode.digestMismatch, `Cannot unpack "${what}": layer ${layer.digest.slice(0, 19)} is not valid gzip`, { cause: e });
    }
    layerSizes.push(tar.length);
    neutralised.push(...tree.apply(readTar(tar, `layer ${layer.digest.slice(0, 19)} of "${what}"`)).neutralised);
  }
  return { reference: ref, manifestDigest: m.digest, id: manifest.config.digest, config, tree, neutralised, layerSizes, layers: manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })) };
}

