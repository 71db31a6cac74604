/**
 * The Engine API's plumbing, apart from any transport: a request as the
 * socket server (src/node/daemon-server.ts) or the page hands it over, and the
 * kinds of answer Docker's daemon gives (JSON, empty, a streamed body, or a
 * connection taken over for attach and exec). Shapes follow Docker's
 * (moby api/server/router and httputils).
 */

/** One API request. `path` has no /v1.NN prefix; header names are lower-case. */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
  /** the API version the client asked for ("1.47"), or the daemon's when unversioned */
  version: string;
}

/** A streamed response body (pull progress, logs -f, events): chunks until the handler returns. */
export interface StreamSink {
  write(b: Uint8Array | string): void;
  /** the client went away: stop writing */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** A connection taken over after the response head (attach, exec start): bytes both ways. */
export interface Hijacked {
  write(b: Uint8Array): void;
  /** the client's bytes (stdin); an empty array when it closes its side */
  onData(listener: (b: Uint8Array) => void): void;
  /** the connection is gone */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** An answer; `headers` are extra response headers (X-Docker-Container-Path-Stat). */
export type ApiReply = (
  | { kind: "json"; status: number; body: unknown }
  | { kind: "empty"; status: number }
  | { kind: "text"; status: number; body: string; contentType: string }
  | { kind: "stream"; status: number; contentType: string; run(out: StreamSink): Promise<void> }
  | { kind: "hijack"; contentType: string; run(conn: Hijacked): Promise<void> }
) & { headers?: Record<string, string> };

/** A whole binary body at once (a tar: archive, export, save). */
export const bytes = (body: Uint8Array, contentType: string, headers: Record<string, string> = {}): ApiReply => ({
  kind: "stream", status: 200, contentType, headers, run: async (out) => out.write(body),
});

export const json = (body: unknown, status = 200): ApiReply => ({ kind: "json", status, body });
export const empty = (status = 204): ApiReply => ({ kind: "empty", status });

/** The API versions Berth answers (Docker 28's daemon answers 1.24 to 1.50). */
export const API_VERSION = "1.47";
export const MIN_API_VERSION = "1.24";

/** Content types of attach/exec/logs streams (moby api/types). */
export const RAW_STREAM = "application/vnd.docker.raw-stream";
export const MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream";

/** Docker's stdcopy frame: [stream, 0, 0, 0, size (big-endian u32)] then the bytes; stream 1 stdout, 2 stderr. */
export function frame(stream: 1 | 2, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + bytes.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, bytes.length);
  out.set(bytes, 8);
  return out;
}

/** A query flag as Docker reads them: "1", "true", "True" are true (httputils.BoolValue). */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = (q.get(name) ?? "").toLowerCase();
  return v !== "" && v !== "0" && v !== "false" && v !== "no";
}
