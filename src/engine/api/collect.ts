import { concatBytes } from "../../common/bytes.js";
import { API_VERSION, type ApiReply } from "./api-types.js";

/** A whole Engine API answer, for callers that take it at once (the page's `engine.api()`). */
export interface CollectedReply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const enc = new TextEncoder();

/**
 * Runs a reply to its end and gathers it: a stream's chunks in order (logs with
 * follow end when the container stops), a hijacked connection's output with its
 * stdin closed at once (attach and exec start give their output and end).
 */
export async function collectReply(r: ApiReply): Promise<CollectedReply> {
  const headers: Record<string, string> = { "api-version": API_VERSION, ostype: "linux", ...Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) };
  switch (r.kind) {
    case "json":
      return { status: r.status, headers: { ...headers, "content-type": "application/json" }, body: enc.encode(`${JSON.stringify(r.body)}\n`) };
    case "empty":
      return { status: r.status, headers, body: new Uint8Array(0) };
    case "text":
      return { status: r.status, headers: { ...headers, "content-type": r.contentType }, body: enc.encode(r.body) };
    case "stream":
    case "hijack": {
      const parts: Uint8Array[] = [];
      const write = (b: Uint8Array | string): void => void parts.push(typeof b === "string" ? enc.encode(b) : b);
      if (r.kind === "stream") await r.run({ write, onClose: () => {}, closed: false });
      else await r.run({ write, onData: (f) => queueMicrotask(() => f(new Uint8Array(0))), onClose: () => {}, closed: false });
      return { status: r.kind === "stream" ? r.status : 200, headers: { ...headers, "content-type": r.contentType }, body: concatBytes(parts) };
    }
  }
}
