// The one file that imports fzstd.
import { Decompress as ZstdDecompress } from "fzstd";
import { MediaType } from "../../common/oci-image.js";

/** How a layer blob is compressed. */
export type Compression = "gzip" | "zstd" | "none";

const BY_MEDIA_TYPE: Record<string, Compression> = {
  [MediaType.ociLayer]: "none",
  [MediaType.ociLayerGzip]: "gzip",
  [MediaType.ociLayerZstd]: "zstd",
  [MediaType.dockerLayerGzip]: "gzip",
  [MediaType.dockerForeignLayerGzip]: "gzip",
};

/** A layer's compression from its media type; undefined when it is not a layer type we can read. */
export function compressionOf(mediaType: string): Compression | undefined {
  return BY_MEDIA_TYPE[mediaType];
}

/** A stored blob's compression from its first bytes (a record kept before media types were). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/**
 * A stream that decompresses as bytes arrive: gzip by the platform's own
 * DecompressionStream (native zlib in Chromium and Node, several times
 * faster than a JS inflate), zstd by fzstd, plain tar passed through.
 */
export function decompressor(c: Compression): TransformStream<Uint8Array, Uint8Array> {
  if (c === "gzip") return new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  if (c === "none") return new TransformStream<Uint8Array, Uint8Array>();
  let z: ZstdDecompress;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      // fzstd hands out views of its window buffer, which it reuses: copy them
      z = new ZstdDecompress((data) => controller.enqueue(data.slice()));
    },
    transform(chunk) {
      z.push(chunk);
    },
    flush() {
      z.push(new Uint8Array(0), true);
    },
  });
}
