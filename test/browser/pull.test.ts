// The Worker pulls real images from docker-registry through the registry
// proxy, unpacks them, and runs them with crun in the guest.
import { sharedEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

async function run(image: string, args?: string[], options: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const engine = sharedEngine({ guestUrl: new URL("/build/guest/", location.href).href });
  const r = await engine.docker(["run", "--rm", ...options, image, ...(args ?? [])]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe("pull through the proxy", () => {
  it("runs a pulled two-layer image with its own Cmd and Env", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    // (other test files on this origin may have pulled it already: images are kept in IndexedDB)
    const r = await run(`${host}/test/layered:v1`, undefined, ["--pull", "always"]);
    if (r.code !== 0 || r.out !== "from the upper layer\n") throw new Error(`unexpected ${JSON.stringify(r)}`);
    if (!/v1: Pulling from test\/layered/.test(r.err)) throw new Error(`no pull progress in ${JSON.stringify(r.err)}`);
    const t0 = performance.now();
    const again = await run(`${host}/test/layered:v1`, ["sh", "-c", "echo $GREETING from $(pwd); test -e /etc/motd || echo motd-gone"]);
    if (again.out !== "hello from /opt\nmotd-gone\n") throw new Error(`unexpected ${JSON.stringify(again)}`);
    console.log(`second run (image held): ${Math.round(performance.now() - t0)} ms`);
  });

  it("a missing image is a readable error with its code, and docker run's status 125", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const r = await run(`${host}/test/nothing:1`);
    // the terminal's docker says it in Docker's words
    if (r.code !== 125 || !/^docker: Error response from daemon: manifest for .*test\/nothing:1 not found: manifest unknown: manifest unknown\n\nRun 'docker run --help' for more information$/m.test(r.err)) throw new Error(`unexpected ${JSON.stringify(r)}`);
    // the API's run() rejects with the same error, its code kept
    const engine = sharedEngine();
    const e = await engine.run(`${host}/test/nothing:1`).then(() => undefined, (x: { code?: string }) => x);
    if (e?.code !== "image-not-found") throw new Error(`run() did not reject with image-not-found: ${JSON.stringify(e)}`);
  });
});
