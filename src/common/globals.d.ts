// The few globals src/common uses that every runtime (browser, Worker, Node) has
// but lib "ES2022" does not declare. Declared here so common needs neither the
// DOM nor Node types.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
