import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FrameDecoder, HEADER, MAX_PAYLOAD, Msg, crc32, decodeStrings, encodeExec, encodeFrame, encodeStrings,
} from "../../../src/common/agent-protocol.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test("crc32 matches the standard check value", () => {
  assert.equal(crc32(bytes("123456789")), 0xcbf43926);
});

test("a frame survives being split into single bytes", () => {
  const f = encodeFrame({ type: Msg.stdout, id: 7, payload: bytes("hello") });
  const d = new FrameDecoder();
  const out = [...f].flatMap((b) => d.push(new Uint8Array([b])));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.type, Msg.stdout);
  assert.equal(out[0]!.id, 7);
  assert.equal(new TextDecoder().decode(out[0]!.payload), "hello");
});

test("garbage before a frame is skipped", () => {
  const d = new FrameDecoder();
  const f = encodeFrame({ type: Msg.ok, id: 1 });
  const out = d.push(new Uint8Array([...bytes("BTxxBT noise"), ...f]));
  assert.deepEqual(out.map((x) => [x.type, x.id]), [[Msg.ok, 1]]);
  assert.ok(d.skipped > 0);
});

test("a truncated frame costs only itself", () => {
  const d = new FrameDecoder();
  const bad = encodeFrame({ type: Msg.stdout, id: 1, payload: bytes("lost in transit") }).subarray(0, 20);
  const good = encodeFrame({ type: Msg.exit, id: 2, payload: new Uint8Array(4) });
  const out = d.push(new Uint8Array([...bad, ...good]));
  assert.deepEqual(out.map((x) => [x.type, x.id]), [[Msg.exit, 2]]);
});

test("a frame with a flipped bit is dropped", () => {
  const d = new FrameDecoder();
  const f = encodeFrame({ type: Msg.stdout, id: 3, payload: bytes("data") });
  f[HEADER + 1]! ^= 1;
  assert.deepEqual(d.push(f), []);
});

test("an absurd length does not stall the reader", () => {
  const d = new FrameDecoder();
  const huge = encodeFrame({ type: Msg.ok, id: 1 });
  new DataView(huge.buffer).setUint32(8, MAX_PAYLOAD + 1, true);
  const good = encodeFrame({ type: Msg.ok, id: 9 });
  assert.deepEqual(d.push(new Uint8Array([...huge, ...good])).map((x) => x.id), [9]);
});

test("oversized payloads are refused when encoding", () => {
  assert.throws(() => encodeFrame({ type: Msg.stdin, id: 1, payload: new Uint8Array(MAX_PAYLOAD + 1) }), TypeError);
});

test("string lists round-trip, including empty strings and binary", () => {
  const items = ["sh", "", "-c", "echo ü"];
  assert.deepEqual(decodeStrings(encodeStrings(items)), items);
  assert.equal(decodeStrings(new Uint8Array([5, 0, 0, 0, 65])), undefined);
  assert.equal(decodeStrings(new Uint8Array([1, 0])), undefined);
});

test("exec requests carry counts, argv, env and cwd", () => {
  const s = decodeStrings(encodeExec({ argv: ["ls", "-l"], env: ["A=1"], cwd: "/tmp" }));
  assert.deepEqual(s, ["2", "1", "ls", "-l", "A=1", "/tmp"]);
});
