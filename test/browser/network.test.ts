// The page's VM on a network: a NIC whose frames go over a WebSocket to the
// relay, DHCP through passt, and an HTTP server on the host's 127.0.0.1
// reached from the guest and from a --network host container.
import { EngineClient } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

describe("network", () => {
  it("a page's VM gets an address from the relay and fetches from the host", async () => {
    const { host, webPort } = (await (await fetch("/test-registry.json")).json()) as { host: string; webPort: number };
    const { url } = (await (await fetch("/test-relay-room.json")).json()) as { url: string };
    const engine = new EngineClient({ guestUrl: new URL("/build/guest/", location.href).href, relay: url, snapshotDb: "berth-snapshots-net" });
    await engine.start();
    const wait = "for i in $(seq 40); do ip route | grep -q default && break; sleep 0.5; done";
    const r = await engine.guest(["/bin/sh", "-c", `${wait}; gw=$(ip route | awk '/default/ {print $3}'); wget -qO- http://$gw:${webPort}/`]);
    if (r.stdout !== "hello from the host\n") throw new Error(`the VM got ${JSON.stringify(r)}`);
    const c = await engine.docker(["run", "--rm", "--network", "host", `${host}/test/busybox`, "sh", "-c", `gw=$(busybox ip route | busybox awk '/default/ {print $3}'); busybox wget -qO- http://$gw:${webPort}/`]);
    if (c.code !== 0 || !c.stdout.includes("hello from the host")) throw new Error(`the container got ${JSON.stringify(c)}`);
  });
});
