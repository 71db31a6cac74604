import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { BerthError } from "../../../../src/common/errors.js";
import { DirBlobStore } from "../../../../src/node/dir-blob-store.js";
import { blobStoreSuite } from "../../../helpers/blob-store-suite.js";
import { tempDir } from "../../../helpers/guest.js";

const dirs: Array<{ remove: () => Promise<void> }> = [];
after(async () => {
  for (const d of dirs) await d.remove();
});

blobStoreSuite("directory store", async () => {
  const d = await tempDir("berth-blobs-");
  dirs.push(d);
  return new DirBlobStore(d.dir);
}, {
  test: (name, f) => void test(name, f),
  equal: (a, b, msg) => assert.deepEqual(a, b, msg),
  rejects: (p, code) => assert.rejects(p, (e: BerthError) => e.code === code),
});
