// The network relay on loopback: a learning switch between the VMs of a room,
// tokens, and clients that misbehave dropped without harming the others.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { serve } from "../../../src/server/serve.js";
import { uplinkAllows } from "../../../src/server/relay.js";

let server: Server;
let base: string;

before(async () => {
  server = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { uplink: false, maxFramesPerSecond: 200 } });
  base = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  await new Promise((r) => server?.close(r));
});

async function room(): Promise<string> {
  const r = (await (await fetch(`http://${base}/relay-room`)).json()) as { path: string };
  return `ws://${base}${r.path}`;
}

function join(url: string): Promise<{ ws: WebSocket; got: Uint8Array[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: Uint8Array[] = [];
    const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
    ws.on("message", (d: Buffer) => got.push(new Uint8Array(d)));
    ws.on("open", () => resolve({ ws, got, closed }));
    ws.on("error", reject);
  });
}

/** An Ethernet frame from `src` to `dst` (6-byte MACs as a last byte), with a payload. */
function frame(dst: number, src: number, payload = "hi"): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  f.set([0x02, 0, 0, 0, 0, dst], 0);
  f.set([0x02, 0, 0, 0, 0, src], 6);
  f.writeUInt16BE(0x88b5, 12);
  f.write(payload, 14);
  return f;
}
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

test("a learning switch: broadcast floods, a learnt MAC gets its frames alone", async () => {
  const url = await room();
  const [a, b, c] = await Promise.all([join(url), join(url), join(url)]);
  const bcast = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), frame(0, 1).subarray(6)]);
  a.ws.send(bcast);
  b.ws.send(frame(1, 2, "from b")); // b learns; a is known as MAC 1
  await settle();
  assert.equal(b.got.length, 1);
  assert.equal(c.got.length, 1, "the broadcast reached c");
  assert.equal(a.got.length, 1, "b's frame to MAC 1 went to a only");
  assert.equal(Buffer.from(a.got[0]!).subarray(14).toString(), "from b");
  for (const x of [a, b, c]) x.ws.close();
});

test("a wrong token or an unknown path is refused", async () => {
  const url = await room();
  await assert.rejects(join(url.replace(/token=\w+/, "token=0000")), /403/);
  await assert.rejects(join(`ws://${base}/relay/other?token=${new URL(url).searchParams.get("token")}`), /403/);
  await assert.rejects(join(`ws://${base}/nothing`), /404/);
});

test("oversized frames and floods get their sender dropped; the others carry on", async () => {
  const url = await room();
  const [a, b, c] = await Promise.all([join(url), join(url), join(url)]);
  a.ws.send(Buffer.alloc(4000, 1));
  assert.equal(await a.closed, 1008);
  for (let i = 0; i < 400; i++) b.ws.send(frame(9, 2));
  assert.equal(await b.closed, 1008);
  const d = await join(url);
  d.ws.send(frame(0xff, 4, "still here"));
  await settle();
  assert.ok(c.got.some((f) => Buffer.from(f).subarray(14).toString() === "still here"));
  c.ws.close();
  d.ws.close();
});

test("the uplink passes ARP and public IPv4, and no private address but DNS", () => {
  const ip = (dst: number[], proto = 6, dport = 80): Uint8Array => {
    const f = new Uint8Array(14 + 20 + 4);
    f[12] = 0x08;
    f[14] = 0x45;
    f[23] = proto;
    f.set(dst, 30);
    f[36] = dport >> 8;
    f[37] = dport & 0xff;
    return f;
  };
  assert.equal(uplinkAllows(ip([93, 184, 216, 34]), false), true);
  for (const a of [[10, 0, 0, 1], [127, 0, 0, 1], [172, 16, 0, 1], [192, 168, 1, 1], [169, 254, 169, 254], [100, 64, 0, 1]]) assert.equal(uplinkAllows(ip(a), false), false, a.join("."));
  assert.equal(uplinkAllows(ip([10, 0, 0, 53], 17, 53), false), true, "DNS to a private resolver");
  assert.equal(uplinkAllows(ip([169, 254, 169, 254]), true), true);
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(uplinkAllows(arp, false), true);
  const v6 = new Uint8Array(60);
  v6[12] = 0x86;
  v6[13] = 0xdd;
  assert.equal(uplinkAllows(v6, false), false);
});

test("limits per address: rooms and clients", async () => {
  const limited = await serve({ port: 0, host: "127.0.0.1", quiet: true, relay: { uplink: false, maxRoomsPerIp: 2, maxClientsPerIp: 3 } });
  const b = `127.0.0.1:${(limited.address() as { port: number }).port}`;
  const roomUrl = async (): Promise<string> => `ws://${b}${((await (await fetch(`http://${b}/relay-room`)).json()) as { path: string }).path}`;
  const r1 = await roomUrl();
  const [a1, a2] = await Promise.all([join(r1), join(await roomUrl())]);
  await assert.rejects(join(await roomUrl()), /429/, "a third room");
  const a3 = await join(r1);
  await assert.rejects(join(r1), /429/, "a fourth client");
  for (const x of [a1, a2, a3]) x.ws.close();
  await new Promise((r) => limited.close(r));
});
