/**
 * The parts, one after another, in a new array of its own (never a view of a
 * part: callers may keep it, or transfer its buffer to another thread).
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
