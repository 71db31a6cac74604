import { usageError, last, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { loadImages, saveImages } from "../daemon/image-archive.js";
import { readAllStdin, readClientFile, writeClientFile, type Handler } from "./docker-cli-context.js";

/** `docker save`: the archive to stdout (never a terminal) or to `-o FILE` in the guest. */
const save: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "o,output": "value", platform: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { min: 1 }, ctx.path);
  const out = last(opts, "output");
  if (!out && ctx.s.tty) throw usageError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  const tar = await saveImages(ctx, rest);
  if (!out) {
    ctx.s.stdout(tar);
    return 0;
  }
  await writeClientFile(ctx, out, tar, `save to "${out}"`);
  return 0;
};

/** `docker load`: from stdin (not a terminal) or `-i FILE` in the guest. */
const load: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { "i,input": "value", "q,quiet": "bool", platform: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const input = last(opts, "input");
  let data: Uint8Array;
  if (input) {
    data = await readClientFile(ctx, input, `load "${input}"`);
  } else {
    if (ctx.s.tty) throw usageError("requested load from stdin, but stdin is empty");
    data = await readAllStdin(ctx);
  }
  const lines = await loadImages(ctx, data, input ?? "stdin");
  ctx.s.stdout(lines.map((l) => `${l}\n`).join(""));
  return 0;
};

export const ARCHIVE_COMMANDS: Record<string, Handler> = { save, load, "image-save": save, "image-load": load };
