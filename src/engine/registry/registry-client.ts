import { BerthError, ErrorCode } from "../../common/errors.js";
import { MANIFEST_ACCEPT } from "../../common/oci-image.js";
import { isInsecureRegistry, registryApiHost } from "../../common/reference.js";
import { sha256Hex } from "../digest.js";
import { registryError, unreachable } from "./registry-errors.js";

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /**
   * The base URL to reach a registry at: by default https://HOST (http:// for
   * localhost and 127.x). Through the CORS proxy, the proxy's own URL.
   */
  endpoint?: (registry: string) => { url: string; viaProxy: boolean };
  credentials?: (registry: string) => RegistryCredentials | undefined;
  /** attempts for a request that fails on the network or with a 5xx (default 4) */
  attempts?: number;
  /** first backoff in ms, doubled each time (default 250) */
  backoffMs?: number;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Uint8Array;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"` */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? "";
  return { scheme: m[1]!.toLowerCase(), params };
}

function basic(c: RegistryCredentials): string {
  return `Basic ${btoa(`${c.username}:${c.password}`)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A small client of the OCI distribution API: token (Bearer) and Basic auth,
 * redirects to CDNs without the Authorization header, retries with backoff,
 * verified manifests and blobs, and blob downloads that resume by Range.
 */
export class RegistryClient {
  readonly #o: Required<Omit<RegistryClientOptions, "credentials">> & Pick<RegistryClientOptions, "credentials">;
  readonly #tokens = new Map<string, string>();
  /** `docker login`: credentials the engine holds (never handed to the page), before the configured ones */
  readonly #logins = new Map<string, RegistryCredentials>();

  constructor(options: RegistryClientOptions = {}) {
    this.#o = {
      endpoint: options.endpoint ?? ((r) => ({ url: `${isInsecureRegistry(r) ? "http" : "https"}://${registryApiHost(r)}`, viaProxy: false })),
      credentials: options.credentials,
      attempts: options.attempts ?? 4,
      backoffMs: options.backoffMs ?? 250,
    };
  }

  /**
   * `docker login`: checks the credentials against the registry's /v2/ (the
   * token service for Bearer registries, Basic otherwise) and keeps them;
   * `registry-unauthorized` when the registry refuses them.
   */
  async login(registry: string, creds: RegistryCredentials): Promise<void> {
    const what = `log in to ${registry}`;
    const { url: base, viaProxy } = this.#o.endpoint(registry);
    let res: Response;
    try {
      res = await fetch(`${base}/v2/`, { headers: { authorization: basic(creds) } });
    } catch (e) {
      throw unreachable(what, base, e, viaProxy);
    }
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get("www-authenticate"));
      if (challenge?.scheme !== "bearer" || !challenge.params["realm"]) {
        throw new BerthError(ErrorCode.registryUnauthorized, `Cannot log in to ${registry}: unauthorized: incorrect username or password`);
      }
      const realm = new URL(challenge.params["realm"]);
      if (challenge.params["service"]) realm.searchParams.set("service", challenge.params["service"]);
      try {
        res = await fetch(realm, { headers: { authorization: basic(creds) } });
      } catch (e) {
        throw unreachable(what, realm.href, e, viaProxy);
      }
      if (res.status === 401 || res.status === 403) throw new BerthError(ErrorCode.registryUnauthorized, `Cannot log in to ${registry}: unauthorized: incorrect username or password`);
    }
    if (!res.ok) throw await registryError(res, what);
    await res.body?.cancel();
    this.#logins.set(registry, creds);
    for (const k of this.#tokens.keys()) if (k.startsWith(`${registry} `)) this.#tokens.delete(k);
  }

  /** `docker logout`: forgets the registry's credentials and tokens; false when there were none. */
  logout(registry: string): boolean {
    for (const k of this.#tokens.keys()) if (k.startsWith(`${registry} `)) this.#tokens.delete(k);
    return this.#logins.delete(registry);
  }

  /** The repository's tags (`/v2/<name>/tags/list`), for `docker pull -a`. */
  async tags(registry: string, repository: string, what: string): Promise<string[]> {
    const res = await this.#request(registry, repository, "tags/list", {}, what);
    const body = (await res.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /**
   * `docker search`: Docker Hub's search API for docker.io; elsewhere the
   * registry's catalog (`/v2/_catalog`), filtered by the term.
   */
  async search(registry: string, term: string, limit: number): Promise<Array<{ name: string; description: string; stars: number; official: boolean }>> {
    const what = `search ${registry} for "${term}"`;
    const { url: base, viaProxy } = this.#o.endpoint(registry);
    const url = registry === "docker.io"
      ? `${viaProxy ? base : "https://index.docker.io"}/v1/search?q=${encodeURIComponent(term)}&n=${limit}`
      : `${base}/v2/_catalog?n=1000`;
    let res: Response;
    try {
      res = await this.#fetchFollowing(url, this.#basicFor(registry) ? { authorization: this.#basicFor(registry)! } : {});
    } catch (e) {
      throw unreachable(what, url, e, viaProxy);
    }
    if (!res.ok) throw await registryError(res, `search ${registry}`);
    if (registry === "docker.io") {
      const body = (await res.json()) as { results?: Array<{ name: string; description?: string; star_count?: number; is_official?: boolean }> };
      return (body.results ?? []).map((r) => ({ name: r.name, description: r.description ?? "", stars: r.star_count ?? 0, official: r.is_official ?? false }));
    }
    const body = (await res.json()) as { repositories?: string[] };
    return (body.repositories ?? []).filter((r) => r.includes(term)).slice(0, limit).map((name) => ({ name: `${registry}/${name}`, description: "", stars: 0, official: false }));
  }

  /** The manifest (or index) at `reference` (a tag or a digest), checked against its digest. */
  async manifest(registry: string, repository: string, reference: string, what: string): Promise<FetchedManifest> {
    const res = await this.#request(registry, repository, `manifests/${reference}`, { accept: MANIFEST_ACCEPT }, what);
    const body = new Uint8Array(await res.arrayBuffer());
    const digest = `sha256:${await sha256Hex(body)}`;
    const claimed = res.headers.get("docker-content-digest");
    if (reference.startsWith("sha256:") ? digest !== reference : claimed !== null && claimed.startsWith("sha256:") && claimed !== digest) {
      throw new BerthError(ErrorCode.digestMismatch, `Cannot pull "${what}": the manifest does not match its digest (tampered or truncated)`);
    }
    let mediaType = res.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
    try {
      mediaType = (JSON.parse(new TextDecoder().decode(body)) as { mediaType?: string }).mediaType ?? mediaType;
    } catch {
      throw new BerthError(ErrorCode.registryError, `Cannot pull "${what}": the manifest is not JSON`);
    }
    return { mediaType, digest, body };
  }

  /**
   * A whole blob, verified against `digest` (and `size`) before it is returned.
   * A download that breaks off is resumed from where it stopped (Range).
   */
  /**
   * A blob, verified against its digest. `onChunk` sees the bytes as they
   * arrive (to unpack while downloading); `onRestart` is called when a broken
   * download has to start again from the first byte (no Range support).
   */
  async blob(registry: string, repository: string, digest: string, o: { what: string; size?: number; onProgress?: (loaded: number) => void; onChunk?: (chunk: Uint8Array) => void; onRestart?: () => void }): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let loaded = 0;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = loaded > 0 ? { range: `bytes=${loaded}-` } : {};
      const res = await this.#request(registry, repository, `blobs/${digest}`, headers, o.what);
      if (loaded > 0 && res.status !== 206) {
        parts.length = 0; // the server sent it all again
        loaded = 0;
        o.onRestart?.();
      }
      try {
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
          loaded += value.length;
          if (o.size !== undefined && loaded > o.size) throw new BerthError(ErrorCode.digestMismatch, `Cannot pull "${o.what}": a layer is larger than its manifest says`);
          o.onChunk?.(value);
          o.onProgress?.(loaded);
        }
        break;
      } catch (e) {
        if (e instanceof BerthError || attempt >= this.#o.attempts) {
          throw e instanceof BerthError ? e : new BerthError(ErrorCode.registryUnavailable, `Cannot pull "${o.what}": the download of ${digest.slice(0, 19)} broke off`, { cause: e });
        }
        await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
      }
    }
    const out = new Uint8Array(loaded);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    if ((o.size !== undefined && out.length !== o.size) || `sha256:${await sha256Hex(out)}` !== digest) {
      throw new BerthError(ErrorCode.digestMismatch, `Cannot pull "${o.what}": layer ${digest.slice(0, 19)} does not match its digest (tampered or truncated)`);
    }
    return out;
  }

  async #request(registry: string, repository: string, path: string, headers: Record<string, string>, what: string): Promise<Response> {
    const { url: base, viaProxy } = this.#o.endpoint(registry);
    const url = `${base}/v2/${repository}/${path}`;
    const scope = `repository:${repository}:pull`;
    const tokenKey = `${registry} ${scope}`;
    let authorization = this.#tokens.get(tokenKey) ?? this.#basicFor(registry);
    let triedAuth = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.#fetchFollowing(url, { ...headers, ...(authorization ? { authorization } : {}) });
      } catch (e) {
        if (attempt >= this.#o.attempts) throw unreachable(what, url, e, viaProxy);
        await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
        continue;
      }
      if (res.status === 401 && !triedAuth) {
        triedAuth = true;
        const challenge = parseChallenge(res.headers.get("www-authenticate"));
        if (challenge?.scheme === "bearer" && challenge.params["realm"]) {
          authorization = `Bearer ${await this.#token(registry, challenge, scope, what, viaProxy)}`;
          this.#tokens.set(tokenKey, authorization);
          attempt--;
          continue;
        }
        const creds = this.#credentials(registry);
        if (challenge?.scheme === "basic" && creds) {
          authorization = basic(creds);
          attempt--;
          continue;
        }
      }
      if (res.status >= 500 && res.status !== 502 && attempt < this.#o.attempts) {
        await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
        continue;
      }
      if (!res.ok) throw await registryError(res, what);
      return res;
    }
  }

  #credentials(registry: string): RegistryCredentials | undefined {
    return this.#logins.get(registry) ?? this.#o.credentials?.(registry);
  }

  #basicFor(registry: string): string | undefined {
    const c = this.#credentials(registry);
    return c ? basic(c) : undefined;
  }

  /** The token dance: GET realm?service&scope, with Basic credentials if there are any. */
  async #token(registry: string, challenge: Challenge, scope: string, what: string, viaProxy: boolean): Promise<string> {
    const realm = new URL(challenge.params["realm"]!);
    if (challenge.params["service"]) realm.searchParams.set("service", challenge.params["service"]);
    realm.searchParams.set("scope", challenge.params["scope"] ?? scope);
    const creds = this.#credentials(registry);
    let res: Response;
    try {
      res = await fetch(realm, { headers: creds ? { authorization: basic(creds) } : {} });
    } catch (e) {
      throw unreachable(what, realm.href, e, viaProxy);
    }
    if (!res.ok) throw await registryError(res, what);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BerthError(ErrorCode.registryUnauthorized, `Cannot pull "${what}": the registry's token service gave no token`);
    return token;
  }

  /**
   * fetch that follows redirects itself, so the Authorization header is dropped
   * when a redirect leaves the registry's origin (Docker Hub sends blobs to a CDN).
   * Where redirects cannot be seen (a browser's "opaqueredirect"), the browser
   * follows them and drops the header on a cross-origin hop by itself.
   */
  async #fetchFollowing(url: string, headers: Record<string, string>): Promise<Response> {
    let current = url;
    let h = headers;
    for (let hops = 0; hops < 6; hops++) {
      const res = await fetch(current, { headers: h, redirect: "manual" });
      if (res.type === "opaqueredirect") return fetch(current, { headers: h, redirect: "follow" });
      if (res.status < 300 || res.status >= 400 || !res.headers.get("location")) return res;
      const next = new URL(res.headers.get("location")!, current);
      if (next.origin !== new URL(current).origin) {
        const { authorization: _dropped, ...rest } = h;
        h = rest;
      }
      await res.body?.cancel();
      current = next.href;
    }
    throw new TypeError(`too many redirects from ${url}`);
  }
}
