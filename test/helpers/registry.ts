// A real registry for tests: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1, in a temporary directory: open, with htpasswd, or in token-auth mode
// with our token server (token-server.ts). Stopped by stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRegistry {
  url: string;
  /** host:port, as an image reference's registry part */
  host: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: { htpasswd?: string; corsOrigin?: string; token?: { realm: string; service: string; issuer: string; certPath: string } } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "berth-registry-"));
  const port = await freePort();
  const headers = ["    X-Content-Type-Options: [nosniff]"];
  if (options.corsOrigin) {
    headers.push(
      `    Access-Control-Allow-Origin: ['${options.corsOrigin}']`,
      "    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS']",
      "    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Range']",
      "    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'Content-Range', 'WWW-Authenticate']",
    );
  }
  const t = options.token;
  const auth = options.htpasswd ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, "htpasswd")}\n`
    : t ? `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certPath}\n` : "";
  if (options.htpasswd) await writeFile(join(dir, "htpasswd"), options.htpasswd);
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, "data")}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  headers:
${headers.join("\n")}
${auth}`;
  await writeFile(join(dir, "config.yml"), config);
  const proc: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (b: Buffer) => (stderr += b));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited ${proc.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    if (Date.now() - t0 > 15000) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    async stop() {
      proc.kill();
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
