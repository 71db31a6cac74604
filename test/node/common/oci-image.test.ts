import assert from "node:assert/strict";
import { test } from "node:test";
import type { BerthError } from "../../../src/common/errors.js";
import { DEFAULT_PLATFORM, MediaType, formatPlatform, parsePlatform, selectPlatform, type ImageIndex } from "../../../src/common/oci-image.js";

const d = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const index: ImageIndex = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    { mediaType: MediaType.ociManifest, digest: d(1), size: 1, platform: { os: "linux", architecture: "amd64" } },
    { mediaType: MediaType.ociManifest, digest: d(2), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { mediaType: MediaType.ociManifest, digest: d(3), size: 1, platform: { os: "linux", architecture: "386" } },
    { mediaType: MediaType.ociManifest, digest: d(4), size: 1, platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
  ],
};

test("linux/386 is the default platform and is picked from an index", () => {
  assert.equal(formatPlatform(DEFAULT_PLATFORM), "linux/386");
  assert.equal(selectPlatform(index, DEFAULT_PLATFORM, "busybox").digest, d(3));
  assert.equal(selectPlatform(index, parsePlatform("linux/arm64"), "busybox").digest, d(2));
  assert.equal(selectPlatform(index, parsePlatform("linux/arm64/v8"), "busybox").digest, d(2));
});

test("a missing platform names the ones the image has", () => {
  const noI386 = { ...index, manifests: index.manifests.filter((m) => m.platform?.architecture !== "386") };
  assert.throws(
    () => selectPlatform(noI386, DEFAULT_PLATFORM, "node:22"),
    (e: BerthError) => e.code === "platform-not-available" && e.message === 'Cannot pull "node:22": it has no linux/386 image (it has linux/amd64, linux/arm64/v8)',
  );
});

test("platform strings as --platform takes them", () => {
  assert.deepEqual(parsePlatform("linux/386"), { os: "linux", architecture: "386" });
  assert.deepEqual(parsePlatform("LINUX/i386"), { os: "linux", architecture: "386" });
  assert.deepEqual(parsePlatform("amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
  for (const bad of ["", "linux/", "a/b/c/d", "linux 386"]) {
    assert.throws(() => parsePlatform(bad), (e: BerthError) => e.code === "usage", bad);
  }
});
