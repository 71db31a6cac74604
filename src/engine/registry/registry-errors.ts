import { BerthError, ErrorCode } from "../../common/errors.js";

/**
 * Every registry answer that is not a success, mapped to our codes in one place
 * (like containerd's core/remotes/docker/errcode.go). `what` names the thing
 * asked for, as the user typed it: `"alpine:3.99"`.
 */
export async function registryError(res: Response, what: string, action = "pull"): Promise<BerthError> {
  let code = "";
  let detail = "";
  try {
    const body = (await res.clone().json()) as { errors?: Array<{ code?: string; message?: string }> };
    code = body.errors?.[0]?.code ?? "";
    detail = body.errors?.[0]?.message ?? "";
  } catch {
    // not JSON: the status alone speaks
  }
  const cannot = `Cannot ${action} "${what}"`;
  if (res.status === 429 || code === "TOOMANYREQUESTS") {
    const reset = rateLimitReset(res);
    return new BerthError(ErrorCode.registryRateLimited, `${cannot}: the registry limits requests${reset ? `; try again after ${reset}` : ""}`);
  }
  // Docker's daemon words (moby distribution/errors.go notFoundError): the registry's code and message follow
  const name = what.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  const cause = (fallback: string, message: string): string => `${(code || fallback).toLowerCase().replace(/_/g, " ")}: ${detail || message}`;
  if (res.status === 401 || res.status === 403 || code === "UNAUTHORIZED" || code === "DENIED") {
    return new BerthError(ErrorCode.registryUnauthorized, `${cannot}: ${action === "pull" ? `pull access denied for ${name}, repository does not exist or may require 'docker login'` : "access denied"}: ${cause(res.status === 401 ? "UNAUTHORIZED" : "DENIED", res.status === 401 ? "authentication required" : "requested access to the resource is denied")}`);
  }
  if (code === "DIGEST_INVALID") return new BerthError(ErrorCode.digestMismatch, `${cannot}: a blob does not match its digest (tampered or truncated)`);
  if (code === "MANIFEST_UNKNOWN") return new BerthError(ErrorCode.imageNotFound, `${cannot}: manifest for ${what} not found: ${cause(code, "manifest unknown")}`);
  if (code === "NAME_UNKNOWN") return new BerthError(ErrorCode.imageNotFound, `${cannot}: repository ${name} not found: ${cause(code, "repository name not known to registry")}`);
  if (code === "BLOB_UNKNOWN") return new BerthError(ErrorCode.imageNotFound, `${cannot}: the registry lost a layer it listed`);
  if (res.status === 404) return new BerthError(ErrorCode.imageNotFound, `${cannot}: the registry has no such image`);
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return new BerthError(ErrorCode.registryUnavailable, `${cannot}: the registry is unavailable (${res.status})`);
  }
  return new BerthError(ErrorCode.registryError, `${cannot}: the registry answered ${res.status}${detail ? ` (${detail})` : ""}`);
}

/** When a rate limit ends, from Retry-After (seconds or a date) or RateLimit-Reset (seconds). */
function rateLimitReset(res: Response): string | undefined {
  const after = res.headers.get("retry-after") ?? res.headers.get("ratelimit-reset");
  if (!after) return undefined;
  const secs = Number(after);
  const at = Number.isFinite(secs) ? new Date(Date.now() + secs * 1000) : new Date(after);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString().replace(/\.\d+Z$/, "Z");
}

export function unreachable(what: string, url: string, cause: unknown, viaProxy: boolean): BerthError {
  return viaProxy
    ? new BerthError(ErrorCode.proxyUnavailable, `Cannot pull "${what}": the registry proxy at ${new URL(url).origin} does not answer`, { cause })
    : new BerthError(ErrorCode.registryUnavailable, `Cannot pull "${what}": ${new URL(url).host} does not answer`, { cause });
}
