import { parseMountFlag } from "./api/mounts.js";
import { commandPath, commandSpec } from "./cli/command-spec.js";
import { BerthError, ErrorCode } from "./errors.js";

/**
 * Docker's command-line flags (spf13/pflag as the CLI sets it up): `-it`
 * clusters, `-e X`/`-eX`/`--env=X`, `--` ends flags, and the CLI's words for
 * mistakes. A spec names each flag "short,long" or "long".
 */

/** How the docker CLI reports a usage error (BerthError `usage`, told apart by its detail). */
export const UsageKind = {
  /** pflag's own check (unknown flag, bad value): the message is whole, with the usage line; exit 125 */
  flags: "flags",
  /** cobra's argument count check: the message is whole; exit 1 */
  args: "args",
  /** a command's own check of its options: run/create say "docker: …" and exit 125, others exit 1 */
  options: "options",
  /** a client-side failure every command says as it is, exit 1 ("the input device is not a TTY") */
  plain: "plain",
} as const;

/**
 * A docker command's options are wrong, found by the command itself (Docker's
 * words: "invalid containerPort: abc", "conflicting options: …"): a BerthError
 * with the `usage` code. The guest's docker prints it as Docker's CLI does
 * (`docker run`: "docker: <message>" and its help line, exit 125; other
 * commands: the message, exit 1).
 */
export function usageError(message: string): BerthError {
  return new BerthError(ErrorCode.usage, message, { detail: UsageKind.options });
}

/** A client-side failure printed as it is, exit 1, by every command (docker/cli returns these errors bare). */
export function clientError(message: string): BerthError {
  return new BerthError(ErrorCode.usage, message, { detail: UsageKind.plain });
}

/** Whether an error is one of the CLI's own usage checks (flags, argument counts, options). */
export function isFlagError(e: unknown): e is BerthError {
  return e instanceof BerthError && e.code === ErrorCode.usage && (Object.values(UsageKind) as string[]).includes(e.detail ?? "");
}

/** The usage line and help command of a command path, as cobra prints them. */
function usageOf(cmd: string): { use: string; path: string } {
  const spec = commandSpec(cmd);
  return { use: spec?.use ?? `docker ${cmd} [OPTIONS]`, path: `docker ${commandPath(cmd)}` };
}

/**
 * pflag's error for `cmd`, as docker/cli's FlagErrorFunc (cli/cobra.go) words
 * it: the message, the usage line, the help hint; the CLI exits 125.
 */
export function flagError(message: string, cmd: string): BerthError {
  const u = usageOf(cmd);
  return new BerthError(ErrorCode.usage, `${message}\n\nUsage:  ${u.use}\n\nRun '${u.path} --help' for more information`, { detail: UsageKind.flags });
}

/** A flag Docker's CLI has but Berth cannot honour: refused (never silently ignored), as the daemon would refuse an option it lacks. */
export function unsupportedFlag(flag: string): BerthError {
  return new BerthError(ErrorCode.invalidParameter, `Cannot use ${flag}: Berth does not support ${flag} yet`);
}

/** The flags a command handler reads, by "short,long" or "long" (Docker's names). */
export type FlagSpec = Record<string, "bool" | "value">;

export interface ParsedFlags {
  /** by long name (or short when there is none): every value given, in order; a bool set false is absent */
  opts: Map<string, string[]>;
  rest: string[];
  /** bools set false explicitly (`--sig-proxy=false`), for flags whose default is true */
  negated: Set<string>;
}

/**
 * Parses a docker command's flags as pflag does: every flag Docker's CLI
 * accepts for `cmd` (the generated table), values checked by their type
 * (int, bytes, duration, …) in pflag's words; then any flag given that the
 * handler does not read (`implemented`) is refused, never ignored.
 * A command Docker does not have takes `implemented` as its flags.
 * @param cmd the command path as typed ("run", "container ls", "network create")
 * @throws BerthError usage (flagError) for pflag's errors; invalid-parameter for a flag Berth does not honour
 */
export function parseFlags(args: readonly string[], implemented: FlagSpec, cmd: string, o: { interspersed?: boolean } = {}): ParsedFlags {
  const spec = commandSpec(cmd);
  const types: Record<string, string> = spec ? { ...spec.flags, help: "bool" } : Object.fromEntries(Object.entries(implemented).map(([k, v]) => [k, v === "bool" ? "bool" : "string"]));
  const byName = new Map<string, { key: string; type: string; label: string }>();
  for (const [names, type] of Object.entries(types)) {
    const parts = names.split(",");
    const key = parts.at(-1)!;
    const label = parts.length === 2 ? `-${parts[0]}, --${parts[1]}` : `--${key}`;
    for (const n of parts) byName.set(n, { key, type, label });
  }
  const fail = (message: string): BerthError => flagError(message, cmd);
  const add = (f: { key: string; type: string; label: string }, v: string): void => {
    const bad = valueError(v, f.type, f.key);
    if (bad) throw fail(`invalid argument "${v}" for "${f.label}" flag: ${bad}`);
    opts.set(f.key, [...(opts.get(f.key) ?? []), v]);
  };
  const opts = new Map<string, string[]>();
  const rest: string[] = [];
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
    if (!f || (long ? name.length < 2 : false)) throw fail(long ? `unknown flag: --${name}` : `unknown shorthand flag: '${name}' in ${a}`);
    if (f.type === "bool") {
      const inline = long ? (eq < 0 ? undefined : a.slice(eq + 1)) : undefined;
      if (inline !== undefined && !BOOLS.has(inline)) throw fail(`invalid argument "${inline}" for "${f.label}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`);
      if (inline !== undefined && FALSE.has(inline)) opts.set(f.key, ["false"]);
      else opts.set(f.key, ["true"]);
      if (!long) {
        // clustered short flags: -it, or -dp 8080:80
        for (let j = 2; j < a.length; j++) {
          const g = byName.get(a[j]!);
          if (!g) throw fail(`unknown shorthand flag: '${a[j]}' in ${a}`);
          if (g.type === "bool") {
            opts.set(g.key, ["true"]);
            continue;
          }
          const v = a.length > j + 1 ? a.slice(j + 1) : args[++i];
          if (v === undefined) throw fail(`flag needs an argument: '${a[j]}' in -${a[j]}`);
          add(g, v);
          break;
        }
      }
      continue;
    }
    const inline = long ? (eq < 0 ? undefined : a.slice(eq + 1)) : a.length > 2 ? a.slice(2).replace(/^=/, "") : undefined;
    const v = inline ?? args[++i];
    if (v === undefined) throw fail(long ? `flag needs an argument: --${name}` : `flag needs an argument: '${name}' in -${name}`);
    add(f, v);
  }
  // `--flag=false` is a flag not given (a handler asks opts.has), and said in `negated`
  const negated = new Set<string>();
  for (const [k, v] of opts) {
    if (v.length === 1 && v[0] === "false" && byName.get(k)?.type === "bool") {
      opts.delete(k);
      negated.add(k);
    }
  }
  if (spec) {
    const known = new Set(Object.keys(implemented).map((n) => n.split(",").at(-1)!));
    for (const k of opts.keys()) if (k !== "help" && !known.has(k)) throw unsupportedFlag(`--${k}`);
  }
  return { opts, rest, negated };
}

const BOOLS = new Set(["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** pflag's complaint about a value of this type (Go's strconv, go-units, time words), or undefined when it is good. */
function valueError(v: string, type: string, key: string): string | undefined {
  switch (type) {
    case "int":
    case "int64":
    case "int32":
      return /^[+-]?\d+$/.test(v) ? undefined : `strconv.ParseInt: parsing "${v}": invalid syntax`;
    case "uint":
    case "uint64":
    case "uint16":
      if (!/^\+?\d+$/.test(v)) return `strconv.ParseUint: parsing "${v}": invalid syntax`;
      return type === "uint16" && Number(v) > 65535 ? `strconv.ParseUint: parsing "${v}": value out of range` : undefined;
    case "float":
    case "float64":
      return Number.isFinite(Number(v)) && v.trim() !== "" ? undefined : `strconv.ParseFloat: parsing "${v}": invalid syntax`;
    case "decimal":
      return /^\d*\.?\d+$/.test(v) ? undefined : `failed to parse ${v} as a rational number`;
    case "bytes":
      // --memory-swap is docker/cli's MemSwapBytes: -1 is "unlimited swap"
      return key === "memory-swap" && v === "-1" ? undefined : bytesError(v);
    case "filter":
      return v.includes("=") ? undefined : "bad format of filter (expected name=value)";
    case "duration":
      return durationError(v);
    case "mount": {
      const m = parseMountFlag(v);
      return typeof m === "string" ? m : undefined;
    }
    default:
      return undefined;
  }
}

/** go-units' RAMInBytes words for a bad size ("invalid size: 'x'", "invalid suffix: 'q'"). */
function bytesError(s: string): string | undefined {
  const m = /^(.*[0-9. ])?(.*)$/s.exec(s)!;
  if (m[1] === undefined) return `invalid size: '${s}'`;
  const num = m[1].endsWith(" ") ? m[1].slice(0, -1) : m[1];
  if (!/^[+-]?(\d*\.?\d+|\d+\.)$/.test(num)) return `strconv.ParseFloat: parsing "${num}": invalid syntax`;
  if (num.startsWith("-")) return `invalid size: '${s}'`;
  const sfx = m[2]!.toLowerCase();
  if (!sfx || sfx === "b") return undefined;
  if (sfx.length > 3 || !"kmgtp".includes(sfx[0]!) || (sfx.length === 2 && sfx[1] !== "b") || (sfx.length === 3 && sfx.slice(1) !== "ib")) return `invalid suffix: '${sfx}'`;
  return undefined;
}

/** Go's time.ParseDuration words ("time: invalid duration \"x\"", "time: missing unit in duration \"5\""). */
function durationError(s: string): string | undefined {
  if (/^[+-]?0$/.test(s) || /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(s)) return `time: missing unit in duration "${s}"`;
  return `time: invalid duration "${s}"`;
}

/** go-units RAMInBytes: "512m", "1g", "64MB", "1024" (bytes); a bad size in pflag's words for `label`. */
export function parseBytes(s: string, label: string): number {
  const bad = bytesError(s);
  if (bad) throw usageError(`invalid argument "${s}" for "${label}" flag: ${bad}`);
  const m = /^(\d*\.?\d+|\d+\.) ?([kmgtp]?)/i.exec(s)!;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as "" | "k"];
  return Math.floor(Number(m[1]) * mult);
}

/** The last value of a flag, or undefined. */
export const last = (opts: Map<string, string[]>, key: string): string | undefined => opts.get(key)?.at(-1);

/** `--cpus 1.5` → nano CPUs */
export function parseCpus(s: string): number {
  const n = Number(s);
  if (!/^\d*\.?\d+$/.test(s) || !Number.isFinite(n)) throw usageError(`invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  return Math.round(n * 1e9);
}

/**
 * A command's argument count, in cobra's words as docker/cli 28.2.2 says them
 * (cli/required.go: "docker: 'docker pull' requires 1 argument" and the usage
 * line); the CLI exits 1.
 * @param cmd the command path as typed
 * @throws BerthError usage (UsageKind.args)
 */
export function requireArgs(rest: readonly string[], n: { min?: number; max?: number; exact?: number }, cmd: string): void {
  const { use, path } = usageOf(cmd);
  const plural = (k: number): string => (k === 1 ? "argument" : "arguments");
  let what: string;
  let hint = "Run";
  if (n.exact !== undefined) {
    if (rest.length === n.exact) return;
    what = n.exact === 0 ? "accepts no arguments" : `requires ${n.exact} ${plural(n.exact)}`;
  } else if (n.min !== undefined && n.max !== undefined) {
    if (rest.length >= n.min && rest.length <= n.max) return;
    what = `requires at least ${n.min} and at most ${n.max} ${plural(n.max)}`;
  } else if (n.min !== undefined) {
    if (rest.length >= n.min) return;
    what = `requires at least ${n.min} ${plural(n.min)}`;
    hint = "See";
  } else {
    if (rest.length <= n.max!) return;
    what = `requires at most ${n.max} ${plural(n.max!)}`;
    hint = "SRun"; // sic: docker 28.2.2's RequiresMaxArgs
  }
  throw new BerthError(ErrorCode.usage, `docker: '${path}' ${what}\n\nUsage:  ${use}\n\n${hint} '${path} --help' for more information`, { detail: UsageKind.args });
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
