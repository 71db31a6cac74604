import { BerthError, ErrorCode } from "../../common/errors.js";
import {
  DEFAULT_PLATFORM, isIndex, isManifest, selectPlatform,
  type ImageIndex, type ImageManifest, type Platform,
} from "../../common/oci-image.js";
import { familiarName, type Reference } from "../../common/reference.js";
import type { BlobStore } from "../store/blob-store.js";
import { compressionOf } from "../unpack/decompress.js";
import { LayerStore } from "../unpack/layer-store.js";
import type { RegistryClient } from "../registry/registry-client.js";

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
  /** the layer was unpacked already (another image shares it): nothing was downloaded */
  existed?: boolean;
}

const json = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

/**
 * Pull as a walk over descriptors (containerd's images/handlers.go): index ->
 * the platform's manifest -> config and layers, each verified by the client
 * and unpacked into the layer store as it downloads (a layer already there,
 * from another image, is neither downloaded nor unpacked again).
 */
export interface PullOptions {
  platform?: Platform;
  onProgress?: (p: PullProgress) => void;
  /** blobs found here are not downloaded; downloaded ones are kept here */
  store?: BlobStore;
  /** where the layers are unpacked */
  layers: LayerStore;
}

/** The digest of the platform's manifest `ref` names now: one or two manifest requests, no blobs. */
export async function currentManifestDigest(client: RegistryClient, ref: Reference, platform: Platform = DEFAULT_PLATFORM): Promise<string> {
  const what = `${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  const m = await client.manifest(ref.registry, ref.repository, ref.digest ?? ref.tag ?? "latest", what);
  return isIndex(m.mediaType) ? selectPlatform(json<ImageIndex>(m.body), platform, what).digest : m.digest;
}

export async function pullImage(client: RegistryClient, ref: Reference, o: PullOptions): Promise<PulledImage> {
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
  const fetchBlob = async (digest: string, size: number): Promise<Uint8Array> => {
    const cached = await o.store?.get(digest).catch(() => undefined);
    if (cached) return cached;
    const data = await client.blob(ref.registry, ref.repository, digest, { what, size });
    // storage-full reaches the user; what was stored before stays intact
    await o.store?.put(digest, data);
    return data;
  };
  const configBytes = await fetchBlob(manifest.config.digest, manifest.config.size);
  const config = json<ImageConfig>(configBytes);
  if (config.architecture && config.architecture !== platform.architecture) {
    throw new BerthError(ErrorCode.platformNotAvailable, `Cannot pull "${what}": it is a ${config.os ?? "linux"}/${config.architecture} image, not ${platform.os}/${platform.architecture}`);
  }
  for (const layer of manifest.layers) {
    if (!compressionOf(layer.mediaType)) {
      throw new BerthError(ErrorCode.unsupportedMediaType, `Cannot pull "${what}": layers of type "${layer.mediaType}" are not supported`);
    }
  }
  const keys = await LayerStore.chainKeys(manifest.layers.map((l) => l.digest));
  const neutralised: string[] = [];
  const layerSizes: number[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const key = keys[i]!;
    const parent = i > 0 ? keys[i - 1] : undefined;
    const label = `layer ${layer.digest.slice(0, 19)} of "${what}"`;
    const compression = compressionOf(layer.mediaType)!;
    const progress = (loaded: number, existed = false): void => o.onProgress?.({ layer: layer.digest, loaded, total: layer.size, ...(existed ? { existed } : {}) });
    let report;
    // a layer already unpacked counts as there only while its blob is kept too: after an rmi the
    // blob store lost it (the 9p share keeps the directory), and a save or a restart needs the blob
    const unpacked = o.layers.has(key) && (!o.store || (await o.store.has(layer.digest).catch(() => false)));
    const stored = unpacked ? undefined : await o.store?.get(layer.digest).catch(() => undefined);
    if (unpacked || stored) {
      // a layer already unpacked (another image has it) or already downloaded
      progress(layer.size, unpacked);
      report = await o.layers.unpack(key, parent, stored ?? new Uint8Array(0), compression, label);
    } else {
      // unpack while it downloads; the layer becomes visible only once the download is verified
      const pipe = new TransformStream<Uint8Array, Uint8Array>();
      let writer: WritableStreamDefaultWriter<Uint8Array> | undefined = pipe.writable.getWriter();
      const unpacking = o.layers.unpack(key, parent, pipe.readable, compression, label);
      unpacking.catch(() => {});
      let data: Uint8Array;
      try {
        data = await client.blob(ref.registry, ref.repository, layer.digest, {
          what, size: layer.size, onProgress: progress,
          onChunk: (c) => void writer?.write(c).catch(() => {}),
          // the server sent it all again: unpack from the verified bytes instead
          onRestart: () => {
            void writer?.abort(new Error("restarted")).catch(() => {});
            writer = undefined;
          },
        });
        await o.store?.put(layer.digest, data);
      } catch (e) {
        void writer?.abort(e).catch(() => {});
        await unpacking.catch(() => {});
        throw e;
      }
      if (writer) {
        void writer.close().catch(() => {});
        report = await unpacking;
      } else {
        await unpacking.catch(() => {});
        report = await o.layers.unpack(key, parent, data, compression, label);
      }
    }
    layerSizes.push(report.size);
    neutralised.push(...report.neutralised);
  }
  return { reference: ref, manifestDigest: m.digest, id: manifest.config.digest, config, neutralised, layerSizes, layers: manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })) };
}
