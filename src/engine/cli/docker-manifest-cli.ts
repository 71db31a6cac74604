import { parseFlags, requireArgs, usageError } from "../../common/docker-flags.js";
import { BerthError, ErrorCode, isBerthError } from "../../common/errors.js";
import { isIndex, isManifest, MediaType } from "../../common/oci-image.js";
import { formatReference, isInsecureRegistry, parseReference, type Reference } from "../../common/reference.js";
import type { CliContext, Handler } from "./docker-cli-context.js";

/** A manifest or index as the registry sent it. */
export interface ManifestBytes {
  mediaType: string;
  /** "sha256:…" of `bytes` */
  digest: string;
  size: number;
  bytes: Uint8Array;
}

/** What `docker manifest inspect` asks of the registry: a manifest and a config, nothing pulled or stored. */
export interface ManifestSource {
  /**
   * The manifest or index that `ref` names, a full reference ("docker.io/library/alpine:3.20",
   * "ghcr.io/a/b@sha256:…"), checked against its digest.
   * @throws BerthError image-not-found or registry-unauthorized when the registry has no such tag or repository; other registry-* codes
   */
  fetchManifest(ref: string): Promise<ManifestBytes>;
  /**
   * A blob of the repository that `ref` names (an image's config), checked against `digest`.
   * @throws BerthError image-not-found, registry-*
   */
  fetchBlob(ref: string, digest: string): Promise<Uint8Array>;
}

/** What an index says of one manifest. */
interface IndexEntry {
  mediaType?: string;
  digest?: string;
  size?: number;
  platform?: Record<string, unknown>;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Go's json.Marshal escapes these in strings (HTML safety); JSON.stringify does not. */
const htmlEscape = (json: string): string => json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const goJson = (v: unknown, indent?: number): string => htmlEscape(JSON.stringify(v, null, indent));

/**
 * Go's json.Indent: each element on its own line, `{}` and `[]` left empty,
 * strings untouched (escapes and all); space before the value dropped, space
 * after it kept as it is (a manifest's final newline prints as a blank line).
 */
export function goIndent(src: string, indent: string): string {
  let out = "";
  let depth = 0;
  let needIndent = false;
  let done = false;
  const newline = (d: number): string => `\n${indent.repeat(d)}`;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (done) {
      out += c;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (needIndent && c !== "}" && c !== "]") {
      needIndent = false;
      out += newline(++depth);
    }
    if (c === '"') {
      const end = stringEnd(src, i);
      out += src.slice(i, end);
      i = end - 1;
    } else if (c === "{" || c === "[") {
      needIndent = true;
      out += c;
    } else if (c === ",") {
      out += c + newline(depth);
    } else if (c === ":") {
      out += ": ";
    } else if (c === "}" || c === "]") {
      if (needIndent) needIndent = false;
      else out += newline(--depth);
      out += c;
      done = depth === 0;
    } else {
      out += c;
    }
  }
  return out;
}

/** Go's compact as json.Marshal applies it to a Marshaler's output: no space outside strings, HTML characters escaped. */
function goCompact(src: string): string {
  let out = "";
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"') {
      const end = stringEnd(src, i);
      out += htmlEscape(src.slice(i, end));
      i = end - 1;
    } else if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") {
      out += c;
    }
  }
  return out;
}

/** Where the JSON string that opens at `start` ends (after its closing quote). */
function stringEnd(src: string, start: number): number {
  let i = start + 1;
  while (i < src.length && src[i] !== '"') i += src[i] === "\\" ? 2 : 1;
  return i + 1;
}

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** An OCI platform as Go writes it (ocispec.Platform, manifestlist.PlatformSpec less its CPU features): os and architecture always, the rest when set. */
function goPlatform(p: Record<string, unknown>): Record<string, unknown> {
  const str = (v: unknown): string => (typeof v === "string" ? v : "");
  const features = Array.isArray(p["os.features"]) ? p["os.features"].filter((f) => typeof f === "string") : [];
  return {
    architecture: str(p["architecture"]),
    os: str(p["os"]),
    ...(str(p["os.version"]) ? { "os.version": str(p["os.version"]) } : {}),
    ...(features.length ? { "os.features": features } : {}),
    ...(str(p["variant"]) ? { variant: str(p["variant"]) } : {}),
  };
}

/** cli/manifest/types.ImageManifest as json.Marshal writes it (compact): the --verbose form of one manifest. */
function imageManifestJson(ref: string, m: ManifestBytes, platform: Record<string, unknown>): string {
  const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size, platform };
  const field = m.mediaType === MediaType.ociManifest ? "OCIManifest" : "SchemaV2Manifest";
  return `{"Ref":${goJson(ref)},"Descriptor":${goJson(descriptor)},"Raw":${goJson(base64(m.bytes))},"${field}":${goCompact(text(m.bytes))}}`;
}

/**
 * distribution/reference's ParseNormalizedNamed, in its words: the lowercase
 * check comes first (on the repository with docker.io's "library/"), any other
 * fault is "invalid reference format".
 */
function normalize(typed: string): Reference {
  const slash = typed.indexOf("/");
  const first = typed.slice(0, slash);
  const hub = slash < 0 || (!/[.:]/.test(first) && first !== "localhost" && first === first.toLowerCase());
  let rest = hub ? typed : typed.slice(slash + 1);
  if ((hub || first === "index.docker.io" || first === "docker.io") && !rest.includes("/")) rest = `library/${rest}`;
  const repository = rest.split(":")[0]!;
  if (repository !== repository.toLowerCase()) throw usageError(`invalid reference format: repository name (${repository}) must be lowercase`);
  try {
    return parseReference(typed);
  } catch (e) {
    if (isBerthError(e) && e.code === ErrorCode.invalidReference) throw usageError("invalid reference format");
    throw e;
  }
}

const MISSING = new Set<string>([ErrorCode.imageNotFound, ErrorCode.registryUnauthorized]);

/**
 * What `docker manifest inspect` prints (cli/command/manifest/inspect.go): a
 * manifest re-indented with tabs; an index rebuilt as docker/distribution's
 * manifest list (3 spaces); with `verbose`, cli/manifest/types.ImageManifest
 * (one, or one per entry of the index).
 */
async function inspect(src: ManifestSource, ref: Reference, verbose: boolean): Promise<string> {
  const name = formatReference(ref);
  // docker/cli goes on to the next endpoint on UNAUTHORIZED, MANIFEST_UNKNOWN and NAME_UNKNOWN, then gives up with this (cli/registry/client/fetcher.go)
  const fetchOrMissing = (r: string): Promise<ManifestBytes> =>
    src.fetchManifest(r).catch((e: unknown) => {
      throw isBerthError(e) && MISSING.has(e.code) ? usageError(`no such manifest: ${name}`) : e;
    });
  const top = await fetchOrMissing(name);
  if (isManifest(top.mediaType)) {
    if (!verbose) return `${goIndent(text(top.bytes), "\t")}\n`;
    const configDigest = (JSON.parse(text(top.bytes)) as { config?: { digest?: string } }).config?.digest;
    let config: unknown = {};
    try {
      if (configDigest) config = JSON.parse(text(await src.fetchBlob(name, configDigest)));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    const platform = goPlatform(config && typeof config === "object" ? (config as Record<string, unknown>) : {});
    return `${goIndent(imageManifestJson(name, top, platform), "\t")}\n`;
  }
  if (!isIndex(top.mediaType)) throw usageError(`unsupported manifest media type and no default available: ${top.mediaType}`);
  const entries = (JSON.parse(text(top.bytes)) as { manifests?: IndexEntry[] | null }).manifests ?? [];
  // an empty list counts as not found (GetManifestList's "done" is len(result) > 0)
  if (!entries.length) throw usageError(`no such manifest: ${name}`);
  if (!verbose) {
    // Docker fetches each entry and writes its digest, size and type: the index's own, when the registry is consistent
    const manifests = entries.map((d) => ({
      ...(d.mediaType ? { mediaType: d.mediaType } : {}),
      ...(d.size ? { size: d.size } : {}),
      ...(d.digest ? { digest: d.digest } : {}),
      platform: goPlatform(d.platform ?? {}),
    }));
    const mediaType = entries[0]!.mediaType === MediaType.ociManifest ? MediaType.ociIndex : MediaType.dockerList;
    return `${goJson({ schemaVersion: 2, mediaType, manifests }, 3)}\n`;
  }
  const repo = `${ref.registry}/${ref.repository}`;
  const tagged = `${repo}${ref.tag ? `:${ref.tag}` : ""}`;
  const items: string[] = [];
  for (const d of entries) {
    const m = await fetchOrMissing(`${repo}@${d.digest ?? ""}`);
    if (isIndex(m.mediaType)) throw usageError("unsupported manifest type: *manifestlist.DeserializedManifestList");
    if (!isManifest(m.mediaType)) throw usageError(`unsupported manifest media type and no default available: ${m.mediaType}`);
    items.push(imageManifestJson(`${tagged}@${m.digest}`, m, goPlatform(d.platform ?? {})));
  }
  return `${goIndent(`[${items.join(",")}]`, "\t")}\n`;
}

/**
 * `docker manifest inspect [--verbose] [MANIFEST_LIST] MANIFEST`, by handler
 * name ("manifest-inspect"); `source` reaches the registry for a command.
 */
export function manifestCommands(source: (ctx: CliContext) => ManifestSource): Record<string, Handler> {
  return {
    async "manifest-inspect"(ctx, args) {
      const { opts, rest } = parseFlags(args, { insecure: "bool", "v,verbose": "bool" }, ctx.path, { interspersed: true });
      requireArgs(rest, { min: 1, max: 2 }, ctx.path);
      const ref = normalize(rest.at(-1)!);
      if (rest.length === 2) {
        normalize(rest[0]!);
        // a manifest of a local list: Berth has no `docker manifest create`, so its store is empty (cli/manifest/store)
        throw usageError(`No such manifest: ${formatReference(ref)}`);
      }
      if (opts.has("insecure") && !isInsecureRegistry(ref.registry)) throw new BerthError(ErrorCode.invalidParameter, "Cannot use --insecure: Berth speaks plain HTTP only to localhost and 127.x registries");
      ctx.s.stdout(await inspect(source(ctx), ref, opts.has("verbose")));
      return 0;
    },
  };
}
