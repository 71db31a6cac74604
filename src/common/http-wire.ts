import { concatBytes } from "./bytes.js";

/**
 * HTTP/1.1 on the wire, for requests the page sends to a container's
 * published port through the engine (one connection per request, closed
 * after the response): serialise a request, parse a response (content-length,
 * chunked, or until the connection closes).
 */
export interface WireRequest {
  method: string;
  /** path and query, e.g. "/index.html?x=1" */
  target: string;
  headers: Array<[string, string]>;
  body?: Uint8Array;
}

export interface WireResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");
// hop-by-hop headers, and what the connection itself decides
const DROP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"]);

export function serialiseRequest(r: WireRequest, host: string): Uint8Array {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, `Host: ${host}`, "Connection: close"];
  for (const [k, v] of r.headers) if (!DROP.has(k.toLowerCase()) && !/[\r\n]/.test(k + v)) lines.push(`${k}: ${v}`);
  if (r.body?.length) lines.push(`Content-Length: ${r.body.length}`);
  const head = enc.encode(`${lines.join("\r\n")}\r\n\r\n`);
  if (!r.body?.length) return head;
  const out = new Uint8Array(head.length + r.body.length);
  out.set(head);
  out.set(r.body, head.length);
  return out;
}

function indexOf(b: Uint8Array, seq: number[], from = 0): number {
  outer: for (let i = from; i <= b.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (b[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

function dechunk(b: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const eol = indexOf(b, [13, 10], off);
    if (eol < 0) break;
    const size = parseInt(dec.decode(b.subarray(off, eol)).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
  return concatBytes(parts);
}

/** Parses what the server sent before it closed; undefined when it is not an HTTP response. */
export function parseResponse(raw: Uint8Array): WireResponse | undefined {
  const end = indexOf(raw, [13, 10, 13, 10]);
  if (end < 0) return undefined;
  const [status, ...lines] = dec.decode(raw.subarray(0, end)).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(status ?? "");
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  const get = (k: string): string | undefined => headers.find(([h]) => h.toLowerCase() === k)?.[1];
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(get("transfer-encoding") ?? "")) body = dechunk(body);
  else if (get("content-length") !== undefined) body = body.subarray(0, Number(get("content-length")));
  return { status: Number(m[1]), statusText: m[2] ?? "", headers: headers.filter(([k]) => !DROP.has(k.toLowerCase())), body };
}
