import { lookup } from "node:dns/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { isInsecureRegistry, registryApiHost } from "../common/reference.js";
import type { BlobStore } from "../engine/store/blob-store.js";

/**
 * The CORS registry proxy: a page cannot talk to Docker Hub itself (no CORS
 * headers, token service on another origin, blobs redirected to CDNs), so it
 * talks to us at /registry/<registry>/v2/… and we talk to the registry.
 *
 * - only GET/HEAD of manifests, blobs and the /v2/ ping, to allowed registries;
 * - no open proxy: a registry whose address is loopback, private, link-local
 *   or a cloud metadata address is refused unless named in `allowPrivate`;
 * - token challenges are rewritten to our /registry-token endpoint, which only
 *   asks realms an allowed registry named;
 * - blob redirects are followed here (the Authorization header is not sent
 *   across origins), and blobs are verified and cached on disk by digest.
 */
export interface RegistryProxyOptions {
  /** registries that may be reached (default: the well-known public ones) */
  allow?: readonly string[];
  /** registries on loopback/private addresses that may be reached anyway (tests, a classroom mirror) */
  allowPrivate?: readonly string[];
  /** blob cache; none = no caching */
  cache?: BlobStore;
  /** credentials the proxy uses upstream when the page sends none (a classroom behind one IP) */
  upstreamCredentials?: (registry: string) => { username: string; password: string } | undefined;
}

export const DEFAULT_ALLOWED = ["docker.io", "ghcr.io", "quay.io", "gcr.io", "registry.gitlab.com", "mcr.microsoft.com", "public.ecr.aws"];

const EXPOSE = "Docker-Content-Digest, Content-Range, Content-Length, WWW-Authenticate, Docker-Distribution-Api-Version, Accept-Ranges";
const PASS_HEADERS = ["content-type", "content-length", "docker-content-digest", "content-range", "accept-ranges", "docker-distribution-api-version", "etag", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"];

function cors(res: ServerResponse, req: IncomingMessage): void {
  res.setHeader("access-control-allow-origin", req.headers.origin ?? "*");
  res.setHeader("vary", "origin");
  res.setHeader("access-control-expose-headers", EXPOSE);
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code, message }] }));
}

/** Loopback, private (RFC 1918, CGNAT, ULA), link-local (cloud metadata 169.254.169.254) and unspecified addresses. */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const v6 = ip.toLowerCase();
  return v6 === "::1" || v6 === "::" || v6.startsWith("fc") || v6.startsWith("fd") || v6.startsWith("fe80") || v6.startsWith("::ffff:") && isPrivateAddress(v6.slice(7));
}

export class RegistryProxy {
  readonly #o: RegistryProxyOptions;
  readonly #realms = new Set<string>();

  constructor(options: RegistryProxyOptions = {}) {
    this.#o = options;
  }

  /** Answers requests under /registry/ and /registry-token; false for anything else. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (!url.pathname.startsWith("/registry/") && url.pathname !== "/registry-token") return false;
    cors(res, req);
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, HEAD, OPTIONS",
        "access-control-allow-headers": "Authorization, Accept, Range, Content-Type",
        "access-control-max-age": "600",
      }).end();
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      refuse(res, 405, "UNSUPPORTED", "the registry proxy only reads");
      return true;
    }
    if (url.pathname === "/registry-token") await this.#token(req, res, url);
    else await this.#forward(req, res, url);
    return true;
  }

  async #allowed(registry: string): Promise<string | undefined> {
    const allow = this.#o.allow ?? DEFAULT_ALLOWED;
    const privateOk = this.#o.allowPrivate?.includes(registry) ?? false;
    if (!allow.includes(registry) && !privateOk) return `the registry "${registry}" is not on this proxy's list`;
    if (privateOk) return undefined;
    const host = registryApiHost(registry).replace(/:\d+$/, "");
    const addrs = isIP(host) ? [{ address: host }] : await lookup(host, { all: true }).catch(() => []);
    if (addrs.length === 0) return `the registry "${registry}" cannot be resolved`;
    if (addrs.some((a) => isPrivateAddress(a.address))) return `the registry "${registry}" is on a private address`;
    return undefined;
  }

  async #forward(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/registry\/([^/]+)(\/v[12]\/.*)$/.exec(url.pathname);
    if (!m) return refuse(res, 404, "NAME_UNKNOWN", "use /registry/<registry>/v2/…");
    const registry = decodeURIComponent(m[1]!);
    const path = m[2]!;
    // read-only: the ping, manifests, blobs, tag lists (pull -a), the catalog and Docker Hub's search (docker search)
    const readOnly = path === "/v2/" || path === "/v2/_catalog" || /^\/v2\/[a-z0-9._\/-]+\/((manifests|blobs)\/[A-Za-z0-9_.:-]+|tags\/list)$/.test(path);
    const hubSearch = path === "/v1/search" && registry === "docker.io";
    if (!readOnly && !hubSearch) return refuse(res, 404, "UNSUPPORTED", "only manifests, blobs, tag lists, the catalog and search");
    const why = await this.#allowed(registry);
    if (why) return refuse(res, 403, "DENIED", why);

    const digest = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path)?.[1];
    const cache = this.#o.cache;
    if (digest && cache) {
      const hit = await cache.get(digest).catch(() => undefined);
      if (hit) return sendBlob(req, res, digest, hit);
    }

    // Docker Hub's search is on its index host, not its registry's
    const upstream = hubSearch ? `https://index.docker.io${path}${url.search}` : `${isInsecureRegistry(registry) ? "http" : "https"}://${registryApiHost(registry)}${path}${url.search}`;
    const headers: Record<string, string> = {};
    for (const h of ["accept", "authorization"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
    if (!headers["authorization"]) {
      const c = this.#o.upstreamCredentials?.(registry);
      if (c) headers["authorization"] = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    }
    // a cached blob is served whole (with Range support); an uncached one is fetched whole, verified, then served
    if (!digest && req.headers.range) headers["range"] = String(req.headers.range);
    let up: Response;
    try {
      up = await fetch(upstream, { method: digest ? "GET" : req.method, headers, redirect: "follow" });
    } catch {
      return refuse(res, 502, "UNAVAILABLE", `the registry "${registry}" does not answer`);
    }
    if (up.status === 401) {
      const challenge = up.headers.get("www-authenticate");
      if (challenge) res.setHeader("www-authenticate", this.#rewriteChallenge(challenge, req));
    }
    if (digest && up.ok) {
      const body = new Uint8Array(await up.arrayBuffer());
      if (cache) {
        try {
          await cache.put(digest, body);
        } catch {
          // a tampered or truncated blob is not cached, and not served
          return refuse(res, 502, "DIGEST_INVALID", `the registry "${registry}" sent a blob that does not match its digest`);
        }
      }
      return sendBlob(req, res, digest, body);
    }
    const out: Record<string, string> = {};
    for (const h of PASS_HEADERS) {
      const v = up.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(up.status, out);
    if (req.method === "HEAD" || !up.body) {
      res.end();
      await up.body?.cancel();
      return;
    }
    res.end(Buffer.from(await up.arrayBuffer()));
  }

  /** Bearer challenges point at our token endpoint, carrying the real realm, which we remember. */
  #rewriteChallenge(header: string, req: IncomingMessage): string {
    return header.replace(/realm="([^"]+)"/i, (_all, realm: string) => {
      this.#realms.add(realm);
      const self = `http://${req.headers.host ?? "localhost"}/registry-token?realm=${encodeURIComponent(realm)}`;
      return `realm="${self}"`;
    });
  }

  async #token(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const realm = url.searchParams.get("realm");
    if (!realm || !this.#realms.has(realm)) return refuse(res, 403, "DENIED", "unknown token realm");
    const target = new URL(realm);
    for (const [k, v] of url.searchParams) if (k !== "realm") target.searchParams.append(k, v);
    const headers: Record<string, string> = {};
    if (req.headers.authorization) headers["authorization"] = String(req.headers.authorization);
    let up: Response;
    try {
      up = await fetch(target, { headers });
    } catch {
      return refuse(res, 502, "UNAVAILABLE", "the token service does not answer");
    }
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json", "cache-control": "no-store" });
    res.end(Buffer.from(await up.arrayBuffer()));
  }
}

function sendBlob(req: IncomingMessage, res: ServerResponse, digest: string, data: Uint8Array): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "docker-content-digest": digest,
    "accept-ranges": "bytes",
    "cache-control": "public, max-age=31536000, immutable",
  };
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
    if (start > end || start >= data.length) {
      res.writeHead(416, { ...headers, "content-range": `bytes */${data.length}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${data.length}`, "content-length": String(end - start + 1) });
    res.end(req.method === "HEAD" ? undefined : data.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, "content-length": String(data.length) });
  res.end(req.method === "HEAD" ? undefined : data);
}
