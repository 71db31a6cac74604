// The Worker pulls real images from docker-registry through the registry
// proxy, unpacks them, and runs them with crun in the guest.
import { sharedEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

async function run(image: string, args?: string[]): Promise<{ code: number; out: string }> {
  const engine = sharedEngine({ guestUrl: new URL("/build/guest/", location.href).href });
  let out = "";
  const dec = new TextDecoder();
  const code = await engine.runImage({ image, ...(args ? { args } : {}) }, (_s: string, b: Uint8Array) => (out += dec.decode(b)));
  return { code, out };
}

describe("pull through the proxy", () => {
  it("runs a pulled two-layer image with its own Cmd and Env", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const r = await run(`${host}/test/layered:v1`);
    if (r.code !== 0 || r.out !== "from the upper layer\n") throw new Error(`unexpected ${JSON.stringify(r)}`);
    const t0 = performance.now();
    const again = await run(`${host}/test/layered:v1`, ["sh", "-c", "echo $GREETING from $(pwd); test -e /etc/motd || echo motd-gone"]);
    if (again.out !== "hello from /opt\nmotd-gone\n") throw new Error(`unexpected ${JSON.stringify(again)}`);
    console.log(`warm pull + run: ${Math.round(performance.now() - t0)} ms`);
  });

  it("a missing image is a readable error with its code", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    try {
      await run(`${host}/test/nothing:1`);
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (err.code !== "image-not-found") throw new Error(`unexpected ${err.code}: ${err.message}`);
      return;
    }
    throw new Error("pulling a missing image succeeded");
  });
});
