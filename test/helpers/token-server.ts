// A small token server for docker-registry's token-auth mode (the Docker
// registry token spec): GET /token?service=…&scope=repository:NAME:pull,push,
// with Basic credentials or none, answers a JWT signed with a self-signed
// RS256 certificate (made by openssl) that the registry trusts through its
// rootcertbundle. Anonymous clients get pull on public repositories only;
// known users get what they ask for.
import { execFileSync } from "node:child_process";
import { createSign, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

export interface TokenServer {
  /** the realm the registry's challenge names */
  realm: string;
  service: string;
  issuer: string;
  /** the certificate the registry trusts (rootcertbundle) */
  certPath: string;
  /** a token granting `actions` on `repository` (to push fixtures) */
  sign(repository: string, actions: string[]): string;
  /** every request's scope and user, in order */
  log: Array<{ user: string | undefined; scope: string | undefined }>;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

export async function startTokenServer(dir: string, o: { users: Record<string, string>; publicRepos: string[] }): Promise<TokenServer> {
  const keyPath = join(dir, "token-key.pem");
  const certPath = join(dir, "token-cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-subj", "/CN=berth-test-token", "-days", "3650"], { stdio: "ignore" });
  const key = readFileSync(keyPath);
  const der = Buffer.from(readFileSync(certPath, "utf8").replace(/-----[^-]+-----|\s/g, ""), "base64");
  const service = "berth-test-registry";
  const issuer = "berth-test-issuer";
  const sign = (access: Array<{ type: string; name: string; actions: string[] }>, sub: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [der.toString("base64")] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const s = createSign("RSA-SHA256");
    s.update(`${header}.${claims}`);
    return `${header}.${claims}.${b64url(s.sign(key))}`;
  };
  const log: TokenServer["log"] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const [u, p] = Buffer.from(auth.slice(6), "base64").toString().split(/:(.*)/s) as [string, string];
      if (o.users[u] !== p) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "incorrect username or password" }] }));
        return;
      }
      user = u;
    }
    const scope = url.searchParams.get("scope") ?? undefined;
    log.push({ user, scope });
    const access = (scope ? scope.split(" ") : []).flatMap((s) => {
      const [type, name, actions] = s.split(":") as [string, string, string];
      const granted = user ? actions.split(",") : o.publicRepos.includes(name) ? actions.split(",").filter((a) => a === "pull") : [];
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const token = sign(access, user ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, certPath, log,
    sign: (repository, actions) => sign([{ type: "repository", name: repository, actions }], "fixtures"),
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
