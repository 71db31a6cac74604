// berth-sw.js: keeps what a page needs to boot Berth offline after a first
// visit: the page bundles, v86.wasm, the kernel and initramfs (the VM's
// snapshot and image blobs are in IndexedDB already). Network first, so a new
// build is seen at once; the cache answers when the network cannot.
declare const self: ServiceWorkerGlobalScope;

const CACHE = "berth-v1";
const KEEP = /^\/(guest|dist\/web|node_modules\/@xterm)\/|\.html$|\/$/;

self.addEventListener("install", () => void self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
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
