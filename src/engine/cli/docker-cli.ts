import { listImages } from "../daemon/image-list.js";
import { columns, humanAgo, humanSize, ellipsis } from "../../common/docker-format.js";
import { clientError, usageError, last, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { cliFailure } from "../../common/cli/cli-errors.js";
import { commandPath, commandSpec } from "../../common/cli/command-spec.js";
import { GROUP_HELP } from "../../common/cli/docker-commands.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Platform } from "../../common/oci-image.js";
import { familiarName, formatReference, parseReference, serverName, type Reference } from "../../common/reference.js";
import { CONTAINER_COMMANDS } from "./docker-container-cli.js";
import { CONTEXT_COMMANDS } from "./docker-context-cli.js";
import { manifestCommands } from "./docker-manifest-cli.js";

/** `docker manifest inspect`, fetching through the daemon's registry client */
const MANIFEST_COMMANDS = manifestCommands((ctx) => ctx);
import { confirm, eachArgument, filtersOf, imageJson, imagePruneText, readLine, platformOf, printFormat, printInspect, shortName, type CliContext, type Handler } from "./docker-cli-context.js";
import type { CliSession } from "../vm/guest-channel.js";
import type { LocalImage } from "../images/images.js";
import type { EngineDaemon } from "../daemon/engine-daemon.js";
import { pruneImages } from "../daemon/prune.js";
import { messageLine } from "../../common/api/json-message.js";

/** The command groups of Docker's CLI: "docker network create", "docker container ls", … */
const GROUPS = new Set(["container", "image", "system", "network", "context", "manifest", "volume"]);

/**
 * The command path a user typed, in cobra's names, and its arguments: the long
 * forms take two words ("docker container ls", "docker network create").
 */
function typedCommand(argv: readonly string[]): { path: string; args: string[]; group: boolean } {
  const [first, ...more] = argv;
  const group = GROUPS.has(first ?? "") && more[0] !== undefined && !more[0].startsWith("-");
  return { path: group ? commandPath(`${first} ${more[0]}`) : first ?? "", args: group ? more.slice(1) : more, group };
}

/** The handler of a command path whose name is not the path's (the long forms share the short forms' handlers). */
const HANDLER: Record<string, string> = {
  "container ls": "ps", "image ls": "images", "image rm": "rmi", "image pull": "pull", "image inspect": "image-inspect",
  "image prune": "image-prune", "container inspect": "container-inspect", "container prune": "container-prune", "system df": "system-df",
  "system prune": "system-prune", "system info": "info", "system events": "events", "image history": "history", "image tag": "tag",
  "image save": "save", "image load": "load", "image import": "import",
};

/**
 * The guest's `docker` command, a client of the daemon: argv to the daemon's
 * operations, and Docker's printed output and exit codes. Image commands here;
 * containers in docker-container-cli.ts, the rest beside it.
 */
export class DockerCli {
  readonly #daemon: EngineDaemon;

  constructor(daemon: EngineDaemon) {
    this.#daemon = daemon;
  }

  /** The daemon this CLI is a client of. */
  get daemon(): EngineDaemon {
    return this.#daemon;
  }

  /**
   * A docker command run by the engine's own API (the page's components), not
   * typed in the guest: `command(["run", "--rm", "busybox", "echo", "hi"], …)`.
   * Stdin is empty; resolves with the exit status.
   */
  command(argv: string[], io: { stdout: (b: Uint8Array) => void; stderr: (b: Uint8Array) => void }): Promise<number> {
    const enc = new TextEncoder();
    const bytes = (b: Uint8Array | string): Uint8Array => (typeof b === "string" ? enc.encode(b) : b);
    return new Promise((resolve) => {
      let done = false;
      this.handle({
        id: 0, argv, env: [], cwd: "/", tty: false, rows: 24, cols: 80,
        stdout: (b) => done || io.stdout(bytes(b)),
        stderr: (b) => done || io.stderr(bytes(b)),
        exit: (code) => {
          done = true;
          resolve(code);
        },
        onStdin: (l) => queueMicrotask(() => l(new Uint8Array(0))),
        onClose: () => {},
        raw: () => {},
        onResize: () => {},
        sigProxy: () => {},
        onSignal: () => {},
      });
    });
  }

  /** Runs one `docker` command the guest's client sent: its output, then its exit status; a failure as Docker's CLI prints it (cliFailure). */
  handle(s: CliSession): void {
    const { path } = typedCommand(s.argv);
    this.#daemon.ready().then(() => this.#dispatch(s)).finally(() => this.#daemon.persist().catch(() => {})).then(
      (code) => s.exit(code),
      (e: unknown) => {
        const f = cliFailure(e, path);
        s.stderr(`${f.text}\n`);
        s.exit(f.status);
      },
    );
  }

  #context(s: CliSession, path: string): CliContext {
    return {
      s,
      path,
      images: this.#daemon.images,
      containers: this.#daemon.containers,
      networks: this.#daemon.networks,
      volumes: this.#daemon.volumes,
      events: this.#daemon.events,
      store: this.#daemon.store,
      collectBlobs: () => this.#daemon.collectBlobs(),
      persist: () => this.#daemon.persist(),
      pullImage: (name, o) => this.#daemon.pullImage(name, o),
      removeImage: (name, o) => this.#daemon.removeImage(name, o),
      login: (server, creds) => this.#daemon.login(server, creds),
      searchImages: (term, limit) => this.#daemon.searchImages(term, limit),
      ensureImage: (name, o) => this.#ensure(s, name, o),
      layers: (local) => this.#daemon.layers(local),
      imageView: (local) => this.#daemon.imageView(local),
      imageFile: (local, path) => this.#daemon.imageFile(local, path),
      unpackLayers: (image, data) => this.#daemon.unpackLayers(image, data),
      pull: (out, name, o) => this.#fetch(out, name, o),
      fetchManifest: (ref) => this.#daemon.fetchManifest(ref),
      fetchBlob: (ref, digest) => this.#daemon.fetchBlob(ref, digest),
    };
  }

  async #dispatch(s: CliSession): Promise<number> {
    const [first, ...more] = s.argv;
    const { path, args, group } = typedCommand(s.argv);
    const ctx = this.#context(s, path);
    const own: Record<string, Handler> = {
      pull: (c, a) => this.#pull(c, a),
      images: (c, a) => this.#imagesCmd(c, a),
      tag: (c, a) => this.#tag(c, a),
      rmi: (c, a) => this.#rmi(c, a),
      history: (c, a) => this.#history(c, a),
      "image-inspect": (c, a) => this.#imageInspect(c, a),
      "image-prune": (c, a) => this.#imagePrune(c, a),
      login: (c, a) => this.#login(c, a),
      search: (c, a) => this.#search(c, a),
      logout: (c, a) => this.#logout(c, a),
    };
    if (path === "" || path === "--help" || path === "help") {
      s.stdout(`Usage:  docker [OPTIONS] COMMAND\n\nCommands: ${[...Object.keys(own), ...Object.keys(CONTAINER_COMMANDS)].filter((k) => !k.includes("-")).sort().join(", ")}\n`);
      return 0;
    }
    const spec = commandSpec(path);
    const helpAt = args.indexOf("--help");
    if (spec && helpAt >= 0 && (args.indexOf("--") < 0 || helpAt < args.indexOf("--"))) {
      s.stdout(`Usage:  ${spec.use}\n\nOptions:\n${Object.entries(spec.flags).filter(([n]) => n !== "help").map(([n, t]) => `  ${n.includes(",") ? `-${n.replace(",", ", --")}` : `    --${n}`}${t === "bool" ? "" : ` ${t}`}\n`).join("")}`);
      return 0;
    }
    const name = HANDLER[path] ?? (path.startsWith("container ") ? path.slice(10) : path.replace(" ", "-"));
    const h = own[name] ?? CONTAINER_COMMANDS[name] ?? CONTEXT_COMMANDS[name] ?? MANIFEST_COMMANDS[name];
    if (h && (spec || !GROUPS.has(first ?? ""))) return h(ctx, args);
    if (GROUPS.has(first ?? "") && !group) {
      // "docker network" alone: cobra prints the group's help (read from the reference CLI)
      s.stdout(GROUP_HELP[first!] ?? `Usage:  docker ${first} COMMAND\n`);
      return more.length && more[0] !== "--help" ? 1 : 0;
    }
    // cobra's words (docker/cli cli/required.go NoArgs, cmd/docker/docker.go)
    // the group's Use line: "manifest COMMAND" and "volume COMMAND" in docker/cli 28.2.2, the others bare
    const use = first === "manifest" || first === "volume" ? `${first} COMMAND` : first;
    s.stderr(group ? `docker: unknown command: docker ${first} ${more[0]}\n\nUsage:  docker ${use}\n\nRun 'docker ${first} --help' for more information\n` : `docker: unknown command: docker ${first}\n\nRun 'docker --help' for more information\n`);
    return 1;
  }

  /** The guest CLI's pull: Docker's lines (as its CLI prints the daemon's messages off a terminal), then the reference. */
  async #fetch(out: (b: string) => void, given: string, o: { platform: Platform; quiet: boolean; forRun?: boolean }): Promise<LocalImage> {
    const r = parseReference(given);
    if (!o.quiet && !o.forRun && !r.digest && !/:[^/]+$/.test(given)) out("Using default tag: latest\n");
    const local = await this.#daemon.pullImage(given, {
      platform: o.platform,
      onMessage: (m) => {
        const line = o.quiet ? undefined : messageLine(m);
        if (line) out(line);
      },
    });
    // run's and create's pull shows the daemon's messages alone (docker/cli create.go pullImage)
    if (!o.forRun) out(`${formatReference(r)}\n`);
    return local;
  }

  async #ensure(s: CliSession, name: string, o: { platform: Platform; pull: string; quiet?: boolean }): Promise<LocalImage> {
    let local = this.#daemon.images.find(name);
    if (!local || o.pull === "always") {
      const r = parseReference(name);
      if (o.pull === "never" && !local) throw new BerthError(ErrorCode.imageNotFound, `Cannot run "${shortName(r)}": No such image, and --pull=never`);
      if (!local) s.stderr(`Unable to find image '${shortName(r)}' locally\n`);
      // the pull's progress goes to stderr, like Docker's when run pulls
      local = await this.#fetch((b) => s.stderr(b), name, { platform: o.platform, quiet: o.quiet ?? false, forRun: true });
    }
    return local;
  }

  async #pull(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "q,quiet": "bool", platform: "value", "a,all-tags": "bool", "disable-content-trust": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 1 }, ctx.path);
    const out = (b: string): void => ctx.s.stdout(b);
    if (opts.has("all-tags")) {
      const r = parseReference(rest[0]!);
      if (/:[^/]+$/.test(rest[0]!) || r.digest) throw usageError("tag can't be used with --all-tags/-a");
      const tags = await this.#daemon.listTags(r.registry, r.repository, `pull all tags of "${familiarName(r)}"`);
      for (const tag of tags.sort()) await this.#fetch(out, `${rest[0]}:${tag}`, { platform: platformOf(opts), quiet: opts.has("quiet") });
      return 0;
    }
    await this.#fetch(out, rest[0]!, { platform: platformOf(opts), quiet: opts.has("quiet") });
    return 0;
  }

  async #login(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "u,username": "value", "p,password": "value", "password-stdin": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { max: 1 }, ctx.path);
    const registry = serverName(rest[0]);
    const username = last(opts, "username");
    if (!username) throw usageError("Cannot log in: give the username with -u (Berth does not prompt for it)");
    let password = last(opts, "password");
    if (opts.has("password-stdin")) {
      if (password !== undefined) throw usageError("--password and --password-stdin are mutually exclusive");
      password = (await readLine(ctx)).replace(/\r?\n$/, "");
    } else if (password === undefined) {
      ctx.s.stdout("Password: ");
      password = (await readLine(ctx)).replace(/\r?\n$/, "");
      ctx.s.stdout("\n");
    } else {
      ctx.s.stderr("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    }
    if (!password) throw usageError("Cannot log in: the password is empty");
    await this.#daemon.login(registry, { username, password });
    ctx.s.stdout("Login Succeeded\n");
    return 0;
  }

  async #search(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { limit: "value", "f,filter": "value", "no-trunc": "bool", format: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 1 }, ctx.path);
    const limit = Number(last(opts, "limit") ?? 25);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new BerthError(ErrorCode.invalidParameter, `Cannot search: limit ${last(opts, "limit")} is outside the range of [1, 100]`);
    let results = await this.#daemon.searchImages(rest[0]!, limit);
    for (const f of opts.get("filter") ?? []) {
      const [k, v = ""] = f.split(/=(.*)/s) as [string, string?];
      if (k === "stars") results = results.filter((r) => r.stars >= Number(v));
      else if (k === "is-official") results = results.filter((r) => r.official === (v === "true"));
      else throw new BerthError(ErrorCode.invalidParameter, `Cannot list: invalid filter '${k}'`);
    }
    const rows = results.map((r) => ({ Name: r.name, Description: opts.has("no-trunc") ? r.description : ellipsis(r.description, 45), StarCount: String(r.stars), IsOfficial: r.official ? "[OK]" : "" }));
    return printFormat(ctx, last(opts, "format") ?? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}", rows, { Name: "NAME", Description: "DESCRIPTION", StarCount: "STARS", IsOfficial: "OFFICIAL" });
  }

  async #logout(ctx: CliContext, args: string[]): Promise<number> {
    const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
    requireArgs(rest, { max: 1 }, ctx.path);
    const registry = serverName(rest[0]);
    if (this.#daemon.logout(registry)) ctx.s.stdout(`Removing login credentials for ${registry}\n`);
    else ctx.s.stdout(`Not logged in to ${registry}\n`);
    return 0;
  }

  async #imagesCmd(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "q,quiet": "bool", "a,all": "bool", "no-trunc": "bool", digests: "bool", "f,filter": "value", format: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { max: 1 }, ctx.path);
    // the positional REPOSITORY[:TAG] is a reference filter, as Docker's CLI sends it
    const filters = filtersOf(opts, rest[0] ? [`reference=${rest[0]}`] : []);
    const rows = listImages(this.#daemon.images, filters).flatMap(({ local, tags }) => (tags.length ? tags.map((ref) => ({ local, ref: ref as Reference | undefined })) : [{ local, ref: undefined }]));
    rows.sort((a, b) => (b.local.image.config.created ?? "").localeCompare(a.local.image.config.created ?? ""));
    const id = (l: LocalImage): string => (opts.has("no-trunc") ? l.id : l.id.slice(7, 19));
    if (opts.has("quiet")) {
      ctx.s.stdout([...new Set(rows.map((r) => id(r.local)))].map((x) => `${x}\n`).join(""));
      return 0;
    }
    const data = rows.map(({ local, ref }) => {
      const created = local.image.config.created;
      const digest = ref ? [...local.repoDigests].find((d) => d.startsWith(`${familiarName(ref)}@`))?.split("@")[1] : undefined;
      return {
        Repository: ref ? familiarName(ref) : "<none>", Tag: ref?.tag ?? "<none>", Digest: digest ?? "<none>", ID: id(local),
        CreatedSince: created ? humanAgo(new Date(created)) : "N/A", CreatedAt: created ?? "", Size: humanSize(local.size),
      };
    });
    const format = last(opts, "format");
    if (format && format !== "table") return printFormat(ctx, format, data, { Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE" });
    const head = ["REPOSITORY", "TAG", ...(opts.has("digests") ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
    ctx.s.stdout(columns([head, ...data.map((d) => [d.Repository, d.Tag, ...(opts.has("digests") ? [d.Digest] : []), d.ID, d.CreatedSince, d.Size])]));
    return 0;
  }

  async #tag(ctx: CliContext, args: string[]): Promise<number> {
    const { rest } = parseFlags(args, {}, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 2 }, ctx.path);
    // docker/cli checks the target first (cli/command/image/tag.go), then the daemon finds the source
    let target: Reference;
    try {
      target = parseReference(rest[1]!);
    } catch {
      throw clientError(`Error parsing reference: "${rest[1]}" is not a valid repository/tag: invalid reference format`);
    }
    if (target.digest) throw new BerthError(ErrorCode.invalidParameter, `Cannot tag "${rest[1]}": refusing to create a tag with a digest reference`);
    const local = this.#daemon.images.require(rest[0]!, `tag "${rest[0]}"`);
    this.#daemon.images.tag(local, target);
    return 0;
  }

  async #rmi(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "f,force": "bool", "no-prune": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    let removed = false;
    const code = await eachArgument(ctx, rest, (name) => {
      const items = this.#daemon.removeImage(name, { force: opts.has("force") });
      removed ||= items.some((i) => i.Deleted);
      ctx.s.stdout(items.map((i) => (i.Deleted ? `Deleted: ${i.Deleted}\n` : `Untagged: ${i.Untagged}\n`)).join(""));
    }, opts.has("force") ? { force: "print" } : {});
    if (removed) await ctx.collectBlobs();
    return code;
  }

  async #history(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest, negated } = parseFlags(args, { "H,human": "bool", "no-trunc": "bool", "q,quiet": "bool", format: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 1 }, ctx.path);
    const local = this.#daemon.images.require(rest[0]!, `show the history of "${rest[0]}"`);
    const history = [...(local.image.config.history ?? [])].reverse();
    const sizes = [...local.image.layerSizes].reverse();
    // docker/cli's history formatter: -H=false gives RFC 3339 times and sizes in bytes
    const human = !negated.has("human");
    let layer = 0;
    const rows = history.map((h, i) => {
      const size = h.empty_layer ? 0 : sizes[layer++] ?? 0;
      const by = (h.created_by ?? "").replace(/\s+/g, " ");
      const at = h.created ? new Date(h.created).toISOString().replace(/\.\d+Z$/, "Z") : "";
      return {
        ID: i === 0 ? (opts.has("no-trunc") ? local.id : local.id.slice(7, 19)) : "<missing>",
        CreatedSince: h.created ? (human ? humanAgo(new Date(h.created)) : at) : "N/A",
        CreatedAt: at, CreatedBy: opts.has("no-trunc") ? by : ellipsis(by, 45),
        Size: human ? humanSize(size) : String(size), Comment: h.comment ?? "",
      };
    });
    const format = opts.has("quiet") ? "{{.ID}}" : last(opts, "format") ?? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
    await printFormat(ctx, format, rows, { ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT" });
    return 0;
  }

  async #imageInspect(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "f,format": "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    return printInspect(ctx, rest.map((n) => () => imageJson(this.#daemon.images, this.#daemon.images.require(n, `inspect "${n}"`))), last(opts, "format"));
  }

  async #imagePrune(ctx: CliContext, args: string[]): Promise<number> {
    const { opts } = parseFlags(args, { "a,all": "bool", "f,force": "bool", filter: "value" }, ctx.path, { interspersed: true });
    const warning = opts.has("all") ? "WARNING! This will remove all images without at least one container associated to them." : "WARNING! This will remove all dangling images.";
    if (!(await confirm(ctx, warning, opts.has("force")))) return 0;
    ctx.s.stdout(imagePruneText(await pruneImages(ctx, opts.has("all"), filtersOf(opts))));
    return 0;
  }
}
