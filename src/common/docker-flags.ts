import { BerthError, ErrorCode } from "./errors.js";

/**
 * Docker's command-line flags (spf13/pflag as the CLI sets it up): `-it`
 * clusters, `-e X`/`-eX`/`--env=X`, `--` ends flags, and the CLI's words for
 * mistakes. A spec names each flag "short,long" or "long".
 */

/** What marks a usage error as the docker CLI's own check of its flags (printed "docker: …", exit 125). */
export const FLAG_CHECK = "flags";

/**
 * A docker command's flags or arguments are wrong: a BerthError with the
 * `usage` code, in Docker's words ("invalid argument … for … flag"); the
 * guest's docker prints it as Docker's CLI does, "docker: <message>", exit 125.
 */
export function usageError(message: string): BerthError {
  return new BerthError(ErrorCode.usage, message, { detail: FLAG_CHECK });
}

/** Whether an error is the CLI's own flag check (usageError). */
export function isFlagError(e: unknown): e is BerthError {
  return e instanceof BerthError && e.code === ErrorCode.usage && e.detail === FLAG_CHECK;
}

export type FlagSpec = Record<string, "bool" | "value">;

export interface ParsedFlags {
  /** by long name (or short when there is none): every value given, in order */
  opts: Map<string, string[]>;
  rest: string[];
}

export function parseFlags(args: readonly string[], spec: FlagSpec, cmd: string, o: { interspersed?: boolean } = {}): ParsedFlags {
  const byName = new Map<string, { key: string; kind: "bool" | "value"; label: string }>();
  for (const [names, kind] of Object.entries(spec)) {
    const parts = names.split(",");
    const key = parts.at(-1)!;
    const label = parts.length === 2 ? `-${parts[0]}, --${parts[1]}` : `--${key}`;
    for (const n of parts) byName.set(n, { key, kind, label });
  }
  const opts = new Map<string, string[]>();
  const rest: string[] = [];
  const help = `\nSee 'docker ${cmd} --help'.`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!o.interspersed) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(a);
      continue;
    }
    const long = a.startsWith("--");
    const eq = a.indexOf("=");
    const name = long ? a.slice(2, eq < 0 ? undefined : eq) : a.slice(1, 2);
    const f = byName.get(name);
    if (!f || (long ? name.length < 2 : false)) throw usageError(long ? `unknown flag: --${name}${help}` : `unknown shorthand flag: '${name}' in ${a}${help}`);
    if (f.kind === "bool") {
      const inline = long ? (eq < 0 ? undefined : a.slice(eq + 1)) : undefined;
      if (inline !== undefined && !["true", "false", "1", "0"].includes(inline)) {
        throw usageError(`invalid argument "${inline}" for "${f.label}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax${help}`);
      }
      if (inline === "false" || inline === "0") opts.delete(f.key);
      else opts.set(f.key, ["true"]);
      if (!long) {
        // clustered short flags: -it, or -dp 8080:80
        for (let j = 2; j < a.length; j++) {
          const g = byName.get(a[j]!);
          if (!g) throw usageError(`unknown shorthand flag: '${a[j]}' in ${a}${help}`);
          if (g.kind === "bool") {
            opts.set(g.key, ["true"]);
            continue;
          }
          const v = a.length > j + 1 ? a.slice(j + 1) : args[++i];
          if (v === undefined) throw usageError(`flag needs an argument: '${a[j]}' in -${a[j]}${help}`);
          opts.set(g.key, [...(opts.get(g.key) ?? []), v]);
          break;
        }
      }
      continue;
    }
    const inline = long ? (eq < 0 ? undefined : a.slice(eq + 1)) : a.length > 2 ? a.slice(2).replace(/^=/, "") : undefined;
    const v = inline ?? args[++i];
    if (v === undefined) throw usageError(long ? `flag needs an argument: --${name}${help}` : `flag needs an argument: '${name}' in -${name}${help}`);
    opts.set(f.key, [...(opts.get(f.key) ?? []), v]);
  }
  return { opts, rest };
}

/** The last value of a flag, or undefined. */
export const last = (opts: Map<string, string[]>, key: string): string | undefined => opts.get(key)?.at(-1);

/** go-units RAMInBytes: "512m", "1g", "64MB", "1024" (bytes). */
export function parseBytes(s: string, label: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw usageError(`invalid argument "${s}" for "${label}" flag: invalid size: '${s}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as "" | "k"];
  return Math.floor(Number(m[1]) * mult);
}

/** `--cpus 1.5` → nano CPUs */
export function parseCpus(s: string): number {
  const n = Number(s);
  if (!/^\d*\.?\d+$/.test(s) || !Number.isFinite(n)) throw usageError(`invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  return Math.round(n * 1e9);
}

/** A command's argument count, in the CLI's words. */
export function requireArgs(rest: readonly string[], n: { min?: number; max?: number; exact?: number }, cmd: string, usage: string): void {
  const bad = n.exact !== undefined ? rest.length !== n.exact : (n.min !== undefined && rest.length < n.min) || (n.max !== undefined && rest.length > n.max);
  if (!bad) return;
  const what = n.exact !== undefined ? `exactly ${n.exact} argument${n.exact === 1 ? "" : "s"}` : n.min !== undefined ? `at least ${n.min} argument${n.min === 1 ? "" : "s"}` : `at most ${n.max} argument${n.max === 1 ? "" : "s"}`;
  throw usageError(`"docker ${cmd}" requires ${what}.\nSee 'docker ${cmd} --help'.\n\nUsage:  docker ${cmd} ${usage}`);
}

/** "2026-11-23T01:00:00Z", "1700000000", or a Go duration before now ("10m", "1h30m"). */
export function parseTime(s: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const d = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(s);
  if (d && s) return Date.now() - ((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000 - Number(d[4] ?? 0);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw usageError(`invalid value for "${flag}": failed to parse value as time or duration: "${s}"`);
  return t;
}
