import { columns, humanAgo, humanSize, ellipsis } from "../../common/docker-format.js";
import { isFlagError, usageError, last, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { BerthError, ErrorCode, isBerthError } from "../../common/errors.js";
import { renderTemplate } from "../../common/go-template.js";
import { parsePlatform, DEFAULT_PLATFORM, type Platform } from "../../common/oci-image.js";
import { familiarName, formatReference, parseReference, serverName, type Reference } from "../../common/reference.js";
import type { BlobStore } from "../store/blob-store.js";
import { ContainerService } from "../containers/containers.js";
import { NetworkService } from "../networks/networks.js";
import { CONTAINER_COMMANDS } from "./docker-container-cli.js";
import { confirm, eachArgument, imageJson, imagePruneText, readLine, platformOf, printFormat, printInspect, shortName, type CliContext, type Handler } from "./docker-cli-context.js";
import { labelMatch } from "../daemon/container-list.js";
import type { CliSession, GuestChannel, GuestProcess } from "../vm/guest-channel.js";
import { parseResponse, serialiseRequest, type WireRequest, type WireResponse } from "../../common/http-wire.js";
import { compressionOf, sniffCompression } from "../unpack/decompress.js";
import { currentManifestDigest, pullImage, type ImageConfig, type PulledImage } from "../images/image-puller.js";
import { ImageStore, type ImagesRecord, type LocalImage } from "../images/images.js";
import { LayerStore } from "../unpack/layer-store.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { ShareFiles } from "../vm/vm-host.js";
import type { Daemon, SearchResult } from "../daemon/daemon.js";
import { EventBus } from "../daemon/events.js";
import { pruneImages } from "../daemon/prune.js";
import type { MergedView } from "../unpack/layer-store.js";
import { concatBytes } from "../../common/bytes.js";
import { messageLine, progressBar, type JsonMessage } from "../../common/api/json-message.js";

export interface DockerCliDeps {
  channel: GuestChannel;
  files: ShareFiles;
  client: RegistryClient;
  store?: BlobStore;
  /** an image's download, all layers together, as it goes */
  onPull?: (p: PullReport) => void;
  /** the published ports changed (a container with -p started or stopped) */
  onPorts?: (ports: PublishedPort[]) => void;
}

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
  container: string;
}

export interface PullReport {
  image: string;
  loaded: number;
  total: number;
}

/** Commands whose engine errors exit 125, like Docker's; the others exit 1. */
const EXIT_125 = new Set(["run", "create"]);

/**
 * The engine's side of the guest's `docker` command: parses Docker's flags and
 * prints Docker's output. Images here; containers in docker-container-cli.ts.
 */
export class DockerCli implements Daemon {
  readonly #d: DockerCliDeps;
  /** the daemon's one event bus: `GET /events`, `docker events` */
  readonly events = new EventBus();
  readonly images = new ImageStore(this.events);
  readonly containers: ContainerService;
  readonly networks: NetworkService;
  /** the images' layers in the 9p share, a directory per layer chain. The guest caches
   * the share (cache=loose), so a directory is written once and never rewritten, even after rmi */
  readonly layerStore: LayerStore;

  /** the images kept from an earlier run, read back before the first command */
  readonly #restored: Promise<void>;
  #saved = 0;

  constructor(deps: DockerCliDeps) {
    this.#d = deps;
    this.layerStore = new LayerStore(deps.files);
    this.containers = new ContainerService(deps.channel, this.events);
    this.networks = new NetworkService(this.containers);
    this.containers.networks = this.networks;
    this.containers.onPortsChange = () => deps.onPorts?.(this.ports());
    this.#restored = this.#restore().catch(() => {});
  }

  /**
   * Reads the image record back: each image's config, and its layers' blobs
   * checked present. Layers are unpacked at an image's first use, not here.
   * An image whose blobs are gone is left out.
   */
  async #restore(): Promise<void> {
    const store = this.#d.store;
    const text = await store?.getMeta("images");
    if (!store || !text) return;
    const rec = JSON.parse(text) as ImagesRecord;
    if (rec.version !== 1) return;
    const stored = new Set(await store.list());
    for (const i of rec.images) {
      try {
        const configBytes = await store.get(i.id);
        if (!configBytes || !i.layers.every((l) => stored.has(l.digest))) continue;
        const config = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
        const image: PulledImage = { reference: parseReference(i.reference), manifestDigest: i.manifestDigest, id: i.id, config, neutralised: [], layerSizes: i.layerSizes, layers: i.layers };
        this.images.restore(image, i.repoDigests, Object.entries(rec.tags).filter(([, id]) => id === i.id).map(([t]) => t));
      } catch {
        // a damaged image is left out; its blobs stay for the next pull
      }
    }
    this.#saved = this.images.changes;
  }

  /** Guest directories of an image's layers, top first (unpacked on first use): the daemon's CreateDeps. */
  layers(local: LocalImage): Promise<string[]> {
    return this.#layers(local);
  }

  /** A regular file of an image, or undefined. */
  async imageFile(local: LocalImage, path: string): Promise<Uint8Array | undefined> {
    return this.layerStore.read(await this.#unpacked(local), path);
  }

  persist(): Promise<void> {
    return this.#persist();
  }

  /** Where blobs are kept, when the engine has a store. */
  get store(): BlobStore | undefined {
    return this.#d.store;
  }

  /** The paths an image's layers show, merged (unpacked on first use). */
  async imageView(local: LocalImage): Promise<MergedView> {
    return this.layerStore.view(await this.#unpacked(local));
  }

  /** Unpacks the layers of an image made here (commit, import, load) from their bytes; answers the entries neutralised. */
  async unpackLayers(image: Pick<PulledImage, "layers">, data: ReadonlyMap<string, Uint8Array>): Promise<string[]> {
    return (await this.#unpack(image.layers, data)).neutralised;
  }

  /** Resolves once the images kept from an earlier run are read back. */
  ready(): Promise<void> {
    return this.#restored;
  }

  /** The published ports of running containers. */
  ports(): PublishedPort[] {
    return this.containers.published().map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, proto: p.proto, container: p.container.name }));
  }

  /** A TCP connection to what is published on `hostPort` (see ContainerService.connect). */
  connectPort(hostPort: number, onData: (b: Uint8Array) => void, proto: "tcp" | "udp" = "tcp"): GuestProcess {
    const p = this.containers.published().find((x) => x.hostPort === hostPort && x.proto === proto);
    if (!p) throw new BerthError(ErrorCode.containerNotFound, `Cannot connect to port ${hostPort}/${proto}: no running container publishes it`);
    return this.containers.connect(p.container, p.containerPort, onData, proto);
  }

  /** One HTTP request to a published port (the page's /port/<n>/ path): the response, or a 502 in words. */
  async httpRequest(hostPort: number, req: WireRequest): Promise<WireResponse> {
    const parts: Uint8Array[] = [];
    let proc: GuestProcess;
    try {
      proc = this.connectPort(hostPort, (b) => parts.push(b));
    } catch (e) {
      return textResponse(502, isBerthError(e) ? e.toLine() : String(e));
    }
    proc.write(serialiseRequest(req, `127.0.0.1:${hostPort}`));
    // nc ends when the server closes (Connection: close); stdin stays open until then
    const code = await Promise.race([proc.exit, new Promise<number>((r) => setTimeout(() => r(-1), 30_000))]);
    if (code === -1) proc.kill(9);
    const raw = concatBytes(parts);
    return parseResponse(raw) ?? textResponse(502, `Error [container-wrong-state]: Cannot reach port ${hostPort}: ${raw.length ? "the container did not answer with HTTP" : "nothing answered (is the server listening?)"}`);
  }

  /** Garbage collection: blobs that no image's config or layers name go (the record is saved first). */
  async #collect(): Promise<number> {
    const store = this.#d.store;
    if (!store) return 0;
    await this.#persist();
    const keep = new Set<string>();
    for (const l of this.images.all()) {
      keep.add(l.id);
      for (const layer of l.image.layers) keep.add(layer.digest);
    }
    let freed = 0;
    for (const d of await store.list()) {
      if (keep.has(d)) continue;
      freed += (await store.get(d))?.length ?? 0;
      await store.delete(d);
    }
    return freed;
  }

  /** Saves the image record when the images changed since it was last saved. */
  async #persist(): Promise<void> {
    if (!this.#d.store || this.images.changes === this.#saved) return;
    const at = this.images.changes;
    await this.#d.store.setMeta("images", JSON.stringify(this.images.record()));
    this.#saved = at;
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
      });
    });
  }

  handle(s: CliSession): void {
    const [cmd, sub] = s.argv;
    const code125 = EXIT_125.has(cmd ?? "") || (cmd === "container" && EXIT_125.has(sub ?? ""));
    this.#restored.then(() => this.#dispatch(s)).finally(() => this.#persist().catch(() => {})).then(
      (code) => s.exit(code),
      (e: unknown) => {
        if (isFlagError(e)) {
          s.stderr(`docker: ${e.message}\n`);
          s.exit(125);
        } else if (isBerthError(e)) {
          s.stderr(`${e.toLine()}\n`);
          s.exit(e.code === ErrorCode.usage || code125 ? 125 : 1);
        } else {
          s.stderr(`${new BerthError(ErrorCode.internal, e instanceof Error ? e.message : String(e)).toLine()}\n`);
          s.exit(125);
        }
      },
    );
  }

  #context(s: CliSession): CliContext {
    return {
      s,
      images: this.images,
      containers: this.containers,
      networks: this.networks,
      events: this.events,
      store: this.#d.store,
      collectBlobs: () => this.#collect(),
      persist: () => this.#persist(),
      pullImage: (name, o) => this.pullImage(name, o),
      removeImage: (name, o) => this.removeImage(name, o),
      login: (server, creds) => this.login(server, creds),
      searchImages: (term, limit) => this.searchImages(term, limit),
      ensureImage: (name, o) => this.#ensure(s, name, o),
      layers: (local) => this.#layers(local),
      imageView: (local) => this.imageView(local),
      imageFile: (local, path) => this.imageFile(local, path),
      unpackLayers: (image, data) => this.unpackLayers(image, data),
      pull: (out, name, o) => this.#fetch(out, name, o),
    };
  }

  async #dispatch(s: CliSession): Promise<number> {
    let [cmd, ...args] = s.argv;
    // the long forms: docker container ls, docker image rm, …
    if (cmd === "container" || cmd === "image" || cmd === "system") {
      // (docker network … has its own dispatcher)
      const sub = args.shift();
      const long: Record<string, string> = {
        "container ls": "ps", "container list": "ps", "container ps": "ps", "container rm": "rm", "container remove": "rm",
        "image ls": "images", "image list": "images", "image rm": "rmi", "image remove": "rmi", "image pull": "pull",
        "image inspect": "image-inspect", "image prune": "image-prune", "container inspect": "container-inspect",
        "container prune": "container-prune", "system df": "system-df", "system prune": "system-prune", "system info": "info",
        "image history": "history", "image tag": "tag",
      };
      cmd = long[`${cmd} ${sub}`] ?? (cmd === "container" ? sub : `${cmd}-${sub}`);
    }
    const ctx = this.#context(s);
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
    switch (cmd) {
      case undefined:
      case "--help":
      case "help":
        s.stdout(`Usage:  docker [OPTIONS] COMMAND\n\nCommands: ${[...Object.keys(own), ...Object.keys(CONTAINER_COMMANDS)].filter((k) => !k.includes("-")).sort().join(", ")}\n`);
        return 0;
    }
    const h = own[cmd] ?? CONTAINER_COMMANDS[cmd];
    if (h) return h(ctx, args);
    s.stderr(`docker: '${s.argv.slice(0, s.argv[0] === cmd ? 1 : 2).join(" ")}' is not a docker command.\nSee 'docker --help'\n`);
    return 1;
  }

  /**
   * Pulls `given` (`POST /images/create`'s work): Docker's progress messages go
   * to `onMessage` as they come ("Pulling from …", per layer "Pulling fs layer",
   * "Downloading" with progress, "Download complete", "Pull complete" or
   * "Already exists", then "Digest: …" and "Status: …"). A warm pull is the
   * manifest request alone.
   * @throws BerthError from the registry client (image-not-found, registry-*, …)
   */
  async pullImage(given: string, o: { platform: Platform; onMessage?: (m: JsonMessage) => void }): Promise<LocalImage> {
    const send = o.onMessage ?? (() => {});
    const r = parseReference(given);
    const name = shortName(r);
    send({ status: `Pulling from ${r.repository}`, id: r.tag ?? r.digest ?? "latest" });
    const layers = new Map<string, { loaded: number; total: number; done: boolean }>();
    const had = this.images.find(formatReference(r));
    if (had && had.image.manifestDigest && (await currentManifestDigest(this.#d.client, r, o.platform)) === had.image.manifestDigest) {
      this.images.add(r, had.image);
      send({ status: `Digest: ${had.image.manifestDigest}` });
      send({ status: `Status: Image is up to date for ${name}` });
      return had;
    }
    const image = await pullImage(this.#d.client, r, {
      platform: o.platform,
      layers: this.layerStore,
      ...(this.#d.store ? { store: this.#d.store } : {}),
      onProgress: (p) => {
        const id = p.layer.slice(7, 19);
        let l = layers.get(p.layer);
        if (!l) {
          l = { loaded: 0, total: p.total, done: false };
          layers.set(p.layer, l);
          if (!p.existed) send({ status: "Pulling fs layer", progressDetail: {}, id });
        }
        l.loaded = p.loaded;
        if (this.#d.onPull) {
          let loaded = 0;
          let total = 0;
          for (const x of layers.values()) {
            loaded += x.loaded;
            total += x.total;
          }
          this.#d.onPull({ image: name, loaded, total });
        }
        if (l.done) return;
        if (p.loaded < p.total) {
          send({ status: "Downloading", progressDetail: { current: p.loaded, total: p.total }, progress: progressBar(p.loaded, p.total), id });
          return;
        }
        l.done = true;
        if (p.existed) {
          send({ status: "Already exists", progressDetail: {}, id });
          return;
        }
        send({ status: "Verifying Checksum", progressDetail: {}, id });
        send({ status: "Download complete", progressDetail: {}, id });
        send({ status: "Pull complete", progressDetail: {}, id });
      },
    });
    const { local } = this.images.add(r, image);
    this.images.event("pull", `${familiarName(r)}:${r.tag ?? r.digest ?? "latest"}`, familiarName(r));
    send({ status: `Digest: ${image.manifestDigest}` });
    send({ status: had?.id === image.id ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
    return local;
  }

  /** The guest CLI's pull: Docker's lines (as its CLI prints the daemon's messages off a terminal), then the reference. */
  async #fetch(out: (b: string) => void, given: string, o: { platform: Platform; quiet: boolean }): Promise<LocalImage> {
    const r = parseReference(given);
    if (!o.quiet && !r.digest && !/:[^/]+$/.test(given)) out("Using default tag: latest\n");
    const local = await this.pullImage(given, {
      platform: o.platform,
      onMessage: (m) => {
        const line = o.quiet ? undefined : messageLine(m);
        if (line) out(line);
      },
    });
    out(`${formatReference(r)}\n`);
    return local;
  }

  async #ensure(s: CliSession, name: string, o: { platform: Platform; pull: string }): Promise<LocalImage> {
    if (!["missing", "always", "never"].includes(o.pull)) throw usageError(`invalid pull option: '${o.pull}': must be one of "always", "missing" or "never"`);
    let local = this.images.find(name);
    if (!local || o.pull === "always") {
      const r = parseReference(name);
      if (o.pull === "never" && !local) throw new BerthError(ErrorCode.imageNotFound, `Cannot run "${shortName(r)}": No such image, and --pull=never`);
      if (!local) s.stderr(`Unable to find image '${shortName(r)}' locally\n`);
      // the pull's progress goes to stderr, like Docker's when run pulls
      local = await this.#fetch((b) => s.stderr(b), name, { platform: o.platform, quiet: false });
    }
    return local;
  }

  /** Guest directories of the image's layers, top first, unpacked from the blob store if they are not yet. */
  async #layers(local: LocalImage): Promise<string[]> {
    return this.layerStore.guestDirs((await this.#unpack(local.image.layers)).keys);
  }

  /** Makes sure every layer of the image is unpacked; answers its top chain's key. */
  async #unpacked(local: LocalImage): Promise<string> {
    return (await this.#unpack(local.image.layers)).keys.at(-1) ?? "";
  }

  /**
   * Unpacks the layers not unpacked yet, from `data` (an image made here: commit,
   * import, load) or the blob store; answers the layers' chain keys, bottom
   * first, and the entries neutralised.
   */
  async #unpack(layers: PulledImage["layers"], data: ReadonlyMap<string, Uint8Array> = new Map()): Promise<{ keys: string[]; neutralised: string[] }> {
    const keys = await LayerStore.chainKeys(layers.map((l) => l.digest));
    const neutralised: string[] = [];
    for (const [i, layer] of layers.entries()) {
      if (this.layerStore.has(keys[i]!)) continue;
      const blob = data.get(layer.digest) ?? (await this.#d.store?.get(layer.digest));
      if (!blob) throw new BerthError(ErrorCode.imageNotFound, `Cannot use layer ${layer.digest.slice(0, 19)}: it is no longer stored; pull the image again`);
      const r = await this.layerStore.unpack(keys[i]!, keys[i - 1], blob, compressionOf(layer.mediaType) ?? sniffCompression(blob), `layer ${layer.digest.slice(0, 19)}`);
      neutralised.push(...r.neutralised);
    }
    return { keys, neutralised };
  }

  async #pull(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "q,quiet": "bool", platform: "value", "a,all-tags": "bool", "disable-content-trust": "bool" }, "pull", { interspersed: true });
    requireArgs(rest, { exact: 1 }, "pull", "[OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry");
    const out = (b: string): void => ctx.s.stdout(b);
    if (opts.has("all-tags")) {
      const r = parseReference(rest[0]!);
      if (/:[^/]+$/.test(rest[0]!) || r.digest) throw usageError("tag can't be used with --all-tags/-a");
      const tags = await this.#d.client.tags(r.registry, r.repository, `pull all tags of "${familiarName(r)}"`);
      for (const tag of tags.sort()) await this.#fetch(out, `${rest[0]}:${tag}`, { platform: platformOf(opts), quiet: opts.has("quiet") });
      return 0;
    }
    await this.#fetch(out, rest[0]!, { platform: platformOf(opts), quiet: opts.has("quiet") });
    return 0;
  }

  async #login(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "u,username": "value", "p,password": "value", "password-stdin": "bool" }, "login", { interspersed: true });
    requireArgs(rest, { max: 1 }, "login", "[OPTIONS] [SERVER]\n\nLog in to a registry");
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
    await this.#d.client.login(registry, { username, password });
    ctx.s.stdout("Login Succeeded\n");
    return 0;
  }

  async #search(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { limit: "value", "f,filter": "value", "no-trunc": "bool", format: "value" }, "search", { interspersed: true });
    requireArgs(rest, { exact: 1 }, "search", "[OPTIONS] TERM\n\nSearch Docker Hub for images");
    const limit = Number(last(opts, "limit") ?? 25);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw usageError(`limit ${last(opts, "limit")} is outside the range of [1, 100]`);
    let results = await this.searchImages(rest[0]!, limit);
    for (const f of opts.get("filter") ?? []) {
      const [k, v = ""] = f.split(/=(.*)/s) as [string, string?];
      if (k === "stars") results = results.filter((r) => r.stars >= Number(v));
      else if (k === "is-official") results = results.filter((r) => r.official === (v === "true"));
      else throw usageError(`invalid filter '${k}'`);
    }
    const rows = results.map((r) => ({ Name: r.name, Description: opts.has("no-trunc") ? r.description : ellipsis(r.description, 45), StarCount: String(r.stars), IsOfficial: r.official ? "[OK]" : "" }));
    return printFormat(ctx, last(opts, "format") ?? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}", rows, { Name: "NAME", Description: "DESCRIPTION", StarCount: "STARS", IsOfficial: "OFFICIAL" });
  }

  async #logout(ctx: CliContext, args: string[]): Promise<number> {
    const { rest } = parseFlags(args, {}, "logout", { interspersed: true });
    requireArgs(rest, { max: 1 }, "logout", "[SERVER]\n\nLog out from a registry");
    const registry = serverName(rest[0]);
    if (this.#d.client.logout(registry)) ctx.s.stdout(`Removing login credentials for ${registry}\n`);
    else ctx.s.stdout(`Not logged in to ${registry}\n`);
    return 0;
  }

  async #imagesCmd(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "q,quiet": "bool", "a,all": "bool", "no-trunc": "bool", digests: "bool", "f,filter": "value", format: "value" }, "images", { interspersed: true });
    requireArgs(rest, { max: 1 }, "images", "[OPTIONS] [REPOSITORY[:TAG]]\n\nList images");
    let rows = this.images.rows();
    const match = (ref: Reference | undefined, pattern: string): boolean => {
      if (!ref) return false;
      // REPOSITORY[:TAG], either part may hold * (a tag is after the last ":" that has no "/" after it)
      const tagged = /:[^/]+$/.test(pattern);
      const [name, tag] = tagged ? [pattern.slice(0, pattern.lastIndexOf(":")), pattern.slice(pattern.lastIndexOf(":") + 1)] : [pattern, undefined];
      const glob = (g: string, v: string): boolean => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`).test(v);
      let full: string;
      try {
        full = name.includes("*") ? name : familiarName(parseReference(name));
      } catch {
        return false;
      }
      return glob(full, familiarName(ref)) && (tag === undefined || glob(tag, ref.tag ?? ""));
    };
    if (rest[0]) rows = rows.filter((r) => match(r.ref, rest[0]!));
    for (const f of opts.get("filter") ?? []) {
      const [k, v = ""] = f.split(/=(.*)/s) as [string, string?];
      if (k === "dangling") rows = rows.filter((r) => (r.ref === undefined) === (v === "true"));
      else if (k === "reference") rows = rows.filter((r) => match(r.ref, v));
      else if (k === "label") rows = rows.filter((r) => labelMatch(r.local.image.config.config?.Labels, v));
      else throw usageError(`invalid filter '${k}'`);
    }
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
    if (format) return printFormat(ctx, format, data, { Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE" });
    const head = ["REPOSITORY", "TAG", ...(opts.has("digests") ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
    ctx.s.stdout(columns([head, ...data.map((d) => [d.Repository, d.Tag, ...(opts.has("digests") ? [d.Digest] : []), d.ID, d.CreatedSince, d.Size])]));
    return 0;
  }

  async #tag(ctx: CliContext, args: string[]): Promise<number> {
    const { rest } = parseFlags(args, {}, "tag", { interspersed: true });
    requireArgs(rest, { exact: 2 }, "tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nCreate a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
    const local = this.images.require(rest[0]!, `tag "${rest[0]}"`);
    const target = parseReference(rest[1]!);
    if (target.digest) throw new BerthError(ErrorCode.invalidReference, `Cannot tag "${rest[1]}": refusing to create a tag with a digest reference`);
    this.images.tag(local, target);
    return 0;
  }

  async #rmi(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "f,force": "bool", "no-prune": "bool" }, "rmi", { interspersed: true });
    requireArgs(rest, { min: 1 }, "rmi", "[OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images");
    let removed = false;
    const code = await eachArgument(ctx, rest, (name) => {
      const items = this.removeImage(name, { force: opts.has("force") });
      removed ||= items.some((i) => i.Deleted);
      ctx.s.stdout(items.map((i) => (i.Deleted ? `Deleted: ${i.Deleted}\n` : `Untagged: ${i.Untagged}\n`)).join(""));
    });
    if (removed) await ctx.collectBlobs();
    return code;
  }

  /**
   * Removes an image by name or ID (`DELETE /images/{name}`, `docker rmi`) with
   * Docker's rules: a name that is one of several tags is only untagged; an image
   * a container uses, or with several tags given by ID, needs `force` (never for
   * a running container's). Answers Docker's items, {Untagged} then {Deleted};
   * blobs are collected by the caller.
   * @throws BerthError image-not-found, container-wrong-state (Docker's "conflict: …")
   */
  removeImage(name: string, { force }: { force: boolean }): Array<{ Untagged?: string; Deleted?: string }> {
    const local = this.images.require(name, `remove image "${name}"`);
    const users = this.containers.list().filter((c) => c.config.imageId === local.id);
    const tags = this.images.tagsOf(local);
    const byName = tags.some((t) => { try { return formatReference(t) === formatReference(parseReference(name)); } catch { return false; } });
    if (byName && tags.length > 1) {
      this.images.untag(parseReference(name));
      return [{ Untagged: shortName(parseReference(name)) }];
    }
    if (!byName && tags.length > 1 && !force) {
      throw new BerthError(ErrorCode.containerWrongState, `Cannot remove image "${name}": conflict: unable to delete ${local.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const running = users.find((c) => c.state.status === "running" || c.state.status === "paused");
    if (users.length && (!force || running)) {
      const c = running ?? users[0]!;
      throw new BerthError(ErrorCode.containerWrongState, `Cannot remove image "${name}": conflict: unable to ${byName ? `remove repository reference "${name}"` : `delete ${local.id.slice(7, 19)}`} (${running ? "cannot be forced" : "must be forced"}) - container ${c.shortId} is using its referenced image ${local.id.slice(7, 19)}`);
    }
    const out: Array<{ Untagged?: string; Deleted?: string }> = [];
    for (const t of tags) {
      this.images.untag(t);
      out.push({ Untagged: shortName(t) });
    }
    for (const d of local.repoDigests) out.push({ Untagged: d });
    this.images.delete(local);
    out.push({ Deleted: local.id });
    return out;
  }

  /** Deletes the blobs no image names any more (after a removal); answers the bytes freed. */
  collectBlobs(): Promise<number> {
    return this.#collect();
  }

  /**
   * Searches a registry (`GET /images/search`, `docker search`): TERM on
   * Docker Hub, or REGISTRY/TERM (a first part with a dot or a port, or localhost).
   * @throws BerthError registry-unavailable, registry-unauthorized
   */
  searchImages(given: string, limit: number): Promise<SearchResult[]> {
    const slash = given.indexOf("/");
    const head = slash > 0 ? given.slice(0, slash) : "";
    const registry = /[.:]/.test(head) || head === "localhost" ? head : "docker.io";
    return this.#d.client.search(registry, registry === "docker.io" ? given : given.slice(slash + 1), limit);
  }

  /** Logs in to a registry (`POST /auth`, `docker login`): checked against its /v2/ or token service, kept for pulls. */
  login(server: string, creds: { username: string; password: string }): Promise<void> {
    return this.#d.client.login(server, creds);
  }

  async #history(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "H,human": "bool", "no-trunc": "bool", "q,quiet": "bool", format: "value" }, "history", { interspersed: true });
    requireArgs(rest, { exact: 1 }, "history", "[OPTIONS] IMAGE\n\nShow the history of an image");
    const local = this.images.require(rest[0]!, `show the history of "${rest[0]}"`);
    const history = [...(local.image.config.history ?? [])].reverse();
    const sizes = [...local.image.layerSizes].reverse();
    const table = [["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]];
    let layer = 0;
    history.forEach((h, i) => {
      const size = h.empty_layer ? 0 : sizes[layer++] ?? 0;
      const by = (h.created_by ?? "").replace(/\s+/g, " ");
      table.push([i === 0 ? local.id.slice(7, 19) : "<missing>", h.created ? humanAgo(new Date(h.created)) : "N/A", opts.has("no-trunc") ? by : ellipsis(by, 45), humanSize(size), h.comment ?? ""]);
    });
    if (opts.has("quiet")) ctx.s.stdout(`${local.id.slice(7, 19)}\n`);
    else ctx.s.stdout(columns(table));
    return 0;
  }

  async #imageInspect(ctx: CliContext, args: string[]): Promise<number> {
    const { opts, rest } = parseFlags(args, { "f,format": "value" }, "image inspect", { interspersed: true });
    requireArgs(rest, { min: 1 }, "image inspect", "[OPTIONS] IMAGE [IMAGE...]\n\nDisplay detailed information on one or more images");
    return printInspect(ctx, rest.map((n) => () => imageJson(this.images, this.images.require(n, `inspect "${n}"`))), last(opts, "format"));
  }

  async #imagePrune(ctx: CliContext, args: string[]): Promise<number> {
    const { opts } = parseFlags(args, { "a,all": "bool", "f,force": "bool", filter: "value" }, "image prune", { interspersed: true });
    const warning = opts.has("all") ? "WARNING! This will remove all images without at least one container associated to them." : "WARNING! This will remove all dangling images.";
    if (!(await confirm(ctx, warning, opts.has("force")))) return 0;
    ctx.s.stdout(imagePruneText(await pruneImages(ctx, opts.has("all"))));
    return 0;
  }
}


/** `docker login [SERVER]`: Docker Hub when none, as its references name it. */
function textResponse(status: number, text: string): WireResponse {
  return { status, statusText: "Bad Gateway", headers: [["Content-Type", "text/plain; charset=utf-8"]], body: new TextEncoder().encode(`${text}\n`) };
}
