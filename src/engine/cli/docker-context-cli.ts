import { last, parseFlags, requireArgs, usageError } from "../../common/docker-flags.js";
import { renderTemplate } from "../../common/go-template.js";
import { sha256Hex } from "../digest.js";
import { printFormat, type CliContext, type Handler } from "./docker-cli-context.js";

/**
 * `docker context …`: Berth has one context, docker/cli's "default" (the one
 * it builds from DOCKER_HOST, kept in memory), and it is always the current one.
 * Texts are docker 28.2.2's (cli/command/context/, cli/context/store/).
 */
const DEFAULT_CONTEXT = {
  name: "default",
  description: "Current DOCKER_HOST based configuration",
  host: "unix:///var/run/docker.sock",
};

/** A `context ls` row: formatter.ClientContext's fields, in the order its JSON (a Go map) sorts them. */
const listRow = (): Record<string, unknown> => ({
  Current: true,
  Description: DEFAULT_CONTEXT.description,
  DockerEndpoint: DEFAULT_CONTEXT.host,
  Error: "",
  Name: DEFAULT_CONTEXT.name,
});

/** The header of each `context ls` column ("Current" has none: Docker prints "<no value>"). */
const HEADERS = { Name: "NAME", Description: "DESCRIPTION", DockerEndpoint: "DOCKER ENDPOINT", Error: "ERROR" };

/** `context inspect`'s document: docker/cli's contextWithTLSListing of the in-memory default context. */
const inspectDocument = (): Record<string, unknown> => ({
  Name: DEFAULT_CONTEXT.name,
  Metadata: {},
  Endpoints: { docker: { Host: DEFAULT_CONTEXT.host, SkipTLSVerify: false } },
  TLSMaterial: {},
  Storage: { MetadataPath: "<IN MEMORY>", TLSPath: "<IN MEMORY>" },
});

/** Go's json.Marshal escapes these in strings (HTML safety); JSON.stringify does not. */
const goJson = (v: unknown, indent?: number): string =>
  JSON.stringify(v, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Go's %q for a name (strconv.Quote, without its escapes for unprintable non-ASCII). */
function goQuote(s: string): string {
  const esc: Record<string, string> = { "\u0007": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u000b": "\\v", '"': '\\"', "\\": "\\\\" };
  const quoted = [...s].map((c) => esc[c] ?? (c < " " || c === "\u007f" ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c));
  return `"${quoted.join("")}"`;
}

/**
 * docker/cli's words for a context that has no meta.json: the store names
 * each context's directory by the SHA-256 of its name, under the CLI's config
 * directory (DOCKER_CONFIG, or ~/.docker).
 */
async function notFoundText(ctx: CliContext, name: string): Promise<string> {
  const env = new Map(ctx.s.env.map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const dir = env.get("DOCKER_CONFIG") || `${env.get("HOME") || "/root"}/.docker`;
  const id = await sha256Hex(new TextEncoder().encode(name));
  return `context ${goQuote(name)}: context not found: open ${dir}/contexts/meta/${id}/meta.json: no such file or directory`;
}

/** Go's tabwriter as docker/cli's formatter sets it up (min width 10, padding 3): every cell but the last padded, nothing trimmed. */
function tabwrite(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(10, widths[i]! + 3)))).join("")}\n`).join("");
}

const sub: Record<string, Handler> = {
  async ls(ctx, args) {
    const { opts, rest } = parseFlags(args, { format: "value", "q,quiet": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 0 }, ctx.path);
    const rows = [listRow()];
    const format = opts.has("quiet") ? "{{.Name}}" : last(opts, "format") || "table";
    if (format !== "table") return printFormat(ctx, format, rows, HEADERS);
    // formatter.ClientContextTableFormat: "table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}"
    const cells = rows.map((r) => [`${String(r["Name"])}${r["Current"] ? " *" : ""}`, String(r["Description"]), String(r["DockerEndpoint"]), String(r["Error"])]);
    ctx.s.stdout(tabwrite([Object.values(HEADERS), ...cells]));
    return 0;
  },
  async show(ctx, args) {
    const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 0 }, ctx.path);
    ctx.s.stdout(`${DEFAULT_CONTEXT.name}\n`);
    return 0;
  },
  async use(ctx, args) {
    const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
    // cobra.ExactArgs, not docker/cli's own check: its words differ
    if (rest.length !== 1) throw usageError(`accepts 1 arg(s), received ${rest.length}`);
    const name = rest[0]!;
    if (name !== DEFAULT_CONTEXT.name) {
      // store.ValidateContextName, then the store's lookup
      if (!name) throw usageError("context name cannot be empty");
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/.test(name)) throw usageError(`context name ${goQuote(name)} is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"`);
      throw usageError(await notFoundText(ctx, name));
    }
    ctx.s.stdout(`${name}\n`);
    ctx.s.stderr(`Current context is now ${goQuote(name)}\n`);
    return 0;
  },
  async inspect(ctx, args) {
    const { opts, rest } = parseFlags(args, { "f,format": "value" }, ctx.path, { interspersed: true });
    const found: Array<Record<string, unknown>> = [];
    const failed: string[] = [];
    for (const name of rest.length ? rest : [DEFAULT_CONTEXT.name]) {
      if (name === DEFAULT_CONTEXT.name) found.push(inspectDocument());
      else failed.push(await notFoundText(ctx, name));
    }
    // cli/command/inspect: what was found is printed first, then every error at once
    const format = last(opts, "format");
    if (!format) ctx.s.stdout(`${found.length ? goJson(found, 4) : "[]"}\n`);
    else if (format === "json") ctx.s.stdout(`${goJson(found)}\n`);
    else ctx.s.stdout(found.length ? found.map((d) => `${renderTemplate(format, d)}\n`).join("") : "\n");
    if (failed.length) throw usageError(failed.join("\n"));
    return 0;
  },
};

/** `docker context ls`, `show`, `use`, `inspect` by handler name ("context-ls"). */
export const CONTEXT_COMMANDS: Record<string, Handler> = Object.fromEntries(Object.entries(sub).map(([k, h]) => [`context-${k}`, h]));
