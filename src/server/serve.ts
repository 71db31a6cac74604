import { createServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError, ErrorCode } from "../common/errors.js";
import { RegistryProxy, type RegistryProxyOptions } from "./registry-proxy.js";
import { Relay, type RelayOptions } from "./relay.js";
import { serveStatic, type Mount } from "./static-files.js";

/** The package root seen from dist/src/server/ (the bundled `berth` passes its own). */
const builtRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface ServeOptions {
  port: number;
  host: string;
  /** the package's root directory, where demo/, dist/ and build/ are (default: found from this module) */
  root?: string;
  /** directory with the guest files (default build/guest) */
  guestDir?: string;
  quiet?: boolean;
  /** the CORS registry proxy at /registry/ */
  proxy?: RegistryProxyOptions;
  /** the network relay at /relay/<room> (a page gets a room of its own from /relay-room) */
  relay?: RelayOptions;
}

/** The mounts `berth serve` answers from: the demo, the bundles and the guest files. */
export function defaultMounts(root = builtRoot, guestDir = join(root, "build", "guest")): Mount[] {
  return [
    { prefix: "/guest/", dir: guestDir },
    { prefix: "/dist/web/", dir: join(root, "dist", "web") },
    { prefix: "/node_modules/@xterm/xterm/css/", dir: join(root, "node_modules", "@xterm", "xterm", "css"), cache: "max-age=3600" },
    { prefix: "/", dir: join(root, "demo") },
    // /berth-sw.js: the Service Worker (built), at the root so its scope is the whole site
    { prefix: "/", dir: join(root, "dist", "root") },
  ];
}

/** `berth serve`: the demo pages with the engine and the guest files, and the registry proxy. */
export async function serve(o: ServeOptions): Promise<Server> {
  const mounts = defaultMounts(o.root, o.guestDir);
  const proxy = new RegistryProxy(o.proxy);
  const relay = new Relay(o.relay);
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/relay-room") {
      // a network of the page's own: the room's URL (with its token) is all it takes to join it
      const { room, token } = relay.newRoom();
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ room, path: `/relay/${room}?token=${token}` }));
      return;
    }
    proxy.handle(req, res)
      .then((handled) => {
        if (handled) return true;
        if (req.method !== "GET" && req.method !== "HEAD") {
          res.writeHead(405, { allow: "GET, HEAD" }).end();
          return true;
        }
        return serveStatic(req, res, mounts);
      })
      .then((served) => {
        if (!served) res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("Internal error\n");
        else res.destroy();
      });
  });
  server.on("upgrade", (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
  server.on("close", () => relay.close());
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new BerthError(ErrorCode.usage, e.code === "EADDRINUSE" ? `Cannot listen on ${o.host}:${o.port}: the port is in use` : `Cannot listen on ${o.host}:${o.port}: ${e.message}`)),
    );
    server.listen(o.port, o.host, resolve);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  if (!o.quiet) process.stdout.write(`Berth is serving http://${o.host === "0.0.0.0" ? "localhost" : o.host}:${port}/\n`);
  return server;
}
