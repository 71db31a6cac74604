// --detach-keys as moby/term reads them: single characters and ctrl-<key>, comma-separated.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDetachKeys } from "../../../../src/engine/cli/docker-attach.js";

test("--detach-keys: Docker's default, letters, ctrl- keys and Docker's words for a bad one", () => {
  assert.deepEqual(parseDetachKeys("ctrl-p,ctrl-q"), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys("ctrl-a,x"), [1, 0x78]);
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"), [0, 27, 28, 29, 30, 31]);
  assert.throws(() => parseDetachKeys("ctrl-1"), (e: Error) => e.message === "Unknown character: 'ctrl-1'");
  assert.throws(() => parseDetachKeys("ab"), (e: Error) => e.message === "Unknown character: 'ab'");
});
