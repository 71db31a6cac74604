// A server in front of the test registry that misbehaves on request, the way
// real registries and CDNs do: token auth, redirects of blobs to another
// origin, rate limits, tampered and truncated blobs. Loopback only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface FrontRules {
  /** answer 401 with a Bearer challenge unless the request has this token */
  bearerToken?: string;
  /** send blob requests with a 307 to the CDN server */
  redirectBlobs?: boolean;
  /** 429 TOOMANYREQUESTS for everything */
  rateLimited?: boolean;
  /** flip one byte of this blob */
  tamper?: string;
  /** send only this many bytes of this blob, once, then break the connection */
  truncateOnce?: { digest: string; at: number };
}

export interface FrontServer {
  url: string;
  host: string;
  rules: FrontRules;
  /** Authorization headers the CDN saw (should be none) */
  cdnAuthorizations: string[];
  /** Range headers the registry side saw */
  ranges: string[];
  stop(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function forward(upstream: string, req: IncomingMessage, res: ServerResponse, alter?: (b: Uint8Array) => Uint8Array): Promise<void> {
  const headers: Record<string, string> = {};
  for (const h of ["accept", "range"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
  const r = await fetch(`${upstream}${req.url}`, { method: req.method ?? "GET", headers, redirect: "manual" });
  let body: Uint8Array = new Uint8Array(await r.arrayBuffer());
  if (alter) body = alter(body);
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!["content-length", "transfer-encoding", "connection"].includes(k)) out[k] = v;
  });
  res.writeHead(r.status, { ...out, "content-length": String(body.length) }).end(body);
}

export async function startFront(registryUrl: string, rules: FrontRules = {}): Promise<FrontServer> {
  const cdnAuthorizations: string[] = [];
  const ranges: string[] = [];
  const cdn = await listen((req, res) => {
    if (req.headers.authorization) cdnAuthorizations.push(req.headers.authorization);
    forward(registryUrl, req, res).catch(() => res.destroy());
  });
  const state = { truncated: false };
  const front: FrontServer = {
    url: "",
    host: "",
    rules,
    cdnAuthorizations,
    ranges,
    async stop() {
      await Promise.all([new Promise((r) => main.server.close(r)), new Promise((r) => cdn.server.close(r))]);
    },
  };
  const main = await listen((req, res) => {
    const url = req.url ?? "/";
    const r = front.rules;
    if (url.startsWith("/token")) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: r.bearerToken }));
      return;
    }
    if (r.rateLimited) {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "30" }).end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }));
      return;
    }
    if (r.bearerToken && req.headers.authorization !== `Bearer ${r.bearerToken}`) {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(url)?.[1] ?? "";
      res.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": `Bearer realm="${front.url}/token",service="berth-test",scope="repository:${repo}:pull"`,
      }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    if (req.headers.range) ranges.push(String(req.headers.range));
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url)?.[1];
    if (blob && r.redirectBlobs) {
      res.writeHead(307, { location: `${cdn.url}${url}` }).end();
      return;
    }
    if (blob && r.truncateOnce?.digest === blob && !state.truncated && !req.headers.range) {
      state.truncated = true;
      fetch(`${registryUrl}${url}`).then(async (up) => {
        const body = Buffer.from(await up.arrayBuffer());
        res.writeHead(200, { "content-length": String(body.length), "content-type": "application/octet-stream", "accept-ranges": "bytes" });
        res.write(body.subarray(0, r.truncateOnce!.at), () => res.destroy());
      }).catch(() => res.destroy());
      return;
    }
    const alter = blob && r.tamper === blob ? (b: Uint8Array) => { b[b.length >> 1]! ^= 0xff; return b; } : undefined;
    forward(registryUrl, req, res, alter).catch(() => res.destroy());
  });
  front.url = main.url;
  front.host = main.url.replace("http://", "");
  return front;
}
