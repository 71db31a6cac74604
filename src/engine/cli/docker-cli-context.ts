import { concatBytes } from "../../common/bytes.js";
import { columns } from "../../common/docker-format.js";
import { last, usageError } from "../../common/docker-flags.js";
import { BerthError, dockerMessage, ErrorCode, isBerthError } from "../../common/errors.js";
import { renderTemplate } from "../../common/go-template.js";
import { parsePlatform, DEFAULT_PLATFORM, type Platform } from "../../common/oci-image.js";
import { shortName } from "../../common/reference.js";

export { shortName };
import type { CliSession } from "../vm/guest-channel.js";
import type { LocalImage } from "../images/images.js";
import type { Daemon } from "../daemon/daemon.js";
import { imageJson } from "../daemon/image-inspect.js";

export { imageJson };
import type { ImagePruneReport } from "../../common/api/system-data.js";
import { humanSize } from "../../common/docker-format.js";

/**
 * What a command handler gets: the session, and the daemon (the operations
 * the Engine API uses too), plus the CLI's own ways to pull with progress lines.
 */
export interface CliContext extends Daemon {
  s: CliSession;
  /** the command path as typed, in cobra's names ("run", "container ls", "network create"): flags, usage lines and errors follow it */
  path: string;
  /** the image, pulled first when missing (or always, with pull "always"), its tree written to the guest */
  ensureImage(name: string, o: { platform: Platform; pull: string; quiet?: boolean }): Promise<LocalImage>;
  /** a manifest or index from its registry, without pulling (docker manifest inspect) */
  fetchManifest(ref: string): Promise<{ mediaType: string; digest: string; size: number; bytes: Uint8Array }>;
  /** a blob of the repository a reference names */
  fetchBlob(ref: string, digest: string): Promise<Uint8Array>;
  /** pull progress and status lines, to `out` */
  pull(out: (b: string) => void, name: string, o: { platform: Platform; quiet: boolean }): Promise<LocalImage>;
}

export type Handler = (ctx: CliContext, args: string[]) => Promise<number>;


/** `--platform` (the last one given), or linux/386. */
export function platformOf(opts: Map<string, string[]>): Platform {
  const p = last(opts, "platform");
  return p ? parsePlatform(p) : DEFAULT_PLATFORM;
}



/**
 * Docker's way with several arguments (rm, stop, rmi, network rm, inspect, …):
 * each is acted on in turn; one that fails prints its error line (the daemon's
 * words, "Error response from daemon: No such container: x") and the rest go
 * on; the exit status is 1 if any failed. With `force` ("rm -f", "rmi -f",
 * "network rm -f"), a missing object is no failure: docker 28.2.2 still prints
 * it for rm and rmi ("print"), and says nothing for network rm ("quiet").
 * @param o.prefix what starts each error line (default "Error response from daemon: ")
 */
export async function eachArgument<T>(ctx: CliContext, args: readonly T[], act: (arg: T) => unknown, o: { force?: "print" | "quiet"; prefix?: string } = {}): Promise<number> {
  let failed = 0;
  for (const a of args) {
    try {
      await act(a);
    } catch (e) {
      if (!isBerthError(e)) throw e;
      const missing = NOT_FOUND.has(e.code);
      if (!(missing && o.force === "quiet")) ctx.s.stderr(`${o.prefix ?? "Error response from daemon: "}${dockerMessage(e)}\n`);
      if (!(missing && o.force)) failed++;
    }
  }
  return failed ? 1 : 0;
}

const NOT_FOUND = new Set<string>([ErrorCode.containerNotFound, ErrorCode.imageNotFound, ErrorCode.networkNotFound, ErrorCode.volumeNotFound]);

/** `--filter k=v` flags as Docker's filter map (one key's values together; "label!=x" is key "label!"). */
export function filtersOf(opts: Map<string, string[]>, more: string[] = []): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const f of [...(opts.get("filter") ?? []), ...more]) {
    const [k, v = ""] = f.split(/=(.*)/s) as [string, string?];
    (filters[k] ??= []).push(v);
  }
  return filters;
}

/** `inspect`: a JSON array indented like Docker's, or each object through `--format`. */
export async function printInspect(ctx: CliContext, objects: Array<() => Record<string, unknown>>, format: string | undefined, o: { anyType?: boolean } = {}): Promise<number> {
  const found: Array<Record<string, unknown>> = [];
  // docker inspect without --type says "Error: No such object: x"; the typed inspects give the daemon's words
  const code = await eachArgument(ctx, objects, (get) => found.push(get()), o.anyType ? { prefix: "Error: " } : {});
  if (format !== undefined) {
    for (const o of found) ctx.s.stdout(`${renderTemplate(format === "json" ? "{{json .}}" : format, o)}\n`);
  } else {
    ctx.s.stdout(`${JSON.stringify(found, null, 4)}\n`);
  }
  return code;
}

/** `--format`: `table …` (a header from `headers`), `json`, or a template per row. */
export function printFormat(ctx: CliContext, format: string, rows: Array<Record<string, unknown>>, headers: Record<string, string>): number {
  if (format === "json") {
    ctx.s.stdout(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return 0;
  }
  const table = format.startsWith("table");
  const template = (table ? format.slice(5).trimStart() : format).replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const lines = rows.map((r) => renderTemplate(template, r));
  if (!table) {
    ctx.s.stdout(lines.map((l) => `${l}\n`).join(""));
    return 0;
  }
  const head = renderTemplate(template, Object.fromEntries(Object.entries(headers)));
  ctx.s.stdout(columns([head, ...lines].map((l) => l.split("\t"))));
  return 0;
}

/** Docker's "Are you sure?" before pruning; `-f` skips it, EOF answers no. */
export async function confirm(ctx: CliContext, warning: string, force: boolean): Promise<boolean> {
  if (force) return true;
  ctx.s.stdout(`${warning}\nAre you sure you want to continue? [y/N] `);
  return /^\s*y(es)?\s*$/i.test(await readLine(ctx));
}

/** The session's stdin up to the first newline (or its end). */
export function readLine(ctx: CliContext): Promise<string> {
  return new Promise((resolve) => {
    let line = "";
    const dec = new TextDecoder();
    ctx.s.onStdin((b) => {
      if (!b.length) return resolve(line);
      line += dec.decode(b, { stream: true });
      if (line.includes("\n")) resolve(line.slice(0, line.indexOf("\n") + 1));
    });
    ctx.s.onClose(() => resolve(line));
  });
}

/** The session's whole stdin (`docker load`, `import -`, `cp -`). */
export function readAllStdin(ctx: CliContext): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: Uint8Array[] = [];
    const done = (): void => resolve(concatBytes(parts));
    ctx.s.onStdin((b) => (b.length ? parts.push(b) : done()));
    ctx.s.onClose(done);
  });
}

/** Docker's image prune report: "Deleted Images:" lines (lower-case untagged:/deleted:), then the space. */
export function imagePruneText(r: ImagePruneReport): string {
  const items = (r.ImagesDeleted ?? []).map((i) => (i.Untagged ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`)).join("");
  return `${items ? `Deleted Images:\n${items}\n` : ""}Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`;
}

/**
 * A file of the client's (a guest path, relative to the session's cwd): its bytes.
 * @param action what failed, for the error ("load \"img.tar\"")
 * @throws BerthError usage, "Cannot <action>: <cat's words>"
 */
export async function readClientFile(ctx: CliContext, path: string, action: string): Promise<Uint8Array> {
  const r = await ctx.containers.guest(["/bin/cat", "--", path], { cwd: ctx.s.cwd });
  if (r.code !== 0) {
    // the Go client's words for what busybox's cat says ("open x: no such file or directory")
    const why = r.stderr.trim().replace(/^cat: /, "");
    const go = /no such file or directory/i.test(why) ? "no such file or directory" : /permission denied/i.test(why) ? "permission denied" : /is a directory/i.test(why) ? "is a directory" : undefined;
    throw go ? usageError(`${go === "is a directory" ? "read" : "open"} ${path}: ${go}`) : new BerthError(ErrorCode.usage, `Cannot ${action}: ${why}`);
  }
  return r.stdout;
}

/**
 * Writes bytes to a file of the client's (`-o FILE`: save, export).
 * @param action what failed, for the error ("save to \"img.tar\"")
 * @throws BerthError usage, "Cannot <action>: <the shell's words>"
 */
export async function writeClientFile(ctx: CliContext, path: string, data: Uint8Array, action: string): Promise<void> {
  // the shell's $0 is the command's verb ("save", "export"), as its complaints name it
  const r = await ctx.containers.guest(["/bin/sh", "-c", 'cat > "$1"', action.split(" ")[0]!, path], { stdin: data, cwd: ctx.s.cwd });
  if (r.code !== 0) throw new BerthError(ErrorCode.usage, `Cannot ${action}: ${r.stderr.trim().replace(/^sh: /, "")}`);
}
