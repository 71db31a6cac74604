// The page's engine.api(): Docker's Engine API answered by the Worker's engine,
// for tools written for Docker's API (paths, bodies, status codes, stream frames).
import { sharedEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

const check = (ok: boolean, what: string, got: unknown): void => {
  if (!ok) throw new Error(`${what}: got ${JSON.stringify(got)}`);
};

describe("engine.api", () => {
  it("answers version, a pull, a container's create/start/wait/logs and Docker's errors", async () => {
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    const engine = sharedEngine({ guestUrl: new URL("/build/guest/", location.href).href });
    const version = (await (await engine.api("GET", "/v1.47/version")).json()) as { ApiVersion: string; Os: string };
    check(version.ApiVersion === "1.47" && version.Os === "linux", "version", version);
    const pull = await engine.api("POST", `/v1.47/images/create?fromImage=${encodeURIComponent(`${host}/test/busybox`)}&tag=latest`);
    const progress = await pull.text();
    check(pull.status === 200 && /"status":"Status: (Downloaded newer image|Image is up to date) for /.test(progress), "pull", progress);
    const created = await engine.api("POST", "/v1.47/containers/create", { Image: `${host}/test/busybox`, Cmd: ["sh", "-c", "echo hi; echo oops >&2"] });
    const { Id } = (await created.json()) as { Id: string };
    check(created.status === 201 && /^[0-9a-f]{64}$/.test(Id), "create", Id);
    check((await engine.api("POST", `/v1.47/containers/${Id}/start`)).status === 204, "start", Id);
    const waited = (await (await engine.api("POST", `/v1.47/containers/${Id}/wait`)).json()) as { StatusCode: number };
    check(waited.StatusCode === 0, "wait", waited);
    const logs = new Uint8Array(await (await engine.api("GET", `/v1.47/containers/${Id}/logs?stdout=1&stderr=1`)).arrayBuffer());
    // Docker's multiplexed frames: [stream, 0, 0, 0, size (big-endian)] then the bytes
    const frames: string[] = [];
    for (let i = 0; i + 8 <= logs.length; ) {
      const size = new DataView(logs.buffer, logs.byteOffset + i + 4, 4).getUint32(0);
      frames.push(`${logs[i]}:${new TextDecoder().decode(logs.subarray(i + 8, i + 8 + size))}`);
      i += 8 + size;
    }
    check(frames.sort().join("|") === "1:hi\n|2:oops\n", "logs frames", frames);
    check((await engine.api("DELETE", `/v1.47/containers/${Id}`)).status === 204, "remove", Id);
    const missing = await engine.api("GET", "/v1.47/containers/nosuch/json");
    const body = (await missing.json()) as { message: string };
    check(missing.status === 404 && body.message === "No such container: nosuch", "missing", body);
  });
});
