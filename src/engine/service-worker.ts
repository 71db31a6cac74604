// berth-sw.js: keeps what a page needs to boot Berth offline after a first
// visit: the page bundles, v86.wasm, the kernel and initramfs (the VM's
// snapshot and image blobs are in IndexedDB already). Network first, so a new
// build is seen at once; the cache answers when the network cannot.
declare const self: ServiceWorkerGlobalScope;

const CACHE = "berth-v1";
const KEEP = /^\/(guest|dist\/web|node_modules\/@xterm)\/|\.html$|\/$/;

// Pages with an engine (they say so when it starts): /port/<n>/ requests go to one of them.
const engines = new Set<string>();
self.addEventListener("message", (e) => {
  if ((e.data as { type?: string } | undefined)?.type === "berth-engine" && e.source && "id" in e.source) engines.add(e.source.id);
});

const PORT = /^\/port\/(\d{1,5})(\/.*)?$/;

/** A published port's answer, asked of a page that has the engine (the container answers through it). */
async function viaEngine(req: Request, hostPort: number, target: string): Promise<Response> {
  let client: Client | undefined;
  for (const id of [...engines].reverse()) {
    client = await self.clients.get(id);
    if (client) break;
    engines.delete(id);
  }
  if (!client) return new Response(`Error [vm-not-running]: Cannot open port ${hostPort}: no page with Berth's engine is open\n`, { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } });
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer());
  const headers: Array<[string, string]> = [];
  req.headers.forEach((v, k) => headers.push([k, v]));
  const channel = new MessageChannel();
  const answer = new Promise<{ ok: boolean; response?: { status: number; statusText: string; headers: Array<[string, string]>; body: Uint8Array }; error?: string }>((r) => (channel.port1.onmessage = (m) => r(m.data)));
  client.postMessage({ type: "berth-port-fetch", hostPort, request: { method: req.method, target, headers, ...(body ? { body } : {}) } }, [channel.port2]);
  const a = await answer;
  if (!a.ok || !a.response) return new Response(`${a.error ?? "no answer"}\n`, { status: 502, headers: { "content-type": "text/plain; charset=utf-8" } });
  const out = new Headers();
  for (const [k, v] of a.response.headers) {
    // a redirect to "/x" stays under this port's prefix
    out.append(k, k.toLowerCase() === "location" && v.startsWith("/") ? `/port/${hostPort}${v}` : v);
  }
  const nullBody = [101, 204, 205, 304].includes(a.response.status) || req.method === "HEAD";
  return new Response(nullBody ? null : (a.response.body as Uint8Array<ArrayBuffer>), { status: a.response.status, statusText: a.response.statusText, headers: out });
}

self.addEventListener("install", () => void self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (url.origin === location.origin) {
    const m = PORT.exec(url.pathname);
    // an asset with an absolute path ("/style.css") asked for by a page under /port/<n>/ is that port's too
    const from = e.request.referrer ? PORT.exec(new URL(e.request.referrer).pathname) : null;
    if (m) return e.respondWith(viaEngine(e.request, Number(m[1]), `${m[2] ?? "/"}${url.search}`));
    if (from && !url.pathname.startsWith("/dist/") && !url.pathname.startsWith("/guest/")) return e.respondWith(viaEngine(e.request, Number(from[1]), `${url.pathname}${url.search}`));
  }
  if (e.request.method !== "GET" || url.origin !== location.origin || !KEEP.test(url.pathname)) return;
  e.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(e.request);
        if (res.ok) await cache.put(e.request, res.clone());
        return res;
      } catch (err) {
        const hit = await cache.match(e.request, { ignoreSearch: true });
        if (hit) return hit;
        throw err;
      }
    })(),
  );
});
