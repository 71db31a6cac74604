import { isRunning } from "../../common/container-state.js";
import { BerthError, ErrorCode, isBerthError } from "../../common/errors.js";
import type { Platform } from "../../common/oci-image.js";
import { familiarName, formatReference, parseReference, shortName } from "../../common/reference.js";
import type { BlobStore } from "../store/blob-store.js";
import { ContainerService } from "../containers/containers.js";
import { NetworkService } from "../networks/networks.js";
import type { GuestChannel, GuestProcess } from "../vm/guest-channel.js";
import { parseResponse, serialiseRequest, type WireRequest, type WireResponse } from "../../common/http-wire.js";
import { compressionOf, sniffCompression } from "../unpack/decompress.js";
import { currentManifestDigest, pullImage, type ImageConfig, type PulledImage } from "../images/image-puller.js";
import { ImageStore, type ImagesRecord, type LocalImage } from "../images/images.js";
import { LayerStore } from "../unpack/layer-store.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { ShareFiles } from "../vm/vm-host.js";
import type { Daemon, SearchResult } from "./daemon.js";
import { EventBus, type PullProgress } from "./events.js";
import type { MergedView } from "../unpack/layer-store.js";
import { ANONYMOUS_LABEL, VolumeService } from "../volumes/volumes.js";
import { ociMounts, volumeNames } from "./container-mounts.js";
import { ShareService, type ShareSpec } from "../volumes/shares.js";
import { DaemonState, type SessionContainer } from "./daemon-state.js";
import type { ChainRecord } from "../unpack/layer-store.js";
import type { NetworkSession } from "../networks/networks.js";
import { concatBytes } from "../../common/bytes.js";
import { progressBar, type JsonMessage } from "../../common/api/json-message.js";

/** What the daemon is made of: the guest, its 9p share, the registry client, where blobs are kept, and who hears of pulls and ports. */
export interface DaemonDeps {
  channel: GuestChannel;
  files: ShareFiles;
  client: RegistryClient;
  store?: BlobStore;
  /**
   * where the daemon's own state is kept (a directory in Node, IndexedDB in the
   * page): volumes' data, containers and networks; none: they last as long as the engine
   */
  stateStore?: BlobStore;
  /** an image's download, all layers together, as it goes */
  onPull?: (p: PullReport) => void;
  /** the published ports changed (a container with -p started or stopped) */
  onPorts?: (ports: PublishedPort[]) => void;
  /** something went wrong that the daemon recovered from (a kept container that could not be read back) */
  onWarning?: (e: BerthError) => void;
  /** the VM was restored from a saved session: the daemon goes on from what it kept (see EngineDaemon.session), with its blobs */
  session?: { session: DaemonSession; blobs: readonly Uint8Array[] };
}

/**
 * What a saved session keeps of the daemon, beside the VM's state: the
 * containers as they were (running ones with their process's stream), the
 * networks with their endpoints, the layer chains unpacked in the share, the
 * volumes whose data is in the guest.
 */
export interface DaemonSession {
  containers: SessionContainer[];
  networks: NetworkSession;
  layers: ChainRecord[];
  volumes: string[];
}

/** A port a running container publishes (`-p`), as the Node forwarder and the page open it. */
export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
  container: string;
}

/** ms between saves of the volumes running containers use */
const AUTOSAVE_MS = 5000;

/** An image's download, all layers together (the bus's pull progress). */
export type PullReport = PullProgress;

/**
 * Berth's daemon: the services (images, containers, networks, the layer store,
 * the event bus) and the image operations, over one guest. The Engine owns it;
 * the guest's docker command (DockerCli), the Engine API and the page call it.
 */
export class EngineDaemon implements Daemon {
  readonly #d: DaemonDeps;

  /** the daemon's one event bus: `GET /events`, `docker events` */
  readonly events = new EventBus();

  readonly images = new ImageStore(this.events);

  readonly containers: ContainerService;

  readonly networks: NetworkService;

  /** named and anonymous volumes, their data in the 9p share and saved to the volume store */
  readonly volumes: VolumeService;

  /** the user's directories shown in the guest (`berth --share`), once shared */
  shares: ShareService | undefined;

  /** containers and networks kept across engines (with a state store) */
  readonly #state: DaemonState | undefined;

  /** the images' layers in the 9p share, a directory per layer chain. The guest caches
   * the share (cache=loose), so a directory is written once and never rewritten, even after rmi */
  readonly layerStore: LayerStore;

  /** the images kept from an earlier run, read back before the first command */
  readonly #restored: Promise<void>;
  #saved = 0;

  constructor(deps: DaemonDeps) {
    this.#d = deps;
    this.layerStore = new LayerStore(deps.files);
    this.containers = new ContainerService(deps.channel, this.events);
    this.networks = new NetworkService(this.containers);
    this.containers.networks = this.networks;
    this.volumes = new VolumeService(deps.files, { run: (argv) => this.containers.guest(argv) }, deps.stateStore, this.events);
    this.volumes.users = (name) => this.containers.list().filter((c) => volumeNames(c).includes(name)).map((c) => c.id);
    this.containers.volumes = {
      mounts: (c) => ociMounts(this, c),
      released: (c) => {
        void this.volumes.flush(volumeNames(c)).catch(() => {});
        // a volume with mount options is unmounted once no running container uses it (Docker's refcount)
        const running = this.containers.list().filter((x) => x !== c && isRunning(x.state)).flatMap(volumeNames);
        for (const name of volumeNames(c)) if (!running.includes(name)) void this.volumes.release(name).catch(() => {});
        void this.shares?.sync().catch(() => {});
      },
      removed: async (c, anonymous) => {
        if (!anonymous) return;
        for (const name of volumeNames(c)) {
          const v = this.volumes.tryGet(name);
          if (v && ANONYMOUS_LABEL in v.labels && !this.volumes.users(name).length) await this.volumes.remove(name).catch(() => {});
        }
      },
    };
    this.containers.onPortsChange = () => deps.onPorts?.(this.ports());
    if (deps.onPull) this.events.onProgress(deps.onPull);
    if (deps.session) {
      this.layerStore.adopt(deps.session.session.layers);
      this.networks.adoptSession(deps.session.session.networks);
    }
    if (deps.stateStore) {
      this.#state = new DaemonState({
        containers: this.containers, networks: this.networks, events: this.events, files: deps.files, running: () => !deps.channel.closed,
        layers: async (id) => {
          const local = this.images.all().find((l) => l.id === id);
          return local ? this.#layers(local) : undefined;
        },
      }, deps.stateStore);
    }
    this.#restored = Promise.all([this.#restore().catch(() => {}), this.volumes.ready()]).then(() => this.#restoreContainers());
    // what running containers write to their volumes is saved every few seconds (a tab may go at any time)
    const autosave = setInterval(() => {
      if (deps.channel.closed) return clearInterval(autosave);
      const names = this.containers.list().filter((c) => c.state.status === "running").flatMap(volumeNames);
      if (names.length) void this.volumes.flush([...new Set(names)]).catch(() => {});
    }, AUTOSAVE_MS);
    (autosave as { unref?: () => void }).unref?.();
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

  /**
   * The containers and networks of an earlier engine come back; those whose
   * restart policy says so start again (Docker's daemon restart). A container
   * that cannot start (its image is gone) stays exited with the reason.
   */
  async #restoreContainers(): Promise<void> {
    const session = this.#d.session;
    if (session) this.volumes.adoptLoaded(session.session.volumes);
    const start = await this.#state?.restore(session ? { containers: session.session.containers, blobs: session.blobs } : undefined).catch((e: unknown) => {
      this.#d.onWarning?.(isBerthError(e) ? e : new BerthError(ErrorCode.internal, `Cannot read the kept containers back: ${e instanceof Error ? e.message : String(e)}`));
      return [];
    }) ?? [];
    if (session && this.containers.published().length) this.#d.onPorts?.(this.ports());
    for (const c of start) {
      await this.containers.start(c).catch((e: unknown) => {
        c.state.error = e instanceof Error ? e.message : String(e);
      });
    }
  }

  /**
   * Writes the records whose write is waiting (images, containers), not the
   * containers' or volumes' data, and waits for the saves under way (volumes,
   * containers): before a session is saved.
   * @throws BerthError storage-full
   */
  async settle(): Promise<void> {
    await this.#persist();
    await this.volumes.idle();
    await this.#state?.settle();
  }

  /**
   * What a saved session keeps of the daemon now (taken in the same moment as
   * the VM's state), and the bytes it refers to (the containers' logs);
   * undefined without a state store (nothing to restore into).
   */
  session(): { session: DaemonSession; blobs: Uint8Array[] } | undefined {
    if (!this.#state) return undefined;
    const blobs: Uint8Array[] = [];
    return { session: { containers: this.#state.session(blobs), networks: this.networks.session(), layers: this.layerStore.chains(), volumes: this.volumes.loaded() }, blobs };
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

  /**
   * Saves what is not saved yet: the image list and the volumes' data (the
   * engine calls it before the VM stops, the page on pagehide).
   * @throws BerthError storage-full
   */
  async flush(): Promise<void> {
    await this.#persist();
    await this.#state?.flush();
    await this.volumes.flush();
    await this.shares?.sync();
  }

  /**
   * Shows the user's directories in the guest at their guest paths (Docker
   * Desktop's file sharing), kept in sync both ways until the engine stops.
   * @throws BerthError invalid-parameter when one cannot be mounted
   */
  async share(specs: readonly ShareSpec[]): Promise<void> {
    for (const spec of specs) {
      this.shares ??= new ShareService(this.#d.files, (argv) => this.containers.guest(argv));
      await this.shares.add(spec);
    }
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
        let loaded = 0;
        let total = 0;
        for (const x of layers.values()) {
          loaded += x.loaded;
          total += x.total;
        }
        this.events.progress({ image: name, loaded, total });
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

  /**
   * Removes an image by name or ID (`DELETE /images/{name}`, `docker rmi`) with
   * Docker's rules: a name that is one of several tags is only untagged; an image
   * a container uses, or with several tags given by ID, needs `force` (never for
   * a running container's). Answers Docker's items, {Untagged} then {Deleted};
   * blobs are collected by the caller.
   * @throws BerthError image-not-found, container-wrong-state (Docker's "conflict: …")
   */
  removeImage(name: string, { force }: { force: boolean }): Array<{ Untagged?: string; Deleted?: string }> {
    // moby's rules and words (daemon/images/image_delete.go ImageDelete)
    const local = this.images.require(name, `remove image "${name}"`);
    const id12 = local.id.slice(7, 19);
    const conflict = (why: string): BerthError => new BerthError(ErrorCode.containerWrongState, `Cannot remove image "${name}": ${why}`);
    const users = this.containers.list().filter((c) => c.config.imageId === local.id);
    const running = users.find((c) => c.state.status === "running" || c.state.status === "paused" || c.state.status === "restarting");
    const tags = this.images.tagsOf(local);
    let ref: ReturnType<typeof parseReference> | undefined;
    try {
      const r = parseReference(name);
      ref = tags.find((t) => formatReference(t) === formatReference(r));
    } catch {
      ref = undefined;
    }
    const out: Array<{ Untagged?: string; Deleted?: string }> = [];
    if (ref) {
      // a tag: untagged (not alone when a container uses the image, unless forced); the image goes with its last tag, if no container uses it
      if (!force && tags.length === 1 && users[0]) {
        throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${users[0].shortId} is using its referenced image ${id12}`);
      }
      this.images.untag(ref);
      out.push({ Untagged: shortName(ref) });
      if (tags.length > 1 || users.length) return out;
    } else {
      // an ID: every tag goes with it, unless a container uses it (a running one even when forced) or, unforced, it has several tags
      if (running) throw conflict(`conflict: unable to delete ${id12} (cannot be forced) - image is being used by running container ${running.shortId}`);
      if (!force && users[0]) throw conflict(`conflict: unable to delete ${id12} (must be forced) - image is being used by stopped container ${users[0].shortId}`);
      if (!force && tags.length > 1) throw conflict(`conflict: unable to delete ${id12} (must be forced) - image is referenced in multiple repositories`);
      for (const t of tags) {
        this.images.untag(t);
        out.push({ Untagged: shortName(t) });
      }
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

  /** The tags of a repository (`docker pull -a`). @throws BerthError registry-* */
  /**
   * The manifest or index a full reference names, from its registry, without
   * pulling (`docker manifest inspect`); the digest wins over the tag, as docker/cli's.
   * @throws BerthError image-not-found, registry-unauthorized and the other registry codes
   */
  async fetchManifest(ref: string): Promise<{ mediaType: string; digest: string; size: number; bytes: Uint8Array }> {
    const r = parseReference(ref);
    const m = await this.#d.client.manifest(r.registry, r.repository, r.digest ?? r.tag ?? "latest", shortName(r));
    return { mediaType: m.mediaType, digest: m.digest, size: m.body.length, bytes: m.body };
  }

  /** A blob of the repository a reference names (an image's config), checked against its digest. */
  fetchBlob(ref: string, digest: string): Promise<Uint8Array> {
    const r = parseReference(ref);
    return this.#d.client.blob(r.registry, r.repository, digest, { what: shortName(r) });
  }

  listTags(registry: string, repository: string, action: string): Promise<string[]> {
    return this.#d.client.tags(registry, repository, action);
  }

  /** Forgets the credentials for a registry; true when there were some (`docker logout`). */
  logout(server: string): boolean {
    return this.#d.client.logout(server);
  }
}


/** A plain-text answer for the page's /port/<n>/ path when no container answers. */
function textResponse(status: number, text: string): WireResponse {
  return { status, statusText: "Bad Gateway", headers: [["Content-Type", "text/plain; charset=utf-8"]], body: new TextEncoder().encode(`${text}\n`) };
}
