import { BerthError, ErrorCode, isBerthError } from "../common/errors.js";
import { familiarName, formatReference, parseReference, type Reference } from "../common/reference.js";
import { parsePlatform, DEFAULT_PLATFORM, type Platform } from "../common/oci-image.js";
import type { BlobStore } from "./blob-store.js";
import { runContainer } from "./container-runner.js";
import type { CliSession, GuestChannel } from "./guest-channel.js";
import { pullImage, type PulledImage } from "./image-puller.js";
import type { RegistryClient } from "./registry-client.js";
import { writeRootfs } from "./rootfs-writer.js";
import type { ShareFiles } from "./vm-host.js";

export interface DockerCliDeps {
  channel: GuestChannel;
  files: ShareFiles;
  client: RegistryClient;
  store?: BlobStore;
}

interface StoredImage {
  image: PulledImage;
  /** uncompressed size of the tree's files */
  size: number;
  written?: string;
}

/** Docker's go-units HumanSize: 1000-based, 3 significant digits ("4.26MB"). */
export function humanSize(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** "2 years ago", "About an hour ago": the CREATED column's wording (go-units HumanDuration). */
export function humanAgo(from: Date, now = new Date()): string {
  const s = Math.max(0, (now.getTime() - from.getTime()) / 1000);
  const m = s / 60;
  const h = m / 60;
  const d = h / 24;
  const text =
    s < 1 ? "Less than a second" : s < 60 ? `${Math.floor(s)} seconds` : m < 2 ? "About a minute" : m < 60 ? `${Math.floor(m)} minutes`
    : h < 2 ? "About an hour" : h < 48 ? `${Math.floor(h)} hours` : d < 14 ? `${Math.floor(d)} days` : d < 60 ? `${Math.floor(d / 7)} weeks`
    : d < 730 ? `${Math.floor(d / 30)} months` : `${Math.floor(d / 365)} years`;
  return `${text} ago`;
}

class Usage extends Error {}

/** Options first, then positionals (Docker stops at the first positional for `run`). */
function flags(args: string[], spec: Record<string, "bool" | "value">, cmd: string): { opts: Map<string, string[]>; rest: string[] } {
  const opts = new Map<string, string[]>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") { i++; break; }
    if (!a.startsWith("-") || a === "-") break;
    const [name, inline] = a.startsWith("--") ? [a.slice(2).split("=")[0]!, a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined] : [a.slice(1, 2), a.length > 2 ? a.slice(2) : undefined];
    const kind = spec[name];
    if (!kind) throw new Usage(`${a.startsWith("--") ? `unknown flag: --${name}` : `unknown shorthand flag: '${name}' in ${a}`}\nSee 'docker ${cmd} --help'.`);
    if (kind === "bool") {
      opts.set(name, ["true"]);
      // clustered short flags: -it
      if (!a.startsWith("--") && inline) for (const c of inline) {
        if (spec[c] !== "bool") throw new Usage(`unknown shorthand flag: '${c}' in ${a}\nSee 'docker ${cmd} --help'.`);
        opts.set(c, ["true"]);
      }
      continue;
    }
    const v = inline ?? args[++i];
    if (v === undefined) throw new Usage(`flag needs an argument: ${a}\nSee 'docker ${cmd} --help'.`);
    opts.set(name, [...(opts.get(name) ?? []), v]);
  }
  return { opts, rest: args.slice(i) };
}

/**
 * The engine's side of the guest's `docker` command: parses Docker's flags and
 * prints Docker's output. So far: version, pull, images, run (one-shot).
 */
export class DockerCli {
  readonly #d: DockerCliDeps;
  readonly #images = new Map<string, StoredImage>();
  #runs = 0;

  constructor(deps: DockerCliDeps) {
    this.#d = deps;
  }

  handle(s: CliSession): void {
    this.#dispatch(s).then(
      (code) => s.exit(code),
      (e: unknown) => {
        if (e instanceof Usage) {
          s.stderr(`docker: ${e.message}\n`);
          s.exit(125);
        } else if (isBerthError(e)) {
          s.stderr(`${e.toLine()}\n`);
          s.exit(125);
        } else {
          s.stderr(`Error [internal]: ${e instanceof Error ? e.message : String(e)}\n`);
          s.exit(125);
        }
      },
    );
  }

  async #dispatch(s: CliSession): Promise<number> {
    const [cmd, ...args] = s.argv;
    switch (cmd) {
      case undefined:
      case "--help":
        s.stdout("Usage:  docker [OPTIONS] COMMAND\n\nCommands run in Berth so far: pull, images, run, version\n");
        return 0;
      case "version":
        s.stdout("Client:\n Version:           berth\n OS/Arch:           linux/386\n\nServer: Berth Engine\n Engine:\n  OS/Arch:          linux/386\n");
        return 0;
      case "pull":
        return this.#pull(s, args);
      case "images":
        return this.#imagesCmd(s, args);
      case "image":
        if (args[0] === "ls" || args[0] === "list") return this.#imagesCmd(s, args.slice(1));
        break;
      case "run":
        return this.#run(s, args);
    }
    s.stderr(`docker: '${cmd}' is not a docker command.\nSee 'docker --help'\n`);
    return 1;
  }

  #shortName(r: Reference): string {
    return `${familiarName(r)}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
  }

  async #fetch(s: CliSession, r: Reference, platform: Platform, quiet: boolean, given: string): Promise<StoredImage> {
    const name = this.#shortName(r);
    if (!quiet) {
      if (!given.includes(":") || (given.lastIndexOf(":") < given.lastIndexOf("/") && !given.includes("@"))) s.stdout("Using default tag: latest\n");
      s.stdout(`${r.tag ?? r.digest}: Pulling from ${r.repository}\n`);
    }
    const seen = new Set<string>();
    const had = this.#images.get(formatReference(r));
    const image = await pullImage(this.#d.client, r, {
      platform,
      ...(this.#d.store ? { store: this.#d.store } : {}),
      onProgress: (p) => {
        if (p.loaded === p.total && !seen.has(p.layer)) {
          seen.add(p.layer);
          if (!quiet) s.stdout(`${p.layer.slice(7, 19)}: Pull complete\n`);
        }
      },
    });
    let size = 0;
    for (const n of image.tree.nodes.values()) if (n.type === "file" && n.hardlinkOf === undefined) size += n.data.length;
    const stored: StoredImage = { image, size };
    this.#images.set(formatReference(r), stored);
    if (!quiet) {
      s.stdout(`Digest: ${image.manifestDigest}\n`);
      s.stdout(had?.image.manifestDigest === image.manifestDigest ? `Status: Image is up to date for ${name}\n` : `Status: Downloaded newer image for ${name}\n`);
    }
    s.stdout(`${formatReference(r)}\n`);
    return stored;
  }

  async #pull(s: CliSession, args: string[]): Promise<number> {
    const { opts, rest } = flags(args, { q: "bool", quiet: "bool", platform: "value", a: "bool", "all-tags": "bool" }, "pull");
    if (rest.length !== 1) throw new Usage(`"docker pull" requires exactly 1 argument.\nSee 'docker pull --help'.\n\nUsage:  docker pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry`);
    await this.#fetch(s, parseReference(rest[0]!), platformOf(opts), opts.has("q") || opts.has("quiet"), rest[0]!);
    return 0;
  }

  async #imagesCmd(s: CliSession, args: string[]): Promise<number> {
    const { opts, rest } = flags(args, { q: "bool", quiet: "bool", a: "bool", all: "bool", "no-trunc": "bool", digests: "bool" }, "images");
    const filter = rest[0] ? parseReference(rest[0]) : undefined;
    const rows = [...this.#images.entries()]
      .map(([, v]) => v)
      .filter((v) => !filter || familiarName(v.image.reference) === familiarName(filter))
      .sort((a, b) => (b.image.config.created ?? "").localeCompare(a.image.config.created ?? ""));
    const id = (v: StoredImage): string => (opts.has("no-trunc") ? v.image.id : v.image.id.slice(7, 19));
    if (opts.has("q") || opts.has("quiet")) {
      s.stdout([...new Set(rows.map(id))].map((x) => `${x}\n`).join(""));
      return 0;
    }
    const table = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
    for (const v of rows) {
      const created = v.image.config.created;
      table.push([familiarName(v.image.reference), v.image.reference.tag ?? "<none>", id(v), created ? humanAgo(new Date(created)) : "N/A", humanSize(v.size)]);
    }
    s.stdout(columns(table));
    return 0;
  }

  async #run(s: CliSession, args: string[]): Promise<number> {
    const { opts, rest } = flags(args, { rm: "bool", i: "bool", t: "bool", d: "bool", e: "value", env: "value", entrypoint: "value", w: "value", workdir: "value", name: "value", platform: "value", pull: "value" }, "run");
    if (rest.length === 0) throw new Usage(`"docker run" requires at least 1 argument.\nSee 'docker run --help'.\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image`);
    if (opts.has("d")) {
      throw new BerthError(ErrorCode.usage, "Cannot run this yet: -d comes with the containers work (issue 4)");
    }
    const tty = opts.has("t");
    if (tty && opts.has("i") && !s.tty) {
      s.stderr("the input device is not a TTY\n");
      return 1;
    }
    const [name, ...cmd] = rest as [string, ...string[]];
    const r = parseReference(name);
    const platform = platformOf(opts);
    let stored = this.#images.get(formatReference(r));
    const pull = opts.get("pull")?.at(-1) ?? "missing";
    if (!["missing", "always", "never"].includes(pull)) throw new Usage(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
    if (!stored || pull === "always") {
      if (pull === "never" && !stored) throw new BerthError(ErrorCode.imageNotFound, `Cannot run "${this.#shortName(r)}": no such image here, and --pull=never`);
      if (!stored) s.stderr(`Unable to find image '${this.#shortName(r)}' locally\n`);
      // the pull's progress goes to stderr, like Docker's when run pulls
      const err: CliSession = { ...s, stdout: (b) => s.stderr(b) };
      stored = await this.#fetch(err, r, platform, false, name);
    }
    const img = stored.image;
    const c = img.config.config ?? {};
    const dir = `/images/${img.id.slice(7, 19)}/rootfs`;
    if (stored.written !== dir) {
      await writeRootfs(this.#d.files, dir, img.tree);
      stored.written = dir;
    }
    const entrypoint = opts.has("entrypoint") ? [opts.get("entrypoint")!.at(-1)!].filter(Boolean) : c.Entrypoint ?? [];
    const argv = [...entrypoint, ...(cmd.length ? cmd : opts.has("entrypoint") ? [] : c.Cmd ?? [])];
    if (argv.length === 0) throw new BerthError(ErrorCode.usage, "Cannot run the container: no command given and the image has none");
    const env = [...(c.Env ?? []), ...(opts.get("e") ?? []), ...(opts.get("env") ?? [])];
    return runContainer(
      this.#d.channel,
      {
        name: opts.get("name")?.at(-1) ?? `berth-${++this.#runs}-${Date.now() % 100000}`,
        layers: [`/mnt/host${dir}`],
        args: argv,
        env,
        cwd: opts.get("w")?.at(-1) ?? opts.get("workdir")?.at(-1) ?? (c.WorkingDir || "/"),
      },
      {
        tty,
        onStdout: (b) => s.stdout(b),
        onStderr: (b) => s.stderr(b),
        // -i: the client's stdin goes to the container; without it, the container reads EOF
        // (with -t and no -i the pty stays open: closing it would hang the container up)
        onCreated: (p) => {
          if (tty) {
            p.resize(s.rows || 24, s.cols || 80);
            s.onResize((rows, cols) => p.resize(rows, cols));
            if (opts.has("i") && s.tty) s.raw();
          }
          if (!opts.has("i")) return tty ? undefined : p.closeStdin();
          s.onStdin((b) => (b.length ? p.write(b) : p.closeStdin()));
          s.onClose(() => p.closeStdin());
        },
      },
    );
  }
}

/** `--platform` (the last one given), or linux/386. */
function platformOf(opts: Map<string, string[]>): Platform {
  const p = opts.get("platform")?.at(-1);
  return p ? parsePlatform(p) : DEFAULT_PLATFORM;
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd() + "\n").join("");
}
