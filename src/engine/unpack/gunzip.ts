// The one file that imports fflate.
import { gunzipSync, gzipSync } from "fflate";

export function gunzip(data: Uint8Array): Uint8Array {
  return gunzipSync(data);
}

export function gzip(data: Uint8Array, level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 6): Uint8Array {
  return gzipSync(data, { level });
}
