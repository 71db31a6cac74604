import { BerthError, dockerMessage, ErrorCode, isBerthError, type ErrorCode as Code } from "../../common/errors.js";
import { API_VERSION, MIN_API_VERSION, json, type ApiReply, type ApiRequest } from "./api-types.js";

export type RouteHandler = (req: ApiRequest, params: string[]) => Promise<ApiReply> | ApiReply;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
}

/** A route: `path` with `{name}` for a segment ("/containers/{id}/json"); `{name*}` takes the rest (image names have slashes). */
export function route(method: string, path: string, handler: RouteHandler): Route {
  const source = path.replace(/[.]/g, "\\.").replace(/\{[a-z]+\*\}/g, "(.+)").replace(/\{[a-z]+\}/g, "([^/]+)");
  return { method, pattern: new RegExp(`^${source}$`), handler };
}

/** Docker's HTTP status for each error code (moby errdefs: not found 404, conflict 409, invalid parameter 400, system 500). */
const STATUS: Partial<Record<Code, number>> = {
  [ErrorCode.containerNotFound]: 404,
  [ErrorCode.imageNotFound]: 404,
  [ErrorCode.networkNotFound]: 404,
  [ErrorCode.volumeNotFound]: 404,
  [ErrorCode.volumeInUse]: 409,
  [ErrorCode.nameInUse]: 409,
  [ErrorCode.containerWrongState]: 409,
  [ErrorCode.invalidParameter]: 400,
  [ErrorCode.usage]: 400,
  [ErrorCode.invalidReference]: 400,
  [ErrorCode.registryUnauthorized]: 401,
};

/**
 * An error as Docker's daemon answers it: `{"message": …}` with its status.
 * The message is Docker's part of ours (Berth's "Cannot <action>: " prefix dropped),
 * so the docker CLI prints "Error response from daemon: No such container: x".
 */
export function errorReply(e: unknown): ApiReply {
  if (isBerthError(e)) return json({ message: dockerMessage(e) }, STATUS[e.code] ?? 500);
  return json({ message: e instanceof Error ? e.message : String(e) }, 500);
}

export { dockerMessage };

const versionCmp = (a: string, b: string): number => {
  const [a1, a2] = a.split(".").map(Number) as [number, number];
  const [b1, b2] = b.split(".").map(Number) as [number, number];
  return a1 - b1 || a2 - b2;
};

/**
 * Routes Engine API requests: versioned (`/v1.41/…`) and unversioned paths,
 * Docker's answers for versions out of range and unknown routes, and every
 * handler error turned into Docker's error shape (a handler never takes the
 * daemon down).
 */
export class ApiRouter {
  readonly #routes: Route[];

  constructor(routes: Route[]) {
    this.#routes = routes;
  }

  /**
   * @param r.target the path and query as sent ("/v1.47/containers/json?all=1")
   * @returns the reply; never throws
   */
  async handle(r: { method: string; target: string; headers: Record<string, string | undefined>; body: Uint8Array }): Promise<ApiReply> {
    let url: URL;
    try {
      url = new URL(r.target, "http://daemon");
    } catch {
      return json({ message: `invalid request target: ${r.target}` }, 400);
    }
    let path = url.pathname;
    let version = API_VERSION;
    const v = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    if (v) {
      version = v[1]!;
      path = v[2]!;
      if (versionCmp(version, API_VERSION) > 0) return json({ message: `client version ${version} is too new. Maximum supported API version is ${API_VERSION}` }, 400);
      if (versionCmp(version, MIN_API_VERSION) < 0) return json({ message: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version` }, 400);
    }
    const method = r.method === "HEAD" ? "GET" : r.method;
    let pathMatched = false;
    for (const rt of this.#routes) {
      const m = rt.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (rt.method !== method && !(rt.method === "HEAD" && r.method === "HEAD")) continue;
      let params: string[];
      try {
        params = m.slice(1).map(decodeURIComponent);
      } catch {
        return json({ message: `invalid path: ${path}` }, 400);
      }
      try {
        return await rt.handler({ method: r.method, path, query: url.searchParams, headers: r.headers, body: r.body, version }, params);
      } catch (e) {
        return errorReply(e);
      }
    }
    // Docker's mux: an unknown path is 404 "page not found"; a known one with another method, 405
    return pathMatched ? json({ message: "method not allowed" }, 405) : json({ message: "page not found" }, 404);
  }
}

/** The request body as JSON; Docker's 400 when it is not (or is not an object). */
export function jsonBody<T>(req: ApiRequest, options: { optional?: boolean } = {}): T {
  if (req.body.length === 0) {
    if (options.optional) return {} as T;
    throw new BerthError(ErrorCode.invalidParameter, "Cannot read the request: bad parameter: request body is empty");
  }
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(req.body));
  } catch (e) {
    throw new BerthError(ErrorCode.invalidParameter, `Cannot read the request: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new BerthError(ErrorCode.invalidParameter, "Cannot read the request: invalid JSON: the body is not an object");
  return v as T;
}
