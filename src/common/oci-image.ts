import { BerthError, ErrorCode } from "./errors.js";

/** Media types of OCI and Docker v2.2 images, and what the registry client accepts. */
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** Registry 2.8 answers 404 for OCI manifests unless Accept names the OCI types. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest].join(", ");

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}
export function isManifest(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform & { "os.version"?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "386" };

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** `linux/386`, `linux/arm64/v8`, or `386` alone (os linux), as `--platform` takes them. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split("/");
  if (parts.some((p) => !/^[a-z0-9._-]+$/.test(p)) || parts.length > 3) {
    throw new BerthError(ErrorCode.usage, `Cannot use "${s}" as a platform: give os/arch[/variant], e.g. "linux/386"`);
  }
  if (parts.length === 1) return { os: "linux", architecture: normaliseArch(parts[0]!) };
  const [os, arch, variant] = parts as [string, string, string?];
  return variant ? { os, architecture: normaliseArch(arch), variant } : { os, architecture: normaliseArch(arch) };
}

function normaliseArch(a: string): string {
  return ({ i386: "386", i686: "386", x86_64: "amd64", x86: "386", aarch64: "arm64" } as Record<string, string>)[a] ?? a;
}

function matches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (have.os !== want.os || normaliseArch(have.architecture) !== want.architecture) return false;
  return want.variant === undefined || have.variant === want.variant;
}

/**
 * The manifest of an index for `platform`, or `platform-not-available` naming
 * the platforms the image does have (attestation manifests left out).
 */
export function selectPlatform(index: ImageIndex, platform: Platform, ref: string): Descriptor {
  const candidates = index.manifests.filter((m) => m.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest");
  const found = candidates.find((m) => matches(platform, m.platform));
  if (found) return found;
  const have = [...new Set(candidates.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform!)))];
  throw new BerthError(
    ErrorCode.platformNotAvailable,
    `Cannot pull "${ref}": it has no ${formatPlatform(platform)} image${have.length ? ` (it has ${have.join(", ")})` : ""}`,
  );
}

/** `sha256:<64 hex>`, the only digest algorithm Berth verifies. */
export function isSha256Digest(d: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(d);
}
