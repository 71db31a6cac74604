import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { readFile } from "node:fs/promises";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

/** URL prefix -> directory. The first mount whose prefix matches serves the request. */
export interface Mount {
  prefix: string;
  dir: string;
  /** Cache-Control for this mount's files */
  cache?: string;
}

// Compressed copies, made once per file version: the guest files are megabytes
// and compress well (v86.wasm 2.1 MB -> ~0.7 MB), and a first visit is measured in them.
const gzCache = new Map<string, { mtimeMs: number; data: Buffer }>();

/** Serves a GET/HEAD for `url` from the mounts; answers false when no mount has it. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, mounts: readonly Mount[]): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://x");
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return false;
  }
  for (const m of mounts) {
    if (!path.startsWith(m.prefix)) continue;
    let rel = path.slice(m.prefix.length);
    if (rel === "" || rel.endsWith("/")) rel += "index.html";
    const file = normalize(join(m.dir, rel));
    // never outside the mount, whatever "..", "%2e%2e" or NUL the URL holds
    if (!file.startsWith(resolve(m.dir) + sep) || file.includes("\0")) return false;
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = { "content-type": type, etag, "cache-control": m.cache ?? "no-cache" };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) && !file.endsWith(".gz") && !type.startsWith("image/png");
    if (gzip) {
      let c = gzCache.get(file);
      if (!c || c.mtimeMs !== st.mtimeMs) {
        c = { mtimeMs: st.mtimeMs, data: gzipSync(await readFile(file), { level: 9 }) };
        gzCache.set(file, c);
      }
      res.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": String(c.data.length), vary: "accept-encoding" });
      res.end(req.method === "HEAD" ? undefined : c.data);
      return true;
    }
    res.writeHead(200, { ...headers, "content-length": String(st.size) });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
    return true;
  }
  return false;
}
