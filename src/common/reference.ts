import { BerthError, ErrorCode } from "./errors.js";

/**
 * Image references with Docker's rules (distribution/reference):
 * `busybox` is `docker.io/library/busybox:latest`; the first path part is a
 * registry host when it has a `.` or a `:` or is `localhost`; `localhost[:PORT]`
 * and `127.x.x.x[:PORT]` registries speak plain HTTP.
 */
export interface Reference {
  /** registry host[:port], e.g. "docker.io", "ghcr.io", "localhost:5000" */
  registry: string;
  /** repository path, e.g. "library/busybox" */
  repository: string;
  /** the tag; "latest" when neither tag nor digest was given */
  tag: string | undefined;
  digest: string | undefined;
}

export const DOCKER_HUB = "docker.io";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_PART = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** distribution/reference's words: "invalid reference format", with the reason when it has one. */
function invalid(ref: string, why?: string): BerthError {
  return new BerthError(ErrorCode.invalidReference, `Cannot use "${ref}" as an image reference: invalid reference format${why ? `: ${why}` : ""}`);
}

function isDomain(s: string): boolean {
  const [host, port, ...rest] = s.split(":");
  if (rest.length > 0 || host === undefined || host === "") return false;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return false;
  return host.split(".").every((p) => DOMAIN_PART.test(p));
}

export function parseReference(ref: string): Reference {
  if (ref.length === 0) throw invalid(ref);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, "invalid digest format");
    if (digest.startsWith("sha256:") && !SHA256.test(digest)) throw invalid(ref, "invalid sha256 digest");
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  // distribution's splitDockerDomain: a first part with ".", ":", "localhost" or a capital letter is a registry
  if (parts.length > 1 && (parts[0]!.includes(".") || parts[0]!.includes(":") || parts[0] === "localhost" || parts[0] !== parts[0]!.toLowerCase())) {
    if (!isDomain(parts[0]!)) throw invalid(ref);
    registry = parts.shift()!;
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (parts.some((p) => p !== p.toLowerCase() && COMPONENT.test(p.toLowerCase()))) {
    throw invalid(ref, `repository name (${registry === DOCKER_HUB && parts.length === 1 ? "library/" : ""}${parts.join("/")}) must be lowercase`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) throw invalid(ref);
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (registry.length + 1 + repository.length > 255) throw invalid(ref, "repository name must not be more than 255 characters");
  return { registry, repository, tag: tag ?? (digest ? undefined : "latest"), digest };
}

/** The full form: `docker.io/library/busybox:latest`, `ghcr.io/a/b@sha256:…`. */
export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The short form Docker prints in `docker images`: no docker.io/, no library/. */
export function familiarName(r: Reference): string {
  if (r.registry !== DOCKER_HUB) return `${r.registry}/${r.repository}`;
  return r.repository.startsWith("library/") ? r.repository.slice("library/".length) : r.repository;
}

/** Registries on this machine speak plain HTTP, as Docker allows for them. */
export function isInsecureRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The registry's API host: Docker Hub's is registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** A registry as `docker login` and `POST /auth` name it: Docker Hub's many spellings are "docker.io"; others lose scheme and path. */
export function serverName(server: string | undefined): string {
  if (!server || /^(https?:\/\/)?(index\.)?docker\.io(\/v1\/?)?$/.test(server) || server === "registry-1.docker.io") return "docker.io";
  return server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

/** A reference as Docker's CLI prints it: familiar name, `:tag`, `@digest` ("busybox:latest", "ghcr.io/a/b@sha256:…"). */
export function shortName(r: Reference): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}
