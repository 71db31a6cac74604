/** SHA-256 of `data` as lowercase hex, with WebCrypto (a Worker and Node both have it). */
export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as ArrayBuffer));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}
