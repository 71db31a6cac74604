import { BerthError, ErrorCode } from "./errors.js";

/**
 * The part of Go's text/template that `docker … --format` users write: field
 * paths (`.State.Status`), `json`, `index`, `range` (with `$i, $v :=`), `if`/
 * `else`/`with`, variables, pipelines (`.Name | upper`), `{{-`/`-}}` trimming,
 * and the functions Docker adds (join, split, upper, lower, title, truncate,
 * pad, println, len).
 */
type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipe }
  | { kind: "if" | "with"; pipe: Pipe; then: Node[]; else: Node[] }
  | { kind: "range"; pipe: Pipe; vars: string[]; body: Node[]; else: Node[] };

interface Pipe {
  decl: string[];
  cmds: string[][];
}

const bad = (msg: string): BerthError => new BerthError(ErrorCode.usage, `template: ${msg}`);

function tokens(src: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|\||,|\(|\)|[^\s|,():]+(?::=)?)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(src)) && m[1]) {
    out.push(m[1]);
    end = re.lastIndex;
  }
  if (src.slice(end).trim()) throw bad(`unexpected "${src.slice(end).trim()}"`);
  return out;
}

function parsePipe(src: string): Pipe {
  const t = tokens(src);
  const decl: string[] = [];
  const at = t.indexOf(":=");
  if (at >= 0) {
    for (const v of t.slice(0, at)) if (v !== ",") decl.push(v);
    t.splice(0, at + 1);
  }
  if (t.filter((x) => x === "(").length !== t.filter((x) => x === ")").length) throw bad("unbalanced parentheses");
  const cmds = parsePipeTokens(t);
  if (cmds.some((c) => c.length === 0)) throw bad("missing command in pipeline");
  return { decl, cmds };
}

export function parseTemplate(src: string): Node[] {
  const parts: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      parts.push({ text: src.slice(i) });
      break;
    }
    const close = src.indexOf("}}", open + 2);
    if (close < 0) throw bad("unclosed action");
    let text = src.slice(i, open);
    let inner = src.slice(open + 2, close);
    if (inner.startsWith("- ")) text = text.replace(/\s+$/, "");
    i = close + 2;
    if (inner.endsWith(" -")) {
      const rest = src.slice(i);
      i += rest.length - rest.replace(/^\s+/, "").length;
    }
    inner = inner.replace(/^- /, "").replace(/ -$/, "").trim();
    if (text) parts.push({ text });
    if (!inner.startsWith("/*")) parts.push({ action: inner });
  }
  let pos = 0;
  // {{else if X}} … {{end}} is {{else}}{{if X}} … {{end}}{{end}} with one {{end}} shared
  const block = (ends: string[], single = false): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      if (single && nodes.length) return { nodes, end: "end" };
      const p = parts[pos++]!;
      if ("text" in p) {
        nodes.push({ kind: "text", text: p.text });
        continue;
      }
      const [word] = p.action.split(/\s/, 1);
      const rest = p.action.slice(word!.length).trim();
      if (word === "end" || word === "else") {
        if (!ends.includes(word)) throw bad(`unexpected {{${word}}}`);
        if (word === "else" && rest) {
          parts[--pos] = { action: rest };
          return { nodes, end: "else-if" };
        }
        return { nodes, end: word };
      }
      if (word === "if" || word === "with" || word === "range") {
        const pipe = parsePipe(rest);
        const then = block(["else", "end"]);
        const other = then.end === "else" ? block(["end"]).nodes : then.end === "else-if" ? block([], true).nodes : [];
        if (word === "range") nodes.push({ kind: "range", pipe: { decl: [], cmds: pipe.cmds }, vars: pipe.decl, body: then.nodes, else: other });
        else nodes.push({ kind: word, pipe, then: then.nodes, else: other });
        continue;
      }
      nodes.push({ kind: "action", pipe: parsePipe(p.action) });
    }
    if (ends.length) throw bad("unexpected EOF");
    return { nodes, end: "" };
  };
  return block([]).nodes;
}

/** Go's fmt %v of a value. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goString(o[k])}`).join(" ")}]`;
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

type Scope = { dot: unknown; vars: Map<string, unknown> };

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  index: (v, ...keys) => keys.reduce((o: unknown, k) => (o == null ? undefined : (o as Record<string, unknown>)[String(k)]), v),
  len: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  split: (v, sep) => String(v).split(String(sep)),
  upper: (v) => String(v).toUpperCase(),
  lower: (v) => String(v).toLowerCase(),
  title: (v) => String(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (v, n) => [...String(v)].slice(0, Number(n)).join(""),
  pad: (v, l, r) => " ".repeat(Number(l)) + String(v) + " ".repeat(Number(r)),
  println: (...a) => `${a.map(goString).join(" ")}\n`,
  print: (...a) => a.map(goString).join(""),
  printf: (f, ...a) => String(f).replace(/%[svdq]/g, (m) => (m === "%q" ? JSON.stringify(goString(a.shift())) : goString(a.shift()))),
  not: (v) => !truthy(v),
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  and: (...a) => a.find((x) => !truthy(x)) ?? a.at(-1),
  or: (...a) => a.find((x) => truthy(x)) ?? a.at(-1),
};

function field(v: unknown, path: string): unknown {
  for (const k of path.split(".").filter(Boolean)) {
    if (v === null || v === undefined || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function operand(t: string, s: Scope): unknown {
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("`")) return t.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === "true" || t === "false") return t === "true";
  if (t === "nil") return null;
  if (t === ".") return s.dot;
  if (t.startsWith(".")) return field(s.dot, t);
  if (t.startsWith("$")) {
    const [name, ...path] = t.split(".");
    if (!s.vars.has(name!)) throw bad(`undefined variable: ${name}`);
    return field(s.vars.get(name!), path.join("."));
  }
  throw bad(`function "${t}" not defined`);
}

/** A command's words, with each `( pipeline )` (and a `.Field` right after it) evaluated to a value. */
function words(cmd: string[], s: Scope): Array<{ tok: string } | { val: unknown }> {
  const out: Array<{ tok: string } | { val: unknown }> = [];
  for (let i = 0; i < cmd.length; i++) {
    if (cmd[i] !== "(") {
      out.push({ tok: cmd[i]! });
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < cmd.length; j++) {
      if (cmd[j] === "(") depth++;
      if (cmd[j] === ")" && --depth === 0) break;
    }
    const inner = cmd.slice(i + 1, j);
    let v = evalPipe({ decl: [], cmds: parsePipeTokens(inner) }, s);
    i = j;
    if (cmd[i + 1]?.startsWith(".")) v = field(v, cmd[++i]!);
    out.push({ val: v });
  }
  return out;
}

/** A pipeline's commands: split at the `|` outside parentheses. */
function parsePipeTokens(t: string[]): string[][] {
  const cmds: string[][] = [[]];
  let depth = 0;
  for (const x of t) {
    if (x === "(") depth++;
    if (x === ")") depth--;
    if (x === "|" && depth === 0) cmds.push([]);
    else cmds.at(-1)!.push(x);
  }
  return cmds;
}

function evalPipe(p: Pipe, s: Scope): unknown {
  let value: unknown;
  p.cmds.forEach((cmd, i) => {
    const [head, ...args] = words(cmd, s);
    if (!head) throw bad("missing command in pipeline");
    const fn = "tok" in head ? FUNCS[head.tok] : undefined;
    const val = (w: { tok: string } | { val: unknown }): unknown => ("tok" in w ? operand(w.tok, s) : w.val);
    if (fn) {
      value = fn(...args.map(val), ...(i > 0 ? [value] : []));
    } else {
      if (args.length) throw bad(`can't give argument to non-function ${"tok" in head ? head.tok : "(…)"}`);
      value = val(head);
    }
  });
  for (const d of p.decl) s.vars.set(d, value);
  return p.decl.length ? "" : value;
}

function exec(nodes: Node[], s: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case "text":
        out.push(n.text);
        break;
      case "action": {
        const v = evalPipe(n.pipe, s);
        if (!n.pipe.decl.length) out.push(goString(v));
        break;
      }
      case "if":
      case "with": {
        const v = evalPipe({ decl: [], cmds: n.pipe.cmds }, s);
        for (const d of n.pipe.decl) s.vars.set(d, v);
        if (truthy(v)) exec(n.then, n.kind === "with" ? { dot: v, vars: s.vars } : s, out);
        else exec(n.else, s, out);
        break;
      }
      case "range": {
        const v = evalPipe(n.pipe, s);
        const items: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === "object" ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
        if (items.length === 0) exec(n.else, s, out);
        for (const [k, x] of items) {
          const vars = new Map(s.vars);
          if (n.vars.length === 1) vars.set(n.vars[0]!, x);
          if (n.vars.length === 2) {
            vars.set(n.vars[0]!, k);
            vars.set(n.vars[1]!, x);
          }
          exec(n.body, { dot: x, vars }, out);
        }
        break;
      }
    }
  }
}

/** Renders `template` against `data`, like Go's text/template with Docker's functions. */
export function renderTemplate(template: string | Node[], data: unknown): string {
  const nodes = typeof template === "string" ? parseTemplate(template) : template;
  const out: string[] = [];
  exec(nodes, { dot: data, vars: new Map([["$", data]]) }, out);
  return out.join("");
}
