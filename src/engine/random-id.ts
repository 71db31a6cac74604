/** A random ID of `bytes` bytes in lower-case hex: Docker's 64-hex container, network and exec IDs are randomId(32). */
export function randomId(bytes = 32): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (x) => x.toString(16).padStart(2, "0")).join("");
}
